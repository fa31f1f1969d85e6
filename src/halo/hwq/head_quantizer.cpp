#include "halo/hwq/head_quantizer.hpp"

#include <chrono>

#include <fmt/format.h>

#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::hwq {

namespace {
// The head's input statistics: the Gram of the final-normed hidden states (none without
// calibration: round to nearest, w^2 sensitivity, as for the block linears).
model::LinearInputStats head_stats(quant::CalibrationSource* cal) {
    if (!cal) return {};
    return cal->capture_head({.gram = true, .channel_stats = false});
}
// The Fisher diagonal's head entries; null without a Fisher diagonal (the Hessian proxy). A
// Fisher diagonal without entries for this head is refused: ranking the head by the proxy while
// the blocks use Fisher mixed two scales silently (before session 21 the CUDA engine computed
// no head entries; docs/results/halo.md part K).
const model::Matrix* fisher_head_of(const model::FisherDiagonal* f, const model::Matrix& head) {
    if (!f || f->empty()) return nullptr;
    if (f->head.rows != head.rows || f->head.cols != head.cols || f->head.data.empty())
        throw_internal("E9179", fmt::format("the Fisher diagonal has no entries for the quantized LM head ({} x {}; found {} x {})",
                                            head.rows, head.cols, f->head.rows, f->head.cols),
                       "compute it with model::HeadGradient::compute (on the CPU or the device)");
    return &f->head;
}
}  // namespace

TileCosts head_tile_costs(const model::ModelWeights& weights, quant::CalibrationSource* cal, const Ladder& L,
                          const HaloOptions& o, const model::FisherDiagonal* fisher) {
    const model::Matrix& head = weights.lm_head();
    quant::check_finite(head, weights.output.size() ? "output.weight" : "token_embd.weight (tied LM head)");
    const auto st = head_stats(cal);
    return linear_tile_costs(head, st.gram, st.tokens, fisher_head_of(fisher, head), L, o, kHeadName);
}

model::Matrix quantize_head_halo(const model::Matrix& head, bool tied, const model::LinearInputStats& st, const Ladder& L,
                                 const HaloOptions& o, HaloModelResult& out, int& prev_level, const ModelPlan* plan,
                                 const model::Matrix* fisher_head) {
    const auto t0 = std::chrono::steady_clock::now();
    quant::check_finite(head, tied ? "token_embd.weight (tied LM head)" : "output.weight");
    if (plan && plan->levels.size() != out.linears.size() + 1)
        throw_internal("E9151", fmt::format("the model-wide plan has {} entries; the head needs one after the {} linears",
                                            plan->levels.size(), out.linears.size()));
    const std::vector<int>* fixed = plan ? &plan->levels.back() : nullptr;
    auto r = quantize_linear_halo(head, st.gram, st.tokens, fisher_head, L, o, out.books, kHeadName, fixed);
    model::Matrix q = r.tensor.decode();
    quant::HeadRecord rec;
    rec.tied = tied;
    if (st.gram.rows == head.cols) rec.output_error = quant::output_error(head, q, st.gram);
    out.head_tiles_per_level.assign(L.levels.size(), 0);
    for (int lv : r.assignment.level) ++out.head_tiles_per_level[static_cast<std::size_t>(lv)];
    const auto order = grouped_order(r.assignment.level);
    out.switches += switches(r.assignment.level, order, prev_level);
    prev_level = r.assignment.level[order.back()];
    rec.tensor = std::move(r.tensor);
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    out.model.head = std::move(rec);
    r.tensor = {};
    out.head = std::move(r);
    return q;
}

void quantize_head_halo(model::ModelWeights& weights, quant::CalibrationSource* cal, const Ladder& L, const HaloOptions& o,
                        HaloModelResult& out, int& prev_level, const ModelPlan* plan, const model::FisherDiagonal* fisher) {
    const bool tied = weights.output.size() == 0;
    quant::check_finite(weights.lm_head(), tied ? "token_embd.weight (tied LM head)" : "output.weight");
    const auto st = head_stats(cal);
    // a tied model: the lookup keeps token_embedding, the GEMM uses the decoded codes
    weights.output = quantize_head_halo(weights.lm_head(), tied, st, L, o, out, prev_level, plan, fisher_head_of(fisher, weights.lm_head()));
}

}  // namespace halo::hwq
