// Weight formats: how a MAC's weight-port bit pattern (its "code") decodes to a number. One row
// per format; the MAC profile uses decode_weight() to fill each weight's `value`.
//
//   int8      two's complement, 8 bits               -128 .. 127
//   int4      two's complement, 4 bits               -8 .. 7
//   fp8-e4m3  OCP FP8 E4M3: s.eeee.mmm, bias 7, no Inf, NaN = s.1111.111, max 448,
//             subnormals (e = 0) = m/8 * 2^-6
//   bf16      IEEE-style bfloat16: s.8e.7m, bias 127, Inf (e = 255, m = 0), NaN (e = 255, m != 0)
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace halo::mac {

enum class WeightFormat : std::uint8_t { int8, int4, fp8_e4m3, bf16 };

struct DecodedWeight {
    double value = 0;     // exact value of the code (0 for NaN codes)
    bool is_nan = false;  // NaN codes have no value (`value: null` in the profile)
};

struct WeightFormatInfo {
    WeightFormat format;
    std::string_view name;  // as written in profiles and on the command line
    int bits;
    bool is_float;
    DecodedWeight (*decode)(std::uint32_t code);
};

std::span<const WeightFormatInfo> weight_format_table();
const WeightFormatInfo& weight_format_info(WeightFormat f);
// Throws halo::Error E4001 (bad input) naming the known formats when `name` is not one.
const WeightFormatInfo& find_weight_format(std::string_view name);

// Decodes the low `bits` bits of `code`; higher bits must be zero (E4002 otherwise).
DecodedWeight decode_weight(WeightFormat f, std::uint32_t code);

}  // namespace halo::mac
