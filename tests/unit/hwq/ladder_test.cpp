#include <algorithm>
#include <fstream>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "halo/hwq/ladder.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().code + ": " + e.what();
    }
    return "no error";
}

TEST(Ladder, EveryCodeAssignedToALevelMeetsItsTiming) {
    const auto p = test::synthetic_int8_profile();
    LadderOptions o;
    o.guard_band = 0.07;
    const auto L = build_ladder(p, o);
    ASSERT_EQ(L.levels.size(), 3u);
    for (std::size_t l = 0; l < L.levels.size(); ++l) {
        const auto& lv = L.levels[l];
        for (const auto& w : p.weights) {
            const int v = static_cast<int>(*w.value);
            // Independent restatement of the timing rule.
            const double f_nom = 1e3 / (*w.static_delay_ns * 1.07);
            const double k = [&](double V) { return std::pow(V - 0.5, 1.3) / V; }(lv.voltage_v) /
                             (std::pow(1.8 - 0.5, 1.3) / 1.8);
            const bool meets = f_nom * k >= lv.freq_mhz * (1 - 1e-12);
            const bool listed = std::binary_search(lv.values.begin(), lv.values.end(), v);
            EXPECT_EQ(meets, listed) << "level " << l << " value " << v;
        }
    }
    // Derived counts: all codes at L0, the 16 and 9 fastest at L1 / L2.
    EXPECT_EQ(L.levels[0].values.size(), 256u);
    EXPECT_EQ(L.levels[1].values.size(), 16u);
    EXPECT_EQ(L.levels[2].values.size(), 9u);
    EXPECT_LT(L.levels[0].freq_mhz, L.levels[1].freq_mhz);
    EXPECT_LT(L.levels[1].freq_mhz, L.levels[2].freq_mhz);
    // L0 is the nominal point: the slowest code at V_nom with the guard band.
    EXPECT_NEAR(L.levels[0].freq_mhz, 1e3 / (5.5 * 1.07), 1e-9);
    EXPECT_DOUBLE_EQ(L.levels[0].voltage_v, 1.8);
    for (int v : L.levels[2].values) EXPECT_TRUE(v >= 0 && v % 8 == 0) << v;
}

TEST(Ladder, GivenLevelsAndErrors) {
    const auto p = test::synthetic_int8_profile();
    LadderOptions o;
    o.levels = parse_levels("1.8:0.15,1.8:0.24");
    const auto L = build_ladder(p, o);
    ASSERT_EQ(L.levels.size(), 2u);
    EXPECT_DOUBLE_EQ(L.levels[1].freq_mhz, 240.0);
    // 260 MHz with the 5 % guard band needs delay <= 3.66 ns: none at 1.8 V.
    o.levels = parse_levels("1.8:0.15,1.8:0.26");
    EXPECT_THAT(message_of([&] { build_ladder(p, o); }), ::testing::HasSubstr("E9007"));
    EXPECT_THAT(message_of([&] { build_ladder(p, o); }), ::testing::HasSubstr("no weight code meets level 1"));
    EXPECT_THAT(message_of([] { parse_levels("1.0-1.9"); }), ::testing::HasSubstr("E9003"));
    EXPECT_THAT(message_of([] { parse_levels("1.0:-1"); }), ::testing::HasSubstr("E9003"));
    LadderOptions bad;
    bad.expect_format = "int4";
    EXPECT_THAT(message_of([&] { build_ladder(p, bad); }), ::testing::HasSubstr("E9004"));
    auto p4 = p;
    p4.weights.resize(16);
    p4.weight_bits = 4;
    p4.weight_format = "int8";
    EXPECT_THAT(message_of([&] { build_ladder(p4, {}); }), ::testing::HasSubstr("E9004"));
    auto pd = p;
    pd.weights[3].static_delay_ns.reset();
    EXPECT_THAT(message_of([&] { build_ladder(pd, {}); }), ::testing::HasSubstr("no static delay for code 3"));
    EXPECT_THAT(message_of([] { timing_field("slow"); }), ::testing::HasSubstr("E9001"));
    VoltageModel vm;
    EXPECT_THAT(message_of([&] { vm.speed(0.4); }), ::testing::HasSubstr("E9002"));
}

// The checked-in osu018 INT8 oracle (OpenSTA, per weight): the fastest level's codes are
// non-negative multiples of 8 and no negative code reaches the middle level.
TEST(Ladder, Osu018OracleFastCodesAreNonNegativeMultiplesOf8) {
    std::ifstream in(std::string(HALO_SHARED_DIR) + "/reference/opensta-int8-mac/per_weight_delay_ns.txt");
    ASSERT_TRUE(in.good());
    mac::MacProfile p;
    p.weight_format = "int8", p.weight_bits = 8, p.nominal_voltage_v = 1.8;
    int v = 0;
    double d = 0;
    while (in >> v >> d) {
        mac::ProfileWeight w;
        w.code = static_cast<std::uint64_t>(static_cast<std::uint8_t>(static_cast<std::int8_t>(v)));
        w.value = v;
        w.static_delay_ns = d;
        p.weights.push_back(w);
    }
    std::sort(p.weights.begin(), p.weights.end(), [](const auto& a, const auto& b) { return a.code < b.code; });
    ASSERT_EQ(p.weights.size(), 256u);
    const auto L = build_ladder(p, {});
    for (int x : L.levels[2].values) EXPECT_TRUE(x >= 0 && x % 8 == 0) << x;
    for (int x : L.levels[1].values) EXPECT_GE(x, 0);
    EXPECT_EQ(L.levels[2].values.size(), 9u);
}

}  // namespace
}  // namespace halo::hwq
