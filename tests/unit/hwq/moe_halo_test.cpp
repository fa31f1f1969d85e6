// HALO on a mixture-of-experts model (issue 14): every expert's gate, up and down is tiled and
// assigned like a dense linear, from that expert's own routed-token Gram (checked against
// quantize_linear_halo called directly on the expert with statistics captured independently),
// per layer and with the model-wide plan (which covers the experts' tiles), with Fisher
// sensitivity from the MoE backward pass; the tile levels name the simulator's expert GEMMs and
// only the active experts are priced; an expert no calibration token reached is refused.
#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "../model/forward_tiny_model.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/calibration.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

using model::LinearKind;

model::ModelWeights tiny_moe(unsigned seed = 7) {
    model::ModelConfig c = model::testing::tiny_config();  // d 16, d_ff 24, 2 blocks
    model::apply_architecture(model::architecture_row("mixtral"), c);
    c.n_experts = 4;
    c.n_experts_used = 2;
    return model::testing::tiny_model(c, seed);
}

std::vector<std::vector<std::int32_t>> samples() {
    std::vector<std::vector<std::int32_t>> s;
    for (int i = 0; i < 4; ++i) {
        std::vector<std::int32_t> t;
        for (int j = 0; j < 16; ++j) t.push_back((i * 7 + j * 3 + j * j) % 11);
        s.push_back(t);
    }
    return s;
}

HaloOptions options() {
    HaloOptions o;
    o.tile_k = 8, o.tile_n = 8;  // d 16 and d_ff 24: whole tiles
    o.sparse.salient_fraction = 0.01;
    return o;
}

std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().code + " " + e.diagnostic().render();
    }
    return "no error";
}

// Block 0's experts quantized directly, from statistics captured on the unquantized model
// (block 0's inputs do not depend on any quantized weight).
void expect_block0_experts_equal_direct_calls(const model::ModelWeights& original, const HaloModelResult& r,
                                              const Ladder& L, const HaloOptions& o, const model::FisherDiagonal* fisher) {
    quant::LayerwiseSource src(original, samples(), 1);
    (void)src.capture(0, {.gram = true, .channel_stats = false});
    const auto stats = src.take_expert_stats();
    ASSERT_EQ(stats.size(), 4u);
    int checked = 0;
    for (std::size_t i = 0; i < r.model.linears.size(); ++i) {
        const auto& rec = r.model.linears[i];
        if (rec.layer != 0 || rec.expert < 0) continue;
        const auto e = static_cast<std::size_t>(rec.expert);
        const auto& st = stats[e][model::ExpertWeights::slot(rec.kind)];
        EXPECT_GT(st.tokens, 0);
        CodebookRegistry books;
        const auto want = quantize_linear_halo(original.layers[0].experts[e][rec.kind], st.gram, st.tokens,
                                               fisher ? &fisher->at(0, rec.kind, rec.expert) : nullptr, L, o, books, "direct");
        EXPECT_EQ(rec.tensor.decode().data, want.tensor.decode().data) << "expert " << e << " " << model::linear_name(rec.kind);
        EXPECT_EQ(r.linears[i].assignment.level, want.assignment.level);
        ++checked;
    }
    EXPECT_EQ(checked, 12);
}

TEST(MoeHalo, EveryExpertLinearIsTiledAndAssignedFromItsOwnTokens) {
    const model::ModelWeights original = tiny_moe();
    model::ModelWeights w = original;
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    const HaloOptions o = options();
    quant::LayerwiseSource src(w, samples(), 1);
    const auto r = quantize_model_halo(w, L, o, &src, nullptr, {});
    ASSERT_EQ(r.model.linears.size(), 2u * (4 + 12));
    EXPECT_EQ(linear_count(w), r.model.linears.size());
    std::set<std::tuple<int, int, int>> seen;
    std::int64_t tiles = 0;
    for (const auto& rec : r.model.linears) {
        EXPECT_TRUE(seen.insert({rec.layer, rec.expert, static_cast<int>(rec.kind)}).second);
        EXPECT_EQ(rec.expert >= 0, model::is_expert_kind(rec.kind));
        tiles += static_cast<std::int64_t>(rec.tensor.tiles.level.size());
        if (rec.expert < 0) continue;
        EXPECT_GE(rec.output_error, 0.0);  // a Gram of the expert's own inputs
        const auto& now = w.layers[static_cast<std::size_t>(rec.layer)].experts[static_cast<std::size_t>(rec.expert)][rec.kind];
        EXPECT_EQ(rec.tensor.decode().data, now.data);  // replaced in place
        EXPECT_EQ(rec.tensor.tiles.level.size(), rec.kind == LinearKind::ffn_down ? 2u * 3u : 3u * 2u);  // 24x16 / 16x24 in 8x8
    }
    std::int64_t counted = 0;
    for (auto n : r.tiles_per_level) counted += n;
    EXPECT_EQ(counted, tiles);
    expect_block0_experts_equal_direct_calls(original, r, L, o, nullptr);
}

TEST(MoeHalo, ModelWidePlanCoversTheExperts) {
    const model::ModelWeights original = tiny_moe();
    model::ModelWeights w = original;
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o = options();
    o.scope = AssignScope::model;
    o.level_shares = {0.25, 0.5, 0.25};
    quant::LayerwiseSource fp(w, samples(), 1);
    const auto plan = plan_model_wide(w, L, o, &fp, nullptr, {});
    ASSERT_EQ(plan.levels.size(), 32u);
    quant::LayerwiseSource src(w, samples(), 1);
    const auto r = quantize_model_halo(w, L, o, &src, nullptr, {}, &plan);
    ASSERT_EQ(r.model.linears.size(), 32u);
    std::set<int> expert_levels;
    for (std::size_t i = 0; i < r.model.linears.size(); ++i) {
        const auto& rec = r.model.linears[i];
        EXPECT_EQ(std::vector<int>(rec.tensor.tiles.level.begin(), rec.tensor.tiles.level.end()), plan.levels[i]);
        if (rec.expert >= 0) expert_levels.insert(rec.tensor.tiles.level.begin(), rec.tensor.tiles.level.end());
    }
    EXPECT_GT(expert_levels.size(), 1u);  // the shares reach the experts' tiles too
}

TEST(MoeHalo, FisherSensitivityUsesEachExpertsOwnEntries) {
    const model::ModelWeights original = tiny_moe();
    const model::FisherDiagonal fisher = model::fisher_diagonal(original, samples(), 1);
    model::ModelWeights w = original;
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o = options();
    o.sensitivity = SensitivitySource::fisher;
    quant::LayerwiseSource src(w, samples(), 1);
    const auto r = quantize_model_halo(w, L, o, &src, &fisher, {});
    ASSERT_EQ(r.model.linears.size(), 32u);
    expect_block0_experts_equal_direct_calls(original, r, L, o, &fisher);
}

TEST(MoeHalo, TileLevelsPriceOnlyTheActiveExperts) {
    model::ModelWeights w = tiny_moe();
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    quant::LayerwiseSource src(w, samples(), 1);
    const auto r = quantize_model_halo(w, L, options(), &src, nullptr, {});
    const auto tl = accel::parse_tile_levels(accel::tile_levels_json(tile_levels_of(r, w.config, "tiny moe")), "t");
    EXPECT_EQ(tl.layers.size(), 32u);
    accel::SystolicOptions so;
    so.array.rows = so.array.cols = 8;
    so.dvfs = dvfs_table(L);
    so.dvfs.switch_penalty_ns = 0;
    for (const auto& ph : {accel::Phase{accel::Phase::Kind::prefill, 32, 1, 32}, accel::Phase{accel::Phase::Kind::decode, 1, 1, 8}}) {
        auto work = accel::transformer_workload(w.config, ph);
        accel::attach_tile_levels(work, w.config, tl, "t");
        int expert_gemms = 0;
        for (const auto& it : work)
            if (it.gemm.name.find("_exps.") != std::string::npos) {
                EXPECT_TRUE(it.tiles.has_value()) << it.gemm.name;
                ++expert_gemms;
            }
        // Prefill: all 4 experts of both blocks run; decode of one token: its top-2 only.
        EXPECT_EQ(expert_gemms, ph.kind == accel::Phase::Kind::prefill ? 2 * 4 * 3 : 2 * 2 * 3);
        const auto run = accel::simulate_systolic(work, so);
        const auto base = accel::simulate_systolic(accel::baseline_workload(work), so);
        EXPECT_LE(run.total.time_s, base.total.time_s);
    }
}

TEST(MoeHalo, AnExpertNoTokenReachedIsRefusedWithCalibration) {
    model::ModelWeights w = tiny_moe();
    for (auto& l : w.layers) std::fill(l.router.data.begin(), l.router.data.end(), 0.0f);  // ties: experts 0, 1 always
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    auto copy = w;
    quant::LayerwiseSource src(copy, samples(), 1);
    const std::string err = code_of([&] { (void)quantize_model_halo(copy, L, options(), &src, nullptr, {}); });
    EXPECT_EQ(err.rfind("E9081", 0), 0u) << err;
    EXPECT_NE(err.find("blk.0.ffn_*_exps expert 2"), std::string::npos) << err;
    // Without calibration every linear is rounded alike (w^2 sensitivity), experts included.
    const auto r = quantize_model_halo(w, L, options(), nullptr, nullptr, {});
    EXPECT_EQ(r.model.linears.size(), 32u);
}

}  // namespace
}  // namespace halo::hwq
