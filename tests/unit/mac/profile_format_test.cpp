// The MAC profile's one writer and one reader (mac/profile.hpp) agree, for a characterized
// profile and a GPU-measured one, with every field set or null, through a file as the Python
// package reads it; the reader names the file and field of bad input (E4050).
#include <unistd.h>

#include <filesystem>
#include <string>
#include <tuple>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"

#include "halo/mac/profile.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

MacProfile two_bit_profile() {
    MacProfile p;
    p.mac = "int2";
    p.arch = "yosys";
    p.weight_format = "int2";
    p.weight_bits = 2;
    p.activation_format = "int8";
    p.accumulator_bits = 12;
    p.top = "mac";
    p.netlist = "mac.json";
    p.liberty = "osu018.lib";
    p.library = "osu018_stdcells";
    p.nominal_voltage_v = 1.8;
    p.cells = 42;
    p.area_um2 = 1234.5;
    p.nominal_delay_ns = 3.25;
    p.static_analysis = true;
    p.dynamic_analysis = true;
    p.transitions = 64;
    p.transition_set = "sampled";
    p.seed = 7;
    for (std::uint64_t c = 0; c < 4; ++c) {
        ProfileWeight w;
        w.code = c;
        w.value = c >= 2 ? static_cast<double>(c) - 4 : static_cast<double>(c);
        w.static_delay_ns = 1.0 + 0.25 * static_cast<double>(c);
        w.dynamic_delay_ns = 0.9 + 0.25 * static_cast<double>(c);
        w.energy_fj = c == 0 ? std::optional<double>() : std::optional<double>(100.0 * static_cast<double>(c));
        p.weights.push_back(w);
    }
    p.leakage_nw = 5.5;
    return p;
}

void expect_same(const MacProfile& a, const MacProfile& b) {
    EXPECT_EQ(a.mac, b.mac);
    EXPECT_EQ(a.arch, b.arch);
    EXPECT_EQ(a.weight_format, b.weight_format);
    EXPECT_EQ(a.weight_bits, b.weight_bits);
    EXPECT_EQ(a.accumulator_bits, b.accumulator_bits);
    EXPECT_EQ(a.netlist, b.netlist);
    EXPECT_EQ(a.nominal_voltage_v, b.nominal_voltage_v);
    EXPECT_EQ(a.cells, b.cells);
    EXPECT_EQ(a.nominal_delay_ns, b.nominal_delay_ns);
    EXPECT_EQ(a.transitions, b.transitions);
    EXPECT_EQ(a.transition_set, b.transition_set);
    EXPECT_EQ(a.seed, b.seed);
    EXPECT_EQ(a.delay_model, b.delay_model);
    EXPECT_EQ(a.leakage_nw, b.leakage_nw);
    EXPECT_EQ(a.gpu.has_value(), b.gpu.has_value());
    ASSERT_EQ(a.weights.size(), b.weights.size());
    for (std::size_t i = 0; i < a.weights.size(); ++i) {
        EXPECT_EQ(a.weights[i].code, b.weights[i].code);
        EXPECT_EQ(a.weights[i].value, b.weights[i].value);
        EXPECT_EQ(a.weights[i].static_delay_ns, b.weights[i].static_delay_ns);
        EXPECT_EQ(a.weights[i].dynamic_delay_ns, b.weights[i].dynamic_delay_ns);
        EXPECT_EQ(a.weights[i].energy_fj, b.weights[i].energy_fj);
        EXPECT_EQ(a.weights[i].sm_mhz, b.weights[i].sm_mhz);
        EXPECT_EQ(a.weights[i].measured_as, b.weights[i].measured_as);
    }
}

TEST(ProfileFormat, CharacterizedProfileRoundTrips) {
    const auto p = two_bit_profile();
    const auto back = parse_profile(nlohmann::json::parse(profile_json(p)), "p.json");
    expect_same(p, back);
    // Writing what was read gives the same bytes: one writer, one reader, nothing lost.
    EXPECT_EQ(profile_json(back), profile_json(p));
}

TEST(ProfileFormat, GpuProfileRoundTrips) {
    auto p = two_bit_profile();
    p.mac = "gpu";
    p.gpu = GpuMeasurement{"550.1", 700, "4096x4096x4096", "int8", "popcount", 5, 2.0, 1.0};
    p.delay_model = "gpu-sm-clock-period";
    for (auto& w : p.weights) {
        w.sm_mhz = 1369;
        w.tops = 700;
        w.power_w = 690;
        w.measured_as = "popcount:1";
    }
    const auto j = nlohmann::json::parse(profile_json(p));
    EXPECT_EQ(j["analysis"]["measured"], true);
    EXPECT_EQ(j["design"]["driver"], "550.1");
    const auto back = parse_profile(j, "gpu.json");
    expect_same(p, back);
    ASSERT_TRUE(back.gpu.has_value());
    EXPECT_EQ(back.gpu->profile_mode, "popcount");
    EXPECT_EQ(back.gpu->repetitions, 5);
    EXPECT_EQ(profile_json(back), profile_json(p));
}

Diagnostic error_of(const nlohmann::json& j) {
    try {
        (void)parse_profile(j, "bad.json");
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "no error for " << j.dump();
    return {};
}

TEST(ProfileFormat, BadInputNamesFileAndField) {
    auto j = nlohmann::json::parse(profile_json(two_bit_profile()));
    auto d = error_of(nlohmann::json::array());
    EXPECT_EQ(d.code, "E4050");
    EXPECT_EQ(d.file, "bad.json");
    EXPECT_EQ(d.place, "format");
    EXPECT_EQ(d.kind, ErrorKind::bad_input);

    auto k = j;
    k["design"].erase("weight_bits");
    d = error_of(k);
    EXPECT_EQ(d.place, "design.weight_bits");
    EXPECT_EQ(d.found, "missing");

    k = j;
    k["weights"][1]["code"] = "101";  // three digits for a 2-bit port
    d = error_of(k);
    EXPECT_EQ(d.place, "weights[1].code");
    EXPECT_EQ(d.found, "101");

    k = j;
    k["weights"][2]["code"] = "01";  // repeats weights[1]
    d = error_of(k);
    EXPECT_EQ(d.place, "weights[2].code");
    EXPECT_EQ(d.message, "repeated weight code");

    k = j;
    k["weights"][0]["static_delay_ns"] = "fast";
    d = error_of(k);
    EXPECT_EQ(d.place, "weights[0].static_delay_ns");
    EXPECT_EQ(d.found, "\"fast\"");
}


// A 4-bit profile with every field the writer knows set, one dynamic delay null.
MacProfile full_profile() {
    MacProfile p;
    p.mac = "int4";
    p.arch = "booth4";
    p.weight_format = "int4";
    p.weight_bits = 4;
    p.activation_format = "int4";
    p.accumulator_bits = 12;
    p.top = "mac";
    p.netlist = "work/mac.json";
    p.liberty = "osu018.lib";
    p.library = "osu018_stdcells";
    p.nominal_voltage_v = 1.8;
    p.load_pf = 0.02;
    p.cells = 123;
    p.area_um2 = 4567.25;
    p.nominal_delay_ns = 2.5;
    p.static_analysis = true;
    p.dynamic_analysis = true;
    p.transitions = 200;
    p.transition_set = "sampled";
    p.seed = 7;
    p.leakage_nw = 12.5;
    for (std::uint64_t c = 0; c < 16; ++c) {
        ProfileWeight w;
        w.code = c;
        w.value = c < 8 ? static_cast<double>(c) : static_cast<double>(c) - 16;
        w.static_delay_ns = 1.0 + 0.125 * static_cast<double>(c);
        if (c != 3) w.dynamic_delay_ns = 0.5 + 0.0625 * static_cast<double>(c);
        w.data_delay_max_ns = 0.75;
        w.data_delay_p999_ns = 0.7;
        w.energy_fj = 10.0 + static_cast<double>(c);
        p.weights.push_back(w);
    }
    return p;
}

// The process's directory is removed at exit (ctest runs one test a process: without this each
// run left a directory in the temp dir); the files are the tests' own small JSON texts.
struct RemoveAtExit {
    std::filesystem::path dir;
    ~RemoveAtExit() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

std::filesystem::path temp_file(const std::string& name, const std::string& text) {
    const auto dir = std::filesystem::temp_directory_path() / ("halo_profile_format_" + std::to_string(::getpid()));
    static const RemoveAtExit remove_at_exit{dir};
    std::filesystem::create_directories(dir);
    const auto path = dir / name;
    write_file_atomic(path, text);
    return path;
}

TEST(ProfileFormat, FullProfileFileReadsBackToTheSameBytes) {
    const std::string text = profile_json(full_profile());
    const MacProfile q = read_profile(temp_file("full.json", text));
    EXPECT_EQ(profile_json(q), text);
    ASSERT_EQ(q.weights.size(), 16u);
    EXPECT_FALSE(q.weights[3].dynamic_delay_ns.has_value());
    EXPECT_EQ(q.weights[15].code, 15u);
    EXPECT_EQ(*q.weights[15].value, -1.0);
    EXPECT_EQ(q.weights[15].data_delay_p999_ns, 0.7);
    EXPECT_EQ(q.accumulator_bits, 12);
    EXPECT_EQ(q.load_pf, 0.02);
}

TEST(ProfileFormat, NullOptionalDesignFieldsStayEmpty) {
    MacProfile p = full_profile();
    p.arch.clear();
    p.activation_format.clear();
    p.accumulator_bits = 0;
    p.nominal_delay_ns.reset();
    p.transitions.reset();
    p.transition_set.clear();
    p.leakage_nw.reset();
    const std::string text = profile_json(p);
    const MacProfile q = read_profile(temp_file("nulls.json", text));
    EXPECT_EQ(profile_json(q), text);
    EXPECT_FALSE(q.nominal_delay_ns.has_value());
    EXPECT_FALSE(q.transitions.has_value());
    EXPECT_TRUE(q.arch.empty());
}

Diagnostic file_error_of(const std::string& name, const std::string& text) {
    const auto path = temp_file(name, text);
    try {
        (void)read_profile(path);
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "no error for " << text;
    return {};
}

TEST(ProfileFormat, BadFilesNameFileAndField) {
    auto d = file_error_of("not_json.json", "{\"format\": ");
    EXPECT_EQ(d.code, "E4050");
    EXPECT_EQ(d.file, temp_file("x.json", "").parent_path() / "not_json.json");
    EXPECT_EQ(d.kind, ErrorKind::bad_input);

    d = file_error_of("other.json", R"({"format": "halo-tile-levels"})");
    EXPECT_EQ(d.code, "E4050");
    EXPECT_EQ(d.place, "format");
    EXPECT_EQ(d.found, "\"halo-tile-levels\"");

    std::string text = profile_json(full_profile());
    const std::string code = "\"code\": \"0011\"";
    text.replace(text.find(code), code.size(), "\"code\": \"0x3\"");
    d = file_error_of("bad_code.json", text);
    EXPECT_EQ(d.place, "weights[3].code");
    EXPECT_EQ(d.found, "0x3");

    text = profile_json(full_profile());
    const std::string bits = "\"weight_bits\": 4";
    text.replace(text.find(bits), bits.size(), "\"weight_bits\": \"four\"");
    d = file_error_of("bad_bits.json", text);
    EXPECT_EQ(d.place, "design.weight_bits");
    EXPECT_EQ(d.kind, ErrorKind::bad_input);

    // Issue #17: a number too large for a double was an uncaught out_of_range (exit 3).
    d = file_error_of("huge.json", R"({"format": 1e99999})");
    EXPECT_EQ(d.code, "E4050");
    EXPECT_EQ(d.message, "MAC profile is not valid JSON");
}

TEST(ProfileFormat, CountsAreWholeNumbersInRange) {
    // A negative or huge count was cast to an integer (undefined behaviour); now E4050 at the field.
    const auto j = nlohmann::json::parse(profile_json(two_bit_profile()));
    for (const auto& [section, key, value] : {std::tuple{"design", "cells", -5.0}, std::tuple{"design", "cells", 1e300},
                                              std::tuple{"analysis", "seed", 2.5}, std::tuple{"design", "accumulator_bits", 4096.0}}) {
        auto k = j;
        k[section][key] = value;
        const auto d = error_of(k);
        EXPECT_EQ(d.code, "E4050");
        EXPECT_EQ(d.place, std::string(section) + "." + key);
        EXPECT_EQ(d.message, "profile count is not a whole number in range");
        EXPECT_EQ(d.found, nlohmann::json(value).dump());
    }
}

}  // namespace
}  // namespace halo::mac
