#include "halo/hwq/method_row.hpp"

#include <fmt/format.h>

#include "halo/model/weights.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::hwq {
namespace {

constexpr std::string_view kHaloFlags[] = {"--tile", "--sensitivity", "--damp", "--block-size", "--profile", "--objective",
                                           "--levels", "--counts", "--voltage-step", "--level-voltages", "--vt", "--alpha", "--guard-band",
                                           "--timing", "--budget", "--max-codes", "--salient", "--outlier-sigma", "--sparse-grid", "--no-gptq",
                                           "--level-codes", "--assign", "--level-shares", "--rank", "--quantize-head",
                                           "--calib-int8-inputs"};

constexpr quant::MethodTraits kHaloRow = {
    quant::Method::halo, "halo", true, false, true, "int8_per_token",
    "HALO: per-tile codebooks from the MAC's timing, tiles assigned to DVFS levels (writes the tiles' levels and machine)",
    true, true, true, kHaloFlags, halo_quantize_layer};

}  // namespace

quant::LinearRecord halo_quantize_layer(const quant::LayerInput& in, const quant::MethodSettings& settings) {
    auto* state = settings.state ? std::any_cast<HaloLayerState>(settings.state) : nullptr;
    if (!state || !state->ladder) throw_internal("E9030", "HALO's per-layer entry point needs its HaloLayerState (ladder, options, codebooks)");
    if (state->options.scope == AssignScope::model)  // never silently per layer: the plan needs every layer's costs first
        throw_internal("E9073", "HALO's per-layer entry point cannot apply a model-wide budget; run plan_model_wide, then "
                                "quantize_model_halo with the plan");
    const auto place = fmt::format("blk.{}.{}", in.layer, model::linear_name(in.kind));
    auto r = quantize_linear_halo(in.weight, in.stats.gram, in.tokens, in.fisher, *state->ladder, state->options, state->books, place);
    quant::LinearRecord rec;
    rec.layer = in.layer;
    rec.kind = in.kind;
    rec.tensor = std::move(r.tensor);
    return rec;
}

const quant::MethodTraits& halo_method_row() { return kHaloRow; }

void register_halo_method(quant::MethodRegistry& registry) { registry.add(kHaloRow); }

}  // namespace halo::hwq
