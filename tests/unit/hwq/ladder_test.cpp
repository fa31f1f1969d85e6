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

// voltage_step 0: every derived level at the nominal voltage, only the clock rises; level i's
// clock is the one its counts[i]-th fastest code meets, so it lists exactly those codes.
TEST(Ladder, FrequencyOnlyLevelsStayAtTheNominalVoltage) {
    const auto p = test::synthetic_int8_profile();
    LadderOptions o;
    o.voltage_step = 0;
    o.counts = {0, 128, 16};
    const auto L = build_ladder(p, o);
    ASSERT_EQ(L.levels.size(), 3u);
    for (const auto& lv : L.levels) EXPECT_DOUBLE_EQ(lv.voltage_v, 1.8);
    EXPECT_EQ(L.levels[0].values.size(), 256u);
    EXPECT_EQ(L.levels[1].values.size(), 128u);  // the non-negative codes: every negative one is slower
    EXPECT_EQ(L.levels[2].values.size(), 16u);   // the 16 fastest: 0, 8, ..., 120
    for (int v : L.levels[1].values) EXPECT_GE(v, 0);
    for (int v : L.levels[2].values) EXPECT_TRUE(v >= 0 && v % 8 == 0) << v;
    // Clocks from the delays themselves: the slowest listed code at V_nom with the guard band.
    EXPECT_NEAR(L.levels[0].freq_mhz, 1e3 / (5.5 * 1.05), 1e-9);
    EXPECT_NEAR(L.levels[1].freq_mhz, 1e3 / ((4.5 + 0.007) * 1.05), 1e-9);  // slowest non-negative: v % 8 == 7
    EXPECT_LT(L.levels[1].freq_mhz, L.levels[2].freq_mhz);
    for (std::size_t l = 0; l < 3; ++l)
        for (int v : L.levels[l].values) EXPECT_TRUE(L.meets(v, l)) << l << " " << v;
}

// Voltage factors per derived level: frequency-only levels (factor 1) below DVFS levels in one
// ladder; a factor list of the wrong length or a non-positive factor is refused.
TEST(Ladder, VoltageFactorsPerDerivedLevel) {
    const auto p = test::synthetic_int8_profile();
    LadderOptions o;
    o.counts = {0, 128, 16, 9};
    o.voltage_factors = {1, 1, 1.1, 1.2};
    const auto L = build_ladder(p, o);
    ASSERT_EQ(L.levels.size(), 4u);
    EXPECT_DOUBLE_EQ(L.levels[0].voltage_v, 1.8);
    EXPECT_DOUBLE_EQ(L.levels[1].voltage_v, 1.8);
    EXPECT_NEAR(L.levels[2].voltage_v, 1.98, 1e-12);
    EXPECT_NEAR(L.levels[3].voltage_v, 2.16, 1e-12);
    EXPECT_EQ(L.levels[1].values.size(), 128u);
    EXPECT_EQ(L.levels[2].values.size(), 16u);
    EXPECT_EQ(L.levels[3].values.size(), 9u);
    for (std::size_t l = 1; l < 4; ++l) EXPECT_LT(L.levels[l - 1].freq_mhz, L.levels[l].freq_mhz);
    // The same levels as the default ladder's L1/L2 (step 0.1) where the counts agree.
    LadderOptions d;
    const auto D = build_ladder(p, d);
    EXPECT_DOUBLE_EQ(L.levels[2].freq_mhz, D.levels[1].freq_mhz);
    EXPECT_DOUBLE_EQ(L.levels[3].freq_mhz, D.levels[2].freq_mhz);
    o.voltage_factors = {1, 1};
    EXPECT_THAT(message_of([&] { build_ladder(p, o); }), ::testing::HasSubstr("E9085"));
    o.voltage_factors = {1, 1, 0, 1.2};
    EXPECT_THAT(message_of([&] { build_ladder(p, o); }), ::testing::HasSubstr("E9086"));
    o.voltage_factors = {1, 1, 0.2, 1.2};  // 0.36 V is below the threshold voltage
    EXPECT_THAT(message_of([&] { build_ladder(p, o); }), ::testing::HasSubstr("E9002"));
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
