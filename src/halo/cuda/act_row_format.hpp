// The GPU's activation-format table (`eval --device cuda --act-format`): every operand the CPU's
// --act-format takes (model::activation_formats(), the format table's rows per token with @g<G>
// or @row, the Amove rows and presets, the olive4/ant4 baselines, and "+attn" for the attention
// matmuls) falls in exactly one row here, which names the CPU reference the GPU is tested
// against and the GPU kernel that runs it. The rows' `examples` are what
// tests/unit/cuda/cuda_activation_test.cpp runs through both, bit for bit.
//
//   family                   CPU reference                                 GPU kernel
//   int8_per_token           model::activation_format(..).fast             act_int8_per_token (one block per row)
//   symmetric integer, FP16  quant::quantize_activation_rows               act_int_symmetric (one block per group)
//   asymmetric integer       quant::quantize_activation_rows               act_rows: act_row_quant.hpp, absmax
//   minifloat                quant::quantize_activation_rows               act_rows, absmax
//   MX (OCP MX v1.0)         quant::quantize_activation_rows               act_rows, mx_floor
//   NVFP4                    quant::quantize_activation_rows               act_rows, nvfp4 (per-row FP32 scale)
//   raw (scale 1)            quant::quantize_activation_rows               act_rows, raw
//   Amove                    quant::amove_qdq_rows                         act_rows, amove (per-row scale t)
//   olive4                   quant::olive4_row                             act_rows, olive4 (one thread per row)
//   ant4                     quant::ant4_row                               act_rows, ant4 (one thread per row)
// act_rows: one block per row (the row's max |x| reduced over the block), one thread per group,
// each group's operations in the CPU's order (act_row_quant.hpp). "+attn" runs the attention
// operand's row on Q and K (per head, after RoPE), P (per head, full S columns, zeros above the
// diagonal) and V (grouped along tokens: rows are V's columns), as model/attention.cpp's hooks.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/quant/amove_activation.hpp"

namespace halo::cuda {

struct GpuActivationRow {
    std::string_view family;
    std::string_view cpu_reference;
    std::string_view gpu_kernel;
    std::string_view examples;  // space-separated --act-format names of this row
};

// Indices into gpu_activation_rows().
enum class GpuActRow : std::size_t { int8_per_token, int_symmetric, integer, minifloat, mx, nvfp4, raw, amove, olive4, ant4 };

std::span<const GpuActivationRow> gpu_activation_rows();
const GpuActivationRow& gpu_activation_row_info(GpuActRow row);

// Which row of gpu_activation_rows() runs `operand`, and the descriptor act_rows takes. E8190
// (internal) when an operand the CPU accepts has no row: the table and the CPU's parser disagree.
GpuActRow gpu_activation_row(const quant::ActivationOperand& operand);
ActRowFormat act_row_format(const quant::ActivationOperand& operand);

}  // namespace halo::cuda
