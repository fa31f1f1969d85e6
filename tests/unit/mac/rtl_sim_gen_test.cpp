// RTL of every built-in MAC x architecture simulated by Icarus Verilog against the C++
// reference: exhaustive (w, a) for the integer MACs, exhaustive plus random for FP.
#include <gtest/gtest.h>

#include <cstdlib>

#include "halo/mac/mac_table.hpp"
#include "halo/util/atomic_file.hpp"
#include "mac_sim_harness.hpp"
#include "mac_vectors.hpp"

namespace halo::mac::test {
namespace {

SimOutcome simulate_rtl(const MacSpec& s, MacArch arch, const std::vector<Vector>& v, const ScratchDir& dir) {
    write_file_atomic(dir.path / "mac.v", generate_verilog(s, arch));
    const int a_bits = s.activation_bits;
    return simulate({dir.path / "mac.v"}, s.weight_bits, a_bits, s.accumulator_bits, v, dir.path);
}

bool slow_enabled() { return std::getenv("HALO_SLOW_TESTS") != nullptr; }

class IntRtl : public ::testing::TestWithParam<std::tuple<const char*, MacArch>> {};

TEST_P(IntRtl, ExhaustiveWeightsAndActivationsMatchReference) {
    const auto& [name, arch] = GetParam();
    const MacSpec& s = find_mac(name);
    ScratchDir dir("rtl");
    const std::uint64_t top = 1ull << (s.accumulator_bits - 1);
    // 0, the most negative and the most positive acc (wrap both ways), and an odd mid value.
    const auto v = exhaustive_int(s, {0, top, top - 1, 0x5A5A5A5A5A5ull});
    const SimOutcome out = simulate_rtl(s, arch, v, dir);
    EXPECT_EQ(out.vectors, static_cast<long>(v.size())) << out.log;
    EXPECT_EQ(out.mismatches, 0) << out.log;
}

INSTANTIATE_TEST_SUITE_P(
    Mac, IntRtl,
    ::testing::Combine(::testing::Values("int8", "int8xu8", "int4"),
                       ::testing::Values(MacArch::yosys, MacArch::booth4, MacArch::array)),
    [](const auto& info) {
        std::string n = std::string(std::get<0>(info.param)) + "_" + std::string(arch_name(std::get<1>(info.param)));
        for (char& c : n)
            if (c == '-') c = '_';
        return n;
    });

TEST(IntRtl, WiderAccumulatorBooth) {
    const MacSpec s = with_accumulator_bits(find_mac("int4"), 20);
    ScratchDir dir("rtl");
    const auto v = exhaustive_int(s, {0, 1ull << 19, (1ull << 19) - 3});
    const SimOutcome out = simulate_rtl(s, MacArch::booth4, v, dir);
    EXPECT_EQ(out.vectors, static_cast<long>(v.size())) << out.log;
    EXPECT_EQ(out.mismatches, 0) << out.log;
}

// The harness must see a wrong design: corrupt two expected values and count them.
TEST(SimHarness, ReportsCorruptedExpectations) {
    const MacSpec& s = find_mac("int4");
    ScratchDir dir("rtl");
    auto v = exhaustive_int(s, {7});
    v[3].y ^= 1;
    v[200].y ^= 0x8000;
    const SimOutcome out = simulate_rtl(s, MacArch::booth4, v, dir);
    EXPECT_EQ(out.vectors, static_cast<long>(v.size()));
    EXPECT_EQ(out.mismatches, 2) << out.log;
}

class FpRtl : public ::testing::TestWithParam<const char*> {};

TEST_P(FpRtl, RandomVectorsMatchReference) {
    const MacSpec& s = find_mac(GetParam());
    ScratchDir dir("rtl");
    const auto v = random_fp(s, slow_enabled() ? 200000 : 20000, 1);
    const SimOutcome out = simulate_rtl(s, MacArch::yosys, v, dir);
    EXPECT_EQ(out.vectors, static_cast<long>(v.size())) << out.log;
    EXPECT_EQ(out.mismatches, 0) << out.log;
}

TEST_P(FpRtl, ExhaustiveFp8PairsWithZeroAndNearAccumulators) {
    const MacSpec& s = find_mac(GetParam());
    if (s.weight_bits != 8) GTEST_SKIP() << "exhaustive pairs only for 8-bit inputs";
    ScratchDir dir("rtl");
    std::vector<Vector> v;
    std::mt19937_64 rng(7);
    for (std::uint64_t w = 0; w < 256; ++w)
        for (std::uint64_t a = 0; a < 256; ++a) {
            const double p = input_value(s, w) * input_value(s, a);
            for (std::uint64_t acc : {std::uint64_t{0}, acc_bits_of(-p, s.accumulator_bits) ^ (rng() % 4)})
                v.push_back({w, a, acc, reference_y(s, w, a, acc)});
        }
    const SimOutcome out = simulate_rtl(s, MacArch::yosys, v, dir);
    EXPECT_EQ(out.vectors, static_cast<long>(v.size())) << out.log;
    EXPECT_EQ(out.mismatches, 0) << out.log;
}

INSTANTIATE_TEST_SUITE_P(Mac, FpRtl, ::testing::Values("fp8-e4m3-fp32", "fp8-e4m3-fp16", "bf16-fp32"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

}  // namespace
}  // namespace halo::mac::test
