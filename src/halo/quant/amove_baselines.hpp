// Baseline 4-bit data types Amove is compared with, as per-row quantize/dequantize functions
// (one row = one token for activations, one output channel's input row for weights):
//  olive4: OliVe's outlier-victim pairs (Guo et al., ISCA 2023). Values pair up (0,1), (2,3)...
//    A pair whose values both fit the normal range keeps them as int4 (-7..7) x s. Otherwise the
//    larger-magnitude value is an outlier stored in a 4-bit abfloat (E2M1-like: 1.0/1.5 x 2^e,
//    i.e. 8, 12, 16, 24, 32, 48, 64 times s, signed) and its neighbour, the victim, is zeroed.
//    s = max|x| / a, a in {7 (normal), 8, 12, ..., 64 (abfloat levels)}, rounded to FP16 (the
//    stored per-row scale): least squared error.
//    Pair codes (4 bits a slot, what the weight format `olive4` stores): a normal value is its
//    int4 two's-complement code (-8 = 1000 is never used); a victim's slot holds the identifier
//    1000; the outlier's slot holds sign<<3 | k, k = 1..7 indexing the abfloat levels above.
//    k = 0 is unused so that an outlier code is never 1000: 15*15 normal pairs + 2*14 outlier
//    pairs fit the 256 patterns of a pair, and decoding is unambiguous (this is why the level
//    96 of an 8-level E2M1 abfloat is not offered).
//  ant4: ANT (Guo et al., MICRO 2022): per row (tensor) choice of int4 {0,+-1..7}, flint4
//    {0,+-1,2,3,4,6,8,12} or PoT4 {0,+-1,2,4,...,64} (15 codes each), each with an absmax scale;
//    the type with the least squared error wins. The weight format `ant4` (mixed_types.hpp)
//    uses the same value sets (ant4_types()).
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

// ---- OliVe's pair rule, shared by olive4_row and the olive4 weight format ----
inline constexpr std::uint8_t kOliveVictim = 0x8;  // the identifier in a victim's slot
struct OlivePair {
    std::uint8_t c0 = 0, c1 = 0;
};
// The abfloat outlier magnitudes (in units of s), k = 1..7 -> kOliveAbfloat[k - 1].
std::span<const float> olive_abfloat_levels();
// The per-row scale (FP16-rounded) with the least squared error over the row's pairs.
float olive4_row_scale(std::span<const float> row);
// Codes of a pair of values already divided by s (y1 = 0 for a lone last value).
OlivePair olive4_encode_pair(float y0, float y1);
// Values of a pair in units of s (multiply by s to decode).
void olive4_decode_pair(OlivePair p, float& v0, float& v1);

// ---- ANT's value sets ----
struct AntType {
    std::string_view name;
    std::span<const float> magnitudes;  // ascending, 0 first; the type is {0, +-m}
};
std::span<const AntType> ant4_types();  // int4, flint4, pot4 (type ids 0, 1, 2)

}  // namespace halo::quant
