// The profile reader: a profile with every field set (and every optional one null) reads back
// to the same file; malformed files are E4530 naming the file and the field.
#include <gtest/gtest.h>

#include <string>

#include "halo/mac/profile.hpp"
#include "halo/mac/profile_reader.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

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
        if (c != 3) w.dynamic_delay_ns = 0.5 + 0.0625 * static_cast<double>(c);  // one null
        w.data_delay_max_ns = 0.75;
        w.data_delay_p999_ns = 0.7;
        w.energy_fj = 10.0 + static_cast<double>(c);
        p.weights.push_back(w);
    }
    return p;
}

TEST(ProfileReader, FullProfileRoundTripsToTheSameText) {
    const MacProfile p = full_profile();
    const std::string text = profile_json(p);
    const MacProfile q = parse_profile_json(text, "p.json");
    EXPECT_EQ(profile_json(q), text);
    EXPECT_EQ(q.weights.size(), 16u);
    EXPECT_FALSE(q.weights[3].dynamic_delay_ns.has_value());
    EXPECT_EQ(q.weights[15].code, 15u);
    EXPECT_EQ(*q.weights[15].value, -1.0);
    EXPECT_EQ(q.accumulator_bits, 12);
}

TEST(ProfileReader, NullOptionalDesignFieldsStayEmpty) {
    MacProfile p = full_profile();
    p.arch.clear();
    p.activation_format.clear();
    p.accumulator_bits = 0;
    p.nominal_delay_ns.reset();
    p.transitions.reset();
    p.transition_set.clear();
    p.leakage_nw.reset();
    const std::string text = profile_json(p);
    EXPECT_EQ(profile_json(parse_profile_json(text, "p.json")), text);
}

Diagnostic diagnostic_of(const std::string& text) {
    try {
        parse_profile_json(text, "bad.json");
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "no error for " << text;
    return {};
}

TEST(ProfileReader, MalformedFilesNameFileAndField) {
    const auto not_json = diagnostic_of("{\"format\": ");
    EXPECT_EQ(not_json.code, "E4530");
    EXPECT_EQ(not_json.file, "bad.json");

    const auto wrong_format = diagnostic_of(R"({"format": "halo-tile-levels"})");
    EXPECT_EQ(wrong_format.place, "format");
    EXPECT_EQ(wrong_format.found, "\"halo-tile-levels\"");

    std::string text = profile_json(full_profile());
    const std::string code = "\"code\": \"0011\"";
    text.replace(text.find(code), code.size(), "\"code\": \"0x3\"");
    const auto bad_code = diagnostic_of(text);
    EXPECT_EQ(bad_code.place, "weights[3].code");
    EXPECT_EQ(bad_code.found, "0x3");

    std::string no_bits = profile_json(full_profile());
    const std::string bits = "\"weight_bits\": 4";
    no_bits.replace(no_bits.find(bits), bits.size(), "\"weight_bits\": \"four\"");
    const auto wrong_type = diagnostic_of(no_bits);
    EXPECT_EQ(wrong_type.place, "design.weight_bits");
    EXPECT_EQ(wrong_type.kind, ErrorKind::bad_input);
}

}  // namespace
}  // namespace halo::mac
