// Quantizing the experts of a mixture-of-experts block (model/moe.hpp, issue 14). Each expert's
// gate, up and down are quantized by the method row's own per-layer entry point, from that
// expert's statistics only: the Gram matrix / channel statistics of the calibration tokens the
// router sent to it (model::LinearStatsAccumulator keeps them apart). A Hessian pooled over all
// tokens would weight an expert's error by inputs it never sees.
//
// Coverage: how many calibration tokens reached each expert is recorded per block
// (QuantizedModel::expert_tokens); experts below a threshold are listed as warnings by
// expert_coverage_warnings (the CLI prints them). An expert that saw no token at all cannot be
// calibrated: a method that needs statistics refuses it (E6160) rather than quantizing it blind.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/model/calibration.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/util/progress.hpp"

namespace halo::quant {

// Quantizes (decodes in place) every expert of block `layer_index`, appending one LinearRecord per
// expert linear (LinearRecord::expert set) and the block's token counts to `out`.
// `stats` is [n_experts] (empty when the method needs no statistics: counts are then unknown);
// coverage comes from `stats` itself. `fisher` (optional): the model's Fisher diagonal, whose
// expert entries go to the method as each expert linear's sensitivity.
void quantize_block_experts(model::LayerWeights& layer, int layer_index, const MethodTraits& method,
                            const MethodSettings& settings, const std::vector<model::ExpertInputStats>& stats,
                            const model::FisherDiagonal* fisher, QuantizedModel& out, Progress& progress);

// One line per expert that saw fewer than `min_tokens` calibration tokens:
// "block 3 expert 5: 2 calibration tokens (< 16)".
std::vector<std::string> expert_coverage_warnings(const std::vector<ExpertTokens>& coverage, std::int64_t min_tokens);

}  // namespace halo::quant
