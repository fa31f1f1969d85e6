// Mixture-of-experts workloads: the simulator counts only the active experts' work (top-k of E
// per token, spread evenly over the experts) plus the router, never all E experts.
#include <gtest/gtest.h>

#include <numeric>

#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

model::ModelConfig moe(int experts, int used) {
    model::ModelConfig c = builtin_model("tiny");  // 2 blocks, d 64, d_ff 160
    c.n_experts = experts;
    c.n_experts_used = used;
    return c;
}

std::int64_t macs(const std::vector<WorkItem>& w, const std::string& part = "") {
    std::int64_t n = 0;
    for (const auto& it : w)
        if (part.empty() || it.gemm.name.find(part) != std::string::npos) n += it.gemm.M * it.gemm.K * it.gemm.N * it.count;
    return n;
}

TEST(MoeWorkload, PrefillCountsTopKOfEExperts) {
    const std::int64_t L = 100, d = 64, ff = 160;
    Phase ph;
    ph.seq_len = L;
    const auto dense = transformer_workload(builtin_model("tiny"), ph);
    const auto w = transformer_workload(moe(8, 2), ph);
    // Per block: the router (L x d -> 8) and 2 of 8 experts' SwiGLU per token.
    EXPECT_EQ(macs(w, "ffn_gate_inp"), 2 * L * d * 8);
    EXPECT_EQ(macs(w, "_exps."), 2 * (2 * L) * 3 * d * ff);
    EXPECT_EQ(macs(w, "_exps."), 2 * macs(dense, "ffn_"));  // top-2: twice one dense MLP, not 8 times
    EXPECT_EQ(macs(w) - macs(w, "ffn_"), macs(dense) - macs(dense, "ffn_"));  // attention and head unchanged
    // 200 (token, expert) pairs over 8 experts: 25 rows each.
    for (const auto& it : w)
        if (it.gemm.name.find("_exps.") != std::string::npos) {
            EXPECT_EQ(it.gemm.M, 25);
        }
    EXPECT_EQ(w[6].gemm.name, "blk.0.ffn_gate_inp");
    EXPECT_EQ(w[7].gemm.name, "blk.0.ffn_gate_exps.0");
    EXPECT_EQ(w[9].gemm.name, "blk.0.ffn_down_exps.0");
    EXPECT_EQ(w[9].gemm.K, ff);
    // The simulator's MAC total is the workload's: top-2 of 8 costs less time than 8 of 8.
    SystolicOptions so;
    const SimResult top2 = simulate_systolic(w, so);
    const SimResult all8 = simulate_systolic(transformer_workload(moe(8, 8), ph), so);
    EXPECT_EQ(top2.total.macs, macs(w));
    EXPECT_LT(top2.total.time_s, all8.total.time_s);
}

TEST(MoeWorkload, DecodeSkipsExpertsWithoutRows) {
    EXPECT_EQ(even_expert_rows(3, 8, 2), (std::vector<std::int64_t>{1, 1, 1, 1, 1, 1, 0, 0}));
    const auto rows = even_expert_rows(1001, 7, 3);
    EXPECT_EQ(std::accumulate(rows.begin(), rows.end(), std::int64_t{0}), 3003);
    Phase ph;
    ph.kind = Phase::Kind::decode;
    ph.batch = 3;
    ph.context = 50;
    const auto w = transformer_workload(moe(8, 2), ph);
    int experts = 0;
    for (const auto& it : w)
        if (it.gemm.name.rfind("blk.0.ffn_gate_exps.", 0) == 0) ++experts;
    EXPECT_EQ(experts, 6);
}

TEST(MoeWorkload, TopKAboveTheExpertCountIsRefused) {
    try {
        (void)transformer_workload(moe(4, 5), Phase{});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7046");
        EXPECT_EQ(e.exit_code(), 2);
    }
}

}  // namespace
}  // namespace halo::accel
