// The INT8 operands a weight-stationary array or a GPU INT8 GEMM multiplies for a quantized
// linear layer: signed integer element types give their value (w = s * c), unsigned ones are
// shifted by 2^(bits-1) into the signed range (w = s * (u - z) = s * ((u - 128) - (z - 128)) for
// 8 bits), the zero-point correction z * sum(a) being applied outside the GEMM. Formats whose
// elements are not integers of at most 8 bits (minifloats, per-row codebooks) are refused.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "halo/quant/quantized_tensor.hpp"

namespace halo::gpu {

std::vector<std::int8_t> int8_operands(const quant::QuantizedTensor& tensor, const std::string& name);

struct ExportedLayer {
    std::string label;  // "<model label> <linear>", e.g. "halo-bal blk.15.ffn_up"
    std::int64_t n = 0, k = 0;
    std::filesystem::path file;  // raw int8, n * k bytes, row-major [n x k]
};

// Writes the INT8 operands of every linear of block `layer` of the quantized directory `dir`
// into `out_dir` (atomically, one raw file per linear) plus index.json; returns the entries.
std::vector<ExportedLayer> export_layer_operands(const std::filesystem::path& dir, int layer, const std::string& label,
                                                 const std::filesystem::path& out_dir);

// Reads an index.json written by export_layer_operands (paths relative to its folder).
std::vector<ExportedLayer> read_exported_index(const std::filesystem::path& out_dir);

}  // namespace halo::gpu
