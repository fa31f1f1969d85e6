#include "halo/quant/smoothquant.hpp"

#include <algorithm>
#include <span>

#include <fmt/format.h>

#include "halo/quant/methods.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {

namespace {

using model::LinearKind;

// Divides an RMSNorm weight by s (the fold); Gemma-style norms apply (1 + w).
void divide_norm(std::vector<float>& norm, std::span<const float> s, bool plus_one) {
    for (std::size_t j = 0; j < norm.size(); ++j) norm[j] = plus_one ? (1.0f + norm[j]) / s[j] - 1.0f : norm[j] / s[j];
}

// down reads act(gate) * up: dividing up's output row i by s_i divides down's input channel i.
void fold_into_up_rows(model::Matrix& up, std::span<const float> s) {
    for (std::int64_t r = 0; r < up.rows; ++r)
        for (std::int64_t c = 0; c < up.cols; ++c) up.at(r, c) /= s[static_cast<std::size_t>(r)];
}

void smooth_down(model::Matrix& down, model::Matrix& up, std::span<const float> act_abs_max, float alpha) {
    const model::Matrix* ws[1] = {&down};
    const auto s = smoothing_factors(act_abs_max, ws, alpha);
    scale_columns(down, s);
    fold_into_up_rows(up, s);
}

void smooth_experts(model::LayerWeights& layer, int l, const std::vector<model::ExpertInputStats>& expert_stats,
                    float alpha, bool plus_one) {
    const auto s = shared_expert_factors(layer, expert_stats, alpha);
    for (auto& e : layer.experts) {
        scale_columns(e[LinearKind::ffn_gate], s);
        scale_columns(e[LinearKind::ffn_up], s);
    }
    scale_columns(layer.router, s);  // logits of h / s with Wr * s: the same routing
    divide_norm(layer.ffn_norm, s, plus_one);
    for (std::size_t e = 0; e < layer.experts.size(); ++e) {
        const auto& down_stats = expert_stats[e][model::ExpertWeights::slot(LinearKind::ffn_down)];
        if (down_stats.tokens == 0) continue;  // no routed token: nothing measured, s = 1
        if (down_stats.abs_max.size() != static_cast<std::size_t>(layer.experts[e][LinearKind::ffn_down].cols))
            throw_internal("E6165", fmt::format("block {} expert {}: SmoothQuant got no channel maxima for down", l, e));
        smooth_down(layer.experts[e][LinearKind::ffn_down], layer.experts[e][LinearKind::ffn_up], down_stats.abs_max, alpha);
    }
}

}  // namespace

std::vector<float> shared_expert_factors(const model::LayerWeights& layer,
                                         const std::vector<model::ExpertInputStats>& expert_stats, float alpha) {
    const std::size_t D = static_cast<std::size_t>(layer.router.cols);
    std::vector<float> act_max(D, 0.0f);
    std::int64_t tokens = 0;
    for (const auto& st : expert_stats) {
        const auto& gate = st[model::ExpertWeights::slot(LinearKind::ffn_gate)];
        if (gate.tokens == 0) continue;
        if (gate.abs_max.size() != D) throw_internal("E6166", "SmoothQuant got no channel maxima for an expert's gate");
        tokens += gate.tokens;
        for (std::size_t j = 0; j < D; ++j) act_max[j] = std::max(act_max[j], gate.abs_max[j]);
    }
    if (tokens == 0) throw_internal("E6167", "SmoothQuant: no calibration token reached any expert of the block");
    std::vector<const model::Matrix*> ws;
    for (const auto& e : layer.experts) {
        ws.push_back(&e[LinearKind::ffn_gate]);
        ws.push_back(&e[LinearKind::ffn_up]);
    }
    return smoothing_factors(act_max, ws, alpha);
}

std::vector<ModifiedVector> smooth_block(model::LayerWeights& layer, int l, const std::array<model::LinearInputStats, 7>& stats,
                                         const std::vector<model::ExpertInputStats>& expert_stats, float alpha,
                                         bool plus_one) {
    auto idx = [](LinearKind k) { return static_cast<std::size_t>(k); };
    {  // q, k, v read the attention norm's output
        const model::Matrix* ws[3] = {&layer[LinearKind::attn_q], &layer[LinearKind::attn_k], &layer[LinearKind::attn_v]};
        const auto s = smoothing_factors(stats[idx(LinearKind::attn_q)].abs_max, ws, alpha);
        for (auto k : {LinearKind::attn_q, LinearKind::attn_k, LinearKind::attn_v}) scale_columns(layer[k], s);
        divide_norm(layer.attn_norm, s, plus_one);
    }
    std::vector<ModifiedVector> changed = {{l, "attn_norm", {}}, {l, "ffn_norm", {}}};
    if (!layer.experts.empty()) {
        if (expert_stats.size() != layer.experts.size())
            throw_internal("E6168", fmt::format("block {}: statistics for {} experts, the block has {}", l,
                                                expert_stats.size(), layer.experts.size()));
        smooth_experts(layer, l, expert_stats, alpha, plus_one);
        changed.push_back({l, "router", layer.router.data});
    } else {
        {  // gate, up read the FFN norm's output
            const model::Matrix* ws[2] = {&layer[LinearKind::ffn_gate], &layer[LinearKind::ffn_up]};
            const auto s = smoothing_factors(stats[idx(LinearKind::ffn_gate)].abs_max, ws, alpha);
            for (auto k : {LinearKind::ffn_gate, LinearKind::ffn_up}) scale_columns(layer[k], s);
            divide_norm(layer.ffn_norm, s, plus_one);
        }
        smooth_down(layer[LinearKind::ffn_down], layer[LinearKind::ffn_up], stats[idx(LinearKind::ffn_down)].abs_max, alpha);
    }
    changed[0].values = layer.attn_norm;
    changed[1].values = layer.ffn_norm;
    return changed;
}

}  // namespace halo::quant
