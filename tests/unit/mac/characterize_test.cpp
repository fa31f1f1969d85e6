// The profile writer and the characterize orchestration: weight-port errors name the port and
// the netlist file, codes decode to values, the JSON/CSV/SVG files appear together.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "halo/mac/characterize.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

netlist::Netlist two_port_netlist() {
    netlist::Netlist nl;
    nl.top = "mac";
    nl.source_path = "mac_net.json";
    nl.net_names = {"0", "1", "w0", "w1", "y"};
    nl.ports = {{"w", netlist::PortDirection::input, {2, 3}}, {"y", netlist::PortDirection::output, {4}}};
    return nl;
}

TEST(CheckWeightPort, MissingPortNamesPortAndFile) {
    auto nl = two_port_netlist();
    try {
        check_weight_port(nl, "weight", 0);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4501");
        EXPECT_EQ(e.diagnostic().file, "mac_net.json");
        EXPECT_EQ(e.diagnostic().found, "weight");
        EXPECT_THAT(e.diagnostic().render(), ::testing::HasSubstr("mac_net.json"));
        EXPECT_EQ(e.exit_code(), 2);
    }
}

TEST(CheckWeightPort, OutputAndWrongWidthAreBadInput) {
    auto nl = two_port_netlist();
    try {
        check_weight_port(nl, "y", 0);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4502");
    }
    try {
        check_weight_port(nl, "w", 8);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4503");
        EXPECT_EQ(e.diagnostic().found, "2 bits");
        EXPECT_EQ(e.diagnostic().expected, "8 bits for the weight format");
    }
    EXPECT_NO_THROW(check_weight_port(nl, "w", 2));
}

TEST(CharacterizeDevice, UnknownDeviceAndGpuForStaticAloneAreRefusedBeforeAnyWork) {
    CharacterizeOptions o;
    o.netlist_json = "/nonexistent/never_read.json";  // the device is checked first
    o.device = "gpu";
    o.analysis = Analysis::both;
    try {
        characterize(o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4524");
        EXPECT_EQ(e.diagnostic().found, "gpu");
    }
    o.device = "cuda";
    o.analysis = Analysis::static_only;
    try {
        characterize(o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4525");
    }
}

TEST(DecodeWeight, TwosComplementAndUnsigned) {
    EXPECT_EQ(*decode_weight_value("int8", 8, 0x80), -128.0);
    EXPECT_EQ(*decode_weight_value("int8", 8, 0x7f), 127.0);
    EXPECT_EQ(*decode_weight_value("int4", 4, 0xf), -1.0);
    EXPECT_EQ(*decode_weight_value("uint6", 6, 0x3f), 63.0);
    EXPECT_EQ(code_string(0x80, 8), "10000000");
    EXPECT_EQ(code_string(5, 4), "0101");
}

TEST(Profile, WritesJsonCsvAndSvgTogether) {
    MacProfile p;
    p.weight_format = "int2";
    p.weight_bits = 2;
    p.top = "mac";
    p.library = "lib";
    p.static_analysis = true;
    for (std::uint64_t c = 0; c < 4; ++c)
        p.weights.push_back({c, decode_weight_value("int2", 2, c), 1.0 + 0.5 * static_cast<double>(c), {}, {}, {}, {}});
    auto dir = std::filesystem::temp_directory_path() / ("halo_profile_test_" + std::to_string(::getpid()));
    write_profile(p, dir / "profile.json");
    auto j = nlohmann::json::parse(read_file(dir / "profile.json"));
    EXPECT_EQ(j["format"], "halo-mac-profile");
    ASSERT_EQ(j["weights"].size(), 4u);
    EXPECT_EQ(j["weights"][3]["value"], -1.0);
    EXPECT_EQ(j["weights"][3]["code"], "11");
    EXPECT_EQ(j["weights"][3]["static_delay_ns"], 2.5);
    EXPECT_TRUE(j["weights"][3]["energy_fj"].is_null());
    EXPECT_TRUE(j["design"]["nominal_delay_ns"].is_null());
    auto csv = read_file(dir / "profile.csv");
    EXPECT_THAT(csv, ::testing::HasSubstr("\n-1,11,2.5,,,,\n"));
    auto svg = read_file(dir / "profile.svg");
    EXPECT_THAT(svg, ::testing::StartsWith("<svg"));
    EXPECT_THAT(svg, ::testing::HasSubstr("<polyline"));
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace halo::mac
