// SmoothQuant on a mixture-of-experts block (smoothquant.hpp): the shared gate/up factor and each
// expert's own down factor against a plain computation from the reference forward's FFN inputs
// (every token's FFN-norm output, the experts the router picks, act(gate h) * up h in double);
// the fold is exact (the smoothed FP model gives the same logits and routes the same way); the
// whole quantize run smooths, quantizes every expert, and its directory restores the router.
#include <gtest/gtest.h>

#include <cmath>

#include "../model/forward_tiny_model.hpp"
#include "../model/gguf_test_util.hpp"  // ScratchDir
#include "halo/model/architecture.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/moe.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/smoothquant.hpp"

namespace halo::quant {
namespace {

using model::LinearKind;
using model::testing::Vec;

constexpr float kAlpha = 0.5f;

model::ModelWeights tiny_moe(unsigned seed) {
    model::ModelConfig c = model::testing::tiny_config();
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

// SmoothQuant's factor, written out: max|x|^a / max|w|^(1-a) with the same 1e-5 floors.
double plain_factor(double act_max, double w_max) {
    return std::pow(std::max(act_max, 1e-5), kAlpha) / std::pow(std::max(w_max, 1e-5), 1.0 - kAlpha);
}

struct PlainFactors {
    std::vector<double> shared;            // [D]
    std::vector<std::vector<double>> down;  // [E][F]; empty for an expert no token reached
};

// Block 0's factors from the reference forward (block 0's input does not depend on smoothing).
PlainFactors plain_block0_factors(const model::ModelWeights& w) {
    const auto& lw = w.layers[0];
    const std::size_t D = 16, F = 24, E = 4;
    std::vector<double> h_max(D, 0.0);
    std::vector<std::vector<double>> act_max(E);
    for (const auto& s : samples())
        (void)model::testing::reference_logits(w, s, [&](int layer, int, const Vec& h) {
            if (layer != 0) return;
            for (std::size_t j = 0; j < D; ++j) h_max[j] = std::max(h_max[j], std::fabs(h[j]));
            const Vec g = model::testing::ref_expert_weights(lw.router, h, 2, true);
            for (std::size_t e = 0; e < E; ++e) {
                if (g[e] == 0) continue;
                const Vec gate = model::testing::ref_matvec(lw.experts[e][LinearKind::ffn_gate], h);
                const Vec up = model::testing::ref_matvec(lw.experts[e][LinearKind::ffn_up], h);
                act_max[e].resize(F, 0.0);
                for (std::size_t i = 0; i < F; ++i)
                    act_max[e][i] = std::max(act_max[e][i], std::fabs(gate[i] / (1 + std::exp(-gate[i])) * up[i]));
            }
        });
    PlainFactors f;
    for (std::size_t j = 0; j < D; ++j) {
        double w_max = 0;
        for (const auto& ex : lw.experts)
            for (auto k : {LinearKind::ffn_gate, LinearKind::ffn_up})
                for (std::int64_t r = 0; r < ex[k].rows; ++r) w_max = std::max(w_max, double{std::fabs(ex[k].at(r, static_cast<std::int64_t>(j)))});
        f.shared.push_back(plain_factor(h_max[j], w_max));
    }
    f.down.resize(E);
    for (std::size_t e = 0; e < E; ++e) {
        if (act_max[e].empty()) continue;
        const auto& down = lw.experts[e][LinearKind::ffn_down];
        for (std::size_t i = 0; i < F; ++i) {
            double w_max = 0;
            for (std::int64_t r = 0; r < down.rows; ++r) w_max = std::max(w_max, double{std::fabs(down.at(r, static_cast<std::int64_t>(i)))});
            f.down[e].push_back(plain_factor(act_max[e][i], w_max));
        }
    }
    return f;
}

// Smooths every block of w from layer-wise calibration with channel maxima (what quantize_model
// does for SmoothQuant, without the quantization).
std::vector<ModifiedVector> smooth_model(model::ModelWeights& w) {
    LayerwiseSource src(w, samples(), 1);
    std::vector<ModifiedVector> changed;
    for (int l = 0; l < 2; ++l) {
        model::StatsRequest req;
        req.channel_stats = true;
        const auto stats = src.capture(l, req);
        for (auto& v : smooth_block(w.layers[static_cast<std::size_t>(l)], l, stats, src.take_expert_stats(), kAlpha, false))
            changed.push_back(std::move(v));
        src.advance(l);
    }
    return changed;
}

TEST(MoeSmoothQuant, FactorsEqualAPlainComputationFromRoutedTokens) {
    const model::ModelWeights original = tiny_moe(7);
    const PlainFactors want = plain_block0_factors(original);
    model::ModelWeights w = original;
    (void)smooth_model(w);
    const auto& before = original.layers[0];
    const auto& after = w.layers[0];
    int down_checked = 0;
    for (std::size_t e = 0; e < 4; ++e) {
        for (std::int64_t r = 0; r < 24; ++r)
            for (std::int64_t j = 0; j < 16; ++j) {
                const double s = want.shared[static_cast<std::size_t>(j)];
                const double s_down = want.down[e].empty() ? 1.0 : want.down[e][static_cast<std::size_t>(r)];
                // gate column j times the shared s_j; up column j times s_j and row r over expert e's own s_r.
                EXPECT_NEAR(after.experts[e][LinearKind::ffn_gate].at(r, j), before.experts[e][LinearKind::ffn_gate].at(r, j) * s,
                            1e-4 * std::fabs(before.experts[e][LinearKind::ffn_gate].at(r, j) * s) + 1e-7);
                EXPECT_NEAR(after.experts[e][LinearKind::ffn_up].at(r, j), before.experts[e][LinearKind::ffn_up].at(r, j) * s / s_down,
                            1e-4 * std::fabs(before.experts[e][LinearKind::ffn_up].at(r, j) * s / s_down) + 1e-7);
            }
        for (std::int64_t r = 0; r < 16; ++r)
            for (std::int64_t i = 0; i < 24; ++i) {
                const double s_down = want.down[e].empty() ? 1.0 : want.down[e][static_cast<std::size_t>(i)];
                const double expect = before.experts[e][LinearKind::ffn_down].at(r, i) * s_down;
                EXPECT_NEAR(after.experts[e][LinearKind::ffn_down].at(r, i), expect, 1e-4 * std::fabs(expect) + 1e-7);
            }
        if (!want.down[e].empty()) ++down_checked;
    }
    EXPECT_EQ(down_checked, 4);  // every expert got tokens: four different down factors checked
    EXPECT_NE(want.down[0], want.down[1]);
    for (std::size_t j = 0; j < 16; ++j) {
        EXPECT_NEAR(after.ffn_norm[j], before.ffn_norm[j] / want.shared[j], 1e-4 * std::fabs(before.ffn_norm[j] / want.shared[j]));
        for (std::int64_t e = 0; e < 4; ++e)
            EXPECT_NEAR(after.router.at(e, static_cast<std::int64_t>(j)), before.router.at(e, static_cast<std::int64_t>(j)) * want.shared[j],
                        1e-4 * std::fabs(before.router.at(e, static_cast<std::int64_t>(j)) * want.shared[j]) + 1e-7);
    }
}

TEST(MoeSmoothQuant, TheFoldLeavesLogitsAndRoutingUnchanged) {
    const model::ModelWeights original = tiny_moe(7);
    model::ModelWeights w = original;
    const auto changed = smooth_model(w);
    ASSERT_EQ(changed.size(), 6u);  // attn_norm, ffn_norm, router per block
    EXPECT_EQ(changed[2].name, "router");
    EXPECT_EQ(changed[2].values, w.layers[0].router.data);
    EXPECT_NE(w.layers[0].router.data, original.layers[0].router.data);
    for (const auto& s : samples()) {
        const model::Matrix a = model::forward_logits(original, s, {.threads = 1});
        const model::Matrix b = model::forward_logits(w, s, {.threads = 1});
        double err = 0, scale = 0;
        for (std::size_t i = 0; i < a.size(); ++i) {
            err = std::max(err, double{std::fabs(a.data[i] - b.data[i])});
            scale = std::max(scale, double{std::fabs(a.data[i])});
        }
        EXPECT_LT(err, 1e-4 * scale);
    }
    // The same experts for every token of block 0: router(h / s) with Wr * s.
    std::vector<std::vector<int>> picks[2];
    for (int m = 0; m < 2; ++m)
        for (const auto& s : samples())
            (void)model::testing::reference_logits(m == 0 ? original : w, s, [&](int layer, int, const Vec& h) {
                if (layer != 0) return;
                const Vec g = model::testing::ref_expert_weights((m == 0 ? original : w).layers[0].router, h, 2, true);
                std::vector<int> chosen;
                for (std::size_t e = 0; e < g.size(); ++e)
                    if (g[e] > 0) chosen.push_back(static_cast<int>(e));
                picks[m].push_back(chosen);
            });
    EXPECT_EQ(picks[0], picks[1]);
}

TEST(MoeSmoothQuant, QuantizesEveryExpertAndTheDirectoryRestoresTheRouter) {
    const model::ModelWeights original = tiny_moe(7);
    model::ModelWeights w = original;
    QuantizeOptions opt;
    opt.method = Method::smoothquant;
    opt.format = "int8";
    opt.threads = 1;
    LayerwiseSource src(w, samples(), 1);
    const QuantizedModel qm = quantize_model(w, opt, &src);
    EXPECT_EQ(qm.activation_format, "int8_per_token");
    ASSERT_EQ(qm.linears.size(), 2u * (4 + 12));
    ASSERT_EQ(qm.expert_tokens.size(), 2u);
    for (const auto& b : qm.expert_tokens)
        for (auto n : b.tokens) EXPECT_GT(n, 0);
    model::testing::ScratchDir tmp;
    write_quantized_dir(tmp / "q", qm, opt, RunInfo{}, false);
    model::ModelWeights applied = original;
    apply_quantized(applied, read_quantized_dir(tmp / "q"));
    for (std::size_t l = 0; l < 2; ++l) {
        EXPECT_EQ(applied.layers[l].router.data, w.layers[l].router.data);
        EXPECT_EQ(applied.layers[l].ffn_norm, w.layers[l].ffn_norm);
        for (std::size_t e = 0; e < 4; ++e)
            for (auto k : model::kExpertKinds) EXPECT_EQ(applied.layers[l].experts[e][k].data, w.layers[l].experts[e][k].data);
    }
    // W8A8 with smoothing stays close to the FP model (a wrong fold would not).
    const auto hooks = activation_hooks_for(qm.activation_format);
    const double fp = model::mean_next_token_nll(original, samples()[1]);
    const double q = model::mean_next_token_nll(applied, samples()[1], {.threads = 1, .hooks = &hooks});
    EXPECT_NEAR(q, fp, 0.02 * fp);
}

}  // namespace
}  // namespace halo::quant
