// Baseline 4-bit data types Amove is compared with, as per-row quantize/dequantize functions
// (one row = one token for activations, one output channel's input row for weights):
//  olive4: OliVe's outlier-victim pairs (Guo et al., ISCA 2023). Values pair up (0,1), (2,3)...
//    A pair whose values both fit the normal range keeps them as int4 (-7..7) x s. Otherwise the
//    larger-magnitude value is an outlier stored in a 4-bit abfloat (E2M1-like: 1.0/1.5 x 2^e,
//    e = 3..6, i.e. 8, 12, 16, 24, 32, 48, 64, 96 times s, signed) and its neighbour, the victim,
//    is zeroed. s = max|x| / a, a in {7 (normal), 8, 12, ..., 96 (abfloat levels)}: least squared error.
//  ant4: ANT (Guo et al., MICRO 2022): per row (tensor) choice of int4 {0,+-1..7}, flint4
//    {0,+-1,2,3,4,6,8,12} or PoT4 {0,+-1,2,4,...,64} (15 codes each), each with an absmax scale;
//    the type with the least squared error wins.
// Both are 4 bits per value plus a per-row FP16 scale (and 2 type bits for ANT).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace halo::quant {

using RowQuantFn = void (*)(std::span<float> row);

struct BaselineType {
    std::string_view name;
    RowQuantFn quantize_row;
    double bits_per_value;  // elements only; the per-row scale is negligible
};

std::span<const BaselineType> baseline_types();
const BaselineType* find_baseline_type(std::string_view name);

void olive4_row(std::span<float> row);
void ant4_row(std::span<float> row);

}  // namespace halo::quant
