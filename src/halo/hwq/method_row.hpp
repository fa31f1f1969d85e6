// HALO as a row of the quantizer table (quant/model_quantizer.hpp "MethodRegistry"): its needs
// (calibration samples, optionally gradients for Fisher sensitivity, a MAC profile for the
// ladder), its method-specific flags and its per-layer entry point. Registered explicitly by
// jobs::register_methods at program start.
#pragma once

#include <any>

#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/quant/model_quantizer.hpp"

namespace halo::hwq {

// What HALO's per-layer entry point keeps across layers, passed as MethodSettings::state.
struct HaloLayerState {
    const Ladder* ladder = nullptr;
    HaloOptions options;
    CodebookRegistry books;  // shared by all layers: codebook ids are model-wide
};

// One layer: quantize_linear_halo on the layer's weight, Gram, token count and Fisher
// diagonal. `settings.state` must hold a HaloLayerState (E9030, internal, otherwise).
quant::LinearRecord halo_quantize_layer(const quant::LayerInput& layer, const quant::MethodSettings& settings);

const quant::MethodTraits& halo_method_row();
void register_halo_method(quant::MethodRegistry& registry);

}  // namespace halo::hwq
