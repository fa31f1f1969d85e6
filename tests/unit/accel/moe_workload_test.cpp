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

// Tile levels of every expert (HALO quantizes all of them): attached to the experts the
// workload runs; an expert no token reaches in this phase has no GEMM and its tiles cost
// nothing, yet its name and grid are still checked against the model.
TEST(MoeWorkload, TileLevelsOfIdleExpertsAreCheckedButNotPriced) {
    const model::ModelConfig c = moe(8, 2);  // d 64, d_ff 160
    ModelTileLevels lv;
    lv.model_name = "tiny moe";
    lv.n_layers = c.n_layers, lv.d_model = c.d_model, lv.d_ff = c.d_ff, lv.vocab_size = c.vocab_size;
    const auto tiles = [](std::int64_t K, std::int64_t N, int level) {
        TileLevels t;
        t.tile_rows = t.tile_cols = 32;
        t.k_tiles = (K + 31) / 32;
        t.n_tiles = (N + 31) / 32;
        t.level.assign(static_cast<std::size_t>(t.k_tiles * t.n_tiles), level);
        return t;
    };
    for (int b = 0; b < 2; ++b)
        for (int e = 0; e < 8; ++e) {
            const std::string p = "blk." + std::to_string(b) + ".ffn_";
            lv.layers.emplace_back(p + "gate_exps." + std::to_string(e), tiles(64, 160, 2));
            lv.layers.emplace_back(p + "up_exps." + std::to_string(e), tiles(64, 160, 2));
            lv.layers.emplace_back(p + "down_exps." + std::to_string(e), tiles(160, 64, 2));
        }
    Phase ph;
    ph.kind = Phase::Kind::decode;
    ph.batch = 1;  // one token, top-2: experts 0 and 1 run, 2..7 idle
    ph.context = 16;
    auto work = transformer_workload(c, ph);
    attach_tile_levels(work, c, lv, "levels.json");
    int tiled = 0;
    for (const auto& it : work)
        if (it.gemm.name.find("_exps.") != std::string::npos) {
            ASSERT_TRUE(it.tiles.has_value()) << it.gemm.name;
            ++tiled;
        }
    EXPECT_EQ(tiled, 2 * 2 * 3);  // 2 blocks x 2 active experts x gate/up/down
    // Pricing: the same result whatever level the idle experts' tiles carry.
    SystolicOptions so;
    so.array.rows = so.array.cols = 32;  // the tiles' size
    const SimResult a = simulate_systolic(work, so);
    for (auto& [name, t] : lv.layers)
        if (name.find("_exps.7") != std::string::npos) std::fill(t.level.begin(), t.level.end(), 0);
    auto work2 = transformer_workload(c, ph);
    attach_tile_levels(work2, c, lv, "levels.json");
    const SimResult b = simulate_systolic(work2, so);
    EXPECT_EQ(a.total.cycles, b.total.cycles);
    EXPECT_DOUBLE_EQ(a.total.energy.total_j(), b.total.energy.total_j());
    // ... while an active expert's levels do change the price (the control).
    for (auto& [name, t] : lv.layers)
        if (name.find("_exps.0") != std::string::npos) std::fill(t.level.begin(), t.level.end(), 0);
    auto work3 = transformer_workload(c, ph);
    attach_tile_levels(work3, c, lv, "levels.json");
    EXPECT_NE(simulate_systolic(work3, so).total.time_s, b.total.time_s);
    // An expert the model does not have, and an idle expert's grid that does not fit: E7044.
    const auto expect_e7044 = [&](const ModelTileLevels& bad, const std::string& fragment) {
        auto w = transformer_workload(c, ph);
        try {
            attach_tile_levels(w, c, bad, "levels.json");
            ADD_FAILURE() << "no error";
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E7044");
            EXPECT_NE(e.diagnostic().render().find(fragment), std::string::npos) << e.diagnostic().render();
        }
    };
    ModelTileLevels extra = lv;
    extra.layers.emplace_back("blk.0.ffn_up_exps.8", tiles(64, 160, 0));
    expect_e7044(extra, "blk.0.ffn_up_exps.8");
    ModelTileLevels wrong = lv;
    wrong.layers.back().second = tiles(64, 160, 0);  // blk.1.ffn_down_exps.7 is 160 x 64
    expect_e7044(wrong, "blk.1.ffn_down_exps.7");
}

}  // namespace
}  // namespace halo::accel
