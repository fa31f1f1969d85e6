// Weight-activation mode: activations quantized per token inside the forward pass (the
// transformer's ForwardHooks), in an Amove format or any row of the format table, for the
// linear layers' inputs and, selectably, the attention matmuls' inputs (Q and K of QK^T,
// P and V of PV). Groups always run along the contracted dimension: features for linear
// inputs, head_dim for Q and K, keys for P, tokens for V (V is transposed for the hook).
//
// Activation format names (the manifest's "activation_format", `--act-format`):
//   <linear>[+attn[=<attention>]]
//     <linear>, <attention>: an amove-* name, or "<format>@g<G>" for a table format per token
//     with groups of G ("int4@g64"; "mxfp4" takes its block; "int8@row" = one scale per token),
//     or a baseline type of amove_baselines.hpp ("olive4", "ant4", per token);
//     "+attn" quantizes the attention matmuls in <linear>, "+attn=<f>" in <f>.
//   presets: amove-aggressive[-<element>]  = linear g128c16, attention g32c4 (element int4)
//            amove-conservative[-<element>] = g32c4 for both.
// Amove activations use the online residual rule (R = mean|d_i - S| / 2^code_bits) unless the
// name asks for "-scale" or "-mse" (grid search per token group: slow).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "halo/model/forward.hpp"
#include "halo/quant/amove_baselines.hpp"
#include "halo/quant/format.hpp"

namespace halo::quant {

// Quantize-dequantize [rows x cols] in place, one row = one token, groups along the columns,
// with any spec (Amove rows: amove_qdq_rows; others: fit_group per group + RTN).
void quantize_activation_rows(const QuantSpec& spec, float* data, std::int64_t rows, std::int64_t cols);

// One operand's quantizer: a format spec, or a baseline row function (olive4, ant4).
struct ActivationOperand {
    std::optional<QuantSpec> spec;
    RowQuantFn row_fn = nullptr;
    void apply(float* data, std::int64_t rows, std::int64_t cols) const;
};

struct ActivationPlan {
    ActivationOperand linear;
    std::optional<ActivationOperand> attention;  // nullopt: attention matmuls in FP32
};

// Parses a name as above; nullopt when it is not one of ours (e.g. "int8_per_token", which
// the model's own table handles). Malformed: bad input E6804.
std::optional<ActivationPlan> parse_activation_plan(std::string_view name);

model::ForwardHooks activation_plan_hooks(const ActivationPlan& plan);

}  // namespace halo::quant
