// The fast static sweep (timing/static_sweep_engine.hpp) on the built-in BF16 MAC (Yosys, OSU
// 0.18 um, ~3,100 cells): every code's delay equals the plain reference (each code evaluated in
// full) exactly, on a sample of codes here and on all 65,536 in the Slow test.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/mac/mac_table.hpp"
#include "halo/mac/yosys_driver.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/timing/static_sweep.hpp"
#include "halo/timing/static_sweep_engine.hpp"
#include "mac_sim_harness.hpp"

namespace fs = std::filesystem;

namespace halo::mac::test {
namespace {

const fs::path kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

struct Bf16Mac {
    liberty::Library lib;
    netlist::Netlist nl;
};

// Synthesized once per test binary run.
const Bf16Mac* bf16_mac() {
    static std::unique_ptr<Bf16Mac> mac = []() -> std::unique_ptr<Bf16Mac> {
        if (!fs::exists(kOsu018)) return nullptr;
        ScratchDir dir("bf16-sweep");
        const SynthResult r = synthesize(find_mac("bf16-fp32"), MacArch::yosys, kOsu018, dir.path / "synth");
        auto m = std::make_unique<Bf16Mac>();
        m->lib = liberty::read_liberty(kOsu018);
        m->nl = netlist::read_yosys_json(r.netlist_json, "mac", m->lib);
        return m;
    }();
    return mac.get();
}

// Number of codes whose delay differs from the reference; also checks that most are nonzero.
std::size_t count_differing(const std::vector<std::uint64_t>& codes, unsigned threads) {
    const Bf16Mac* m = bf16_mac();
    timing::StaticTimer timer(m->nl, {});
    const std::vector<double> got = timing::static_delay_sweep(timer, "w", codes, threads);
    const std::vector<double> want = timing::reference_static_delay_sweep(timer, "w", codes, 2);
    std::size_t differ = 0, nonzero = 0;
    for (std::size_t i = 0; i < codes.size(); ++i) {
        differ += got[i] != want[i];
        nonzero += want[i] > 0;
    }
    EXPECT_GT(nonzero, codes.size() / 2);
    return differ;
}

TEST(StaticSweepBf16, EqualsReferenceOnSampledCodes) {
    if (bf16_mac() == nullptr) GTEST_SKIP() << "osu018 missing";
    // Special values (zeros, infinities, NaNs, subnormals, extremes) and random codes in random
    // order, with duplicates; the sweep visits them in its own order.
    std::vector<std::uint64_t> codes = {0x0000, 0x8000, 0x7F80, 0xFF80, 0x7FC0, 0xFFFF, 0x0001, 0x807F,
                                        0x3F80, 0xBF80, 0x7F7F, 0x0080, 0x3F80, 0x0000};
    std::mt19937_64 rng(11);
    for (int i = 0; i < 600; ++i) codes.push_back(rng() & 0xFFFF);
    EXPECT_EQ(count_differing(codes, 2), 0u);
    EXPECT_EQ(count_differing(codes, 1), 0u);
}

// The engine's measured order: the cheapest bits change most often. On this MAC a mantissa
// bit reaches most of the multiplier, the sign bit a few gates.
TEST(StaticSweepBf16, CheapBitsFlipMostOften) {
    const Bf16Mac* m = bf16_mac();
    if (m == nullptr) GTEST_SKIP() << "osu018 missing";
    timing::StaticTimer timer(m->nl, {});
    const timing::StaticSweepEngine engine(timer, "w");
    ASSERT_EQ(engine.bit_order().size(), 16u);
    for (std::size_t k = 1; k < 16; ++k)
        EXPECT_LE(engine.bit_cost()[engine.bit_order()[k - 1]], engine.bit_cost()[engine.bit_order()[k]]);
    EXPECT_LT(engine.bit_cost()[15], engine.bit_cost()[0]);  // sign bit cheaper than the mantissa LSB
    EXPECT_GT(engine.bit_cost()[0], 0.0);
}

TEST(StaticSweepBf16, SlowEqualsReferenceOnEveryCode) {
    if (!std::getenv("HALO_SLOW_TESTS")) GTEST_SKIP() << "set HALO_SLOW_TESTS=1 (ctest -L slow)";
    if (bf16_mac() == nullptr) GTEST_SKIP() << "osu018 missing";
    EXPECT_EQ(count_differing(timing::all_codes(16), 2), 0u);
}

}  // namespace
}  // namespace halo::mac::test
