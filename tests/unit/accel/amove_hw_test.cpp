// Amove hardware models: hand-computed single GEMMs on the tensor core, the design table, and
// properties of the workload runs (4-bit designs beat INT8; decode overlapped, never the bound).
#include <gtest/gtest.h>

#include "halo/accel/design_sim.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

TEST(AmoveHw, DesignTable) {
    EXPECT_DOUBLE_EQ(amove_design("amove-conservative").weight_bits, 5.0);  // 4 + 16/32 + 2/4
    EXPECT_DOUBLE_EQ(amove_design("amove-aggressive").weight_bits, 4.25);   // 4 + 16/128 + 2/16
    EXPECT_DOUBLE_EQ(amove_design("amove-aggressive").area_tc_pct, 1.62);
    EXPECT_DOUBLE_EQ(amove_design("amove-aggressive").area_array_pct, 1.13);
    try {
        amove_design("tender");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7080");
        EXPECT_NE(e.diagnostic().expected.find("olive"), std::string::npos);
    }
}

TEST(AmoveHw, OneGemmOnTheTensorCoreByHand) {
    DesignMachine m;
    TensorCoreConfig& tc = m.tensor_core;
    tc.sms = 1;
    tc.tensor_cores_per_sm = 1;
    tc.clock_ghz = 1.0;
    tc.int8_macs_per_core_cycle = 256;
    tc.dram_gbps = 1.0;  // 1 byte/ns
    WorkItem w;
    w.gemm = {"x", 64, 128, 32};  // M K N
    const auto r8 = simulate_design({w}, amove_design("int8"), m).total;
    const double macs = 64.0 * 128 * 32;
    EXPECT_DOUBLE_EQ(r8.compute_s, macs / 256 / 1e9);
    const double bytes8 = 64 * 128 + 128 * 32 + 64 * 32 * 2;
    EXPECT_DOUBLE_EQ(r8.memory_s, bytes8 / 1e9);
    EXPECT_DOUBLE_EQ(r8.seconds, std::max(r8.compute_s, r8.memory_s));
    EXPECT_DOUBLE_EQ(r8.energy.mac, macs * 0.3);
    EXPECT_DOUBLE_EQ(r8.energy.dram, bytes8 * 31.2);
    const auto ra = simulate_design({w}, amove_design("amove-conservative"), m).total;
    EXPECT_DOUBLE_EQ(ra.compute_s, macs / 512 / 1e9);
    const double bytes_a = (64 * 128 + 128 * 32) * 5.0 / 8 + 64 * 32 * 2;
    EXPECT_DOUBLE_EQ(ra.memory_s, bytes_a / 1e9);
    EXPECT_DOUBLE_EQ(ra.energy.rescale, macs / 4 * (3 * 2 * 0.03) + macs / 32 * 4 * (1.1 + 0.4));
    EXPECT_DOUBLE_EQ(ra.energy.decode, (64.0 * 128 + 128 * 32) / 4 * 1.5);
}

TEST(AmoveHw, WorkloadRunsOrderTheDesigns) {
    const auto work = transformer_workload(builtin_model("smollm2-135m"), Phase{Phase::Kind::prefill, 256, 1, 256});
    const DesignMachine tc;
    const auto i8 = simulate_design(work, amove_design("int8"), tc).total;
    const auto ag = simulate_design(work, amove_design("amove-aggressive"), tc).total;
    const auto co = simulate_design(work, amove_design("amove-conservative"), tc).total;
    EXPECT_LT(ag.seconds, i8.seconds);
    EXPECT_LE(ag.seconds, co.seconds);
    EXPECT_LT(ag.energy.total(), co.energy.total());
    EXPECT_LT(ag.decode_s, ag.compute_s);  // decoding hides under the MACs
    DesignMachine arr;
    arr.arch = DesignArch::systolic;
    arr.array.rows = arr.array.cols = 32;
    const auto s8 = simulate_design(work, amove_design("int8"), arr).total;
    const auto sa = simulate_design(work, amove_design("amove-aggressive"), arr).total;
    EXPECT_LT(sa.seconds, s8.seconds);
    EXPECT_EQ(sa.macs, s8.macs);
    EXPECT_LT(sa.decode_s, sa.compute_s);
}

}  // namespace
}  // namespace halo::accel
