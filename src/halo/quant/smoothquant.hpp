// SmoothQuant's fold of one block (Xiao et al. 2023): for each group of linears that read the
// same activation, s_j = max|X_j|^alpha / max|W_ij|^(1-alpha) (methods.hpp smoothing_factors),
// the activation is divided by s where it is made and the linears' columns are multiplied by s,
// so W x is unchanged and activation outliers move into the weights before A8 quantization.
//
// Dense block (Llama-style):
//   q, k, v      one factor, folded into attn_norm (they read its output);
//   gate, up     one factor, folded into ffn_norm;
//   down         one factor, folded into up's output rows (down reads act(gate) * up, and
//                dividing up's row i by s_i divides that product's channel i exactly);
//   attn_output  left alone: with grouped-query attention its input channels share V channels,
//                so no per-channel fold into V is exact.
// Mixture-of-experts block (model/moe.hpp), where the FFN norm's output h feeds the router and
// every expert:
//   experts' gate, up  ONE factor shared by all experts, folded into ffn_norm. The math requires
//                one: h is divided once, by the norm, before the router picks experts, so every
//                reader of h sees the same division. Its activation maximum is the max over
//                the experts' routed-token maxima (every token reaches k >= 1 experts, so this
//                is the max over all calibration tokens); its weight maximum is over every
//                expert's gate and up columns. The router's columns are multiplied by s too,
//                so its logits (and the routing) are unchanged; the router stays FP32, so it
//                does not take part in the weight maximum.
//   each expert's down  its OWN factor from its own routed tokens' act(gate) * up maxima,
//                folded into that expert's up rows (exact, as in a dense block). An expert no
//                calibration token reached keeps s = 1 (nothing to measure).
// The changed vectors (attn_norm, ffn_norm and, in a MoE block, the router as a flat [E x D]
// vector) are returned for the quantized directory.
#pragma once

#include <array>
#include <vector>

#include "halo/model/calibration.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/model_quantizer.hpp"

namespace halo::quant {

// Smooths block `layer_index` in place. `stats` are the block's linear input statistics with
// channel maxima; `expert_stats` ([n_experts], with channel maxima) for a MoE block, else empty.
// Returns the vectors it changed.
std::vector<ModifiedVector> smooth_block(model::LayerWeights& layer, int layer_index,
                                         const std::array<model::LinearInputStats, 7>& stats,
                                         const std::vector<model::ExpertInputStats>& expert_stats, float alpha,
                                         bool norm_plus_one);

// The MoE FFN's shared gate/up factor: channel maxima over every expert's routed tokens and
// weight maxima over every expert's gate and up (experts without tokens add no activations).
std::vector<float> shared_expert_factors(const model::LayerWeights& layer,
                                         const std::vector<model::ExpertInputStats>& expert_stats, float alpha);

}  // namespace halo::quant
