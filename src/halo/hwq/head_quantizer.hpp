// The LM head quantized like any linear (issue #15, `--quantize-head`): the [vocab x d_model]
// head (the token embedding's table when the model ties them) gets HALO's tiles, codebooks,
// sparse part, DVFS level per tile and GPTQ rounding, from the statistics of its own input (the
// final RMSNorm of the hidden states after every quantized block, CalibrationSource::
// capture_head). Its decoded weights become `weights.output`; a tied model's embedding lookup
// keeps the FP32 table (a lookup, not a GEMM on the array). Sensitivity: the Fisher diagonal's
// head entries (model::FisherDiagonal::head, the head GEMM's gradient) when `fisher` has them,
// else the Hessian proxy (issue #15 part F; before it, always the Hessian proxy). On SmolLM2-135M the head is
// 23 % of the baseline prefill time, so leaving it at L0 capped every HALO row near 1.29x.
#pragma once

#include "halo/hwq/halo_quantizer.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/model_quantizer.hpp"

namespace halo::hwq {

// The place name of the head in messages, tile levels and the simulator ("output" is the
// simulator's GEMM name for the head).
inline constexpr const char* kHeadName = "output";

// The head's per-tile costs for the model-wide plan (plan_model_wide appends them after every
// block's; `cal` has advanced through every block, or is null: w^2 sensitivity).
TileCosts head_tile_costs(const model::ModelWeights& weights, quant::CalibrationSource* cal, const Ladder& ladder,
                          const HaloOptions& options, const model::FisherDiagonal* fisher = nullptr);

// Quantizes the head after the last block (quantize_model_halo calls it when
// options.quantize_head): records out.head and out.model.head, counts its tiles in
// out.head_tiles_per_level, continues the switch count from `prev_level`, and sets
// weights.output to the decoded head. `plan` (scope model): its last entry is the head's levels.
void quantize_head_halo(model::ModelWeights& weights, quant::CalibrationSource* cal, const Ladder& ladder,
                        const HaloOptions& options, HaloModelResult& out, int& prev_level, const ModelPlan* plan,
                        const model::FisherDiagonal* fisher = nullptr);
// The same from the head's matrix (`tied`: the token embedding's table) and its input statistics
// (empty: round to nearest, w^2 sensitivity); returns the decoded head. What the block-streaming
// driver calls after its last block (halo_streaming.hpp), with BlockStreamCalibration's head
// statistics.
model::Matrix quantize_head_halo(const model::Matrix& head, bool tied, const model::LinearInputStats& stats, const Ladder& ladder,
                                 const HaloOptions& options, HaloModelResult& out, int& prev_level, const ModelPlan* plan,
                                 const model::Matrix* fisher_head = nullptr);

}  // namespace halo::hwq
