// Plain C++ reference arithmetic of the built-in MACs, on bit patterns: y = acc + w * a.
// These functions define the semantics the generated Verilog must reproduce (docs/design/mac.md).
//
// Integer MACs: w, a and acc are two's complement (a may be unsigned); y = (acc + w*a) mod
// 2^acc_bits, i.e. the accumulator wraps.
// Floating-point MACs: y = round_to_nearest_even(acc + w*a) with ONE rounding (fused), IEEE 754
// gradual underflow (subnormal accumulators are kept, not flushed), overflow to Inf, and
// every NaN result the canonical quiet NaN (FP32 0x7FC00000, FP16 0x7E00). The references are
// built on the host's IEEE arithmetic (fmaf, _Float16), not on the generator's algorithm, so a
// bug in one is not mirrored in the other.
#pragma once

#include <cstdint>

namespace halo::mac {

// The low `bits` bits of `v` as a two's-complement number.
std::int64_t sign_extend(std::uint64_t v, int bits);

bool e4m3_is_nan(std::uint32_t code);
double e4m3_to_double(std::uint32_t code);  // exact; NaN codes give NaN
double bf16_to_double(std::uint32_t code);  // exact
double fp16_to_double(std::uint32_t code);  // exact
float fp32_from_bits(std::uint32_t bits);
std::uint32_t fp32_to_bits(float f);

constexpr std::uint32_t kFp32CanonicalNan = 0x7FC00000u;
constexpr std::uint32_t kFp16CanonicalNan = 0x7E00u;

// Integer MAC. w has w_bits bits (signed), a has a_bits bits (signed or not), acc and y acc_bits.
std::uint64_t mac_ref_int(std::uint64_t w, std::uint64_t a, std::uint64_t acc, int w_bits, int a_bits,
                          bool a_signed, int acc_bits);

// FP8 E4M3 x FP8 E4M3 + FP32 -> FP32 (the product is exact in FP32, so fused == unfused).
std::uint32_t mac_ref_e4m3_fp32(std::uint32_t w, std::uint32_t a, std::uint32_t acc);
// FP8 E4M3 x FP8 E4M3 + FP16 -> FP16, one rounding (the product may exceed FP16's range).
std::uint32_t mac_ref_e4m3_fp16(std::uint32_t w, std::uint32_t a, std::uint32_t acc);
// BF16 x BF16 + FP32 -> FP32, one rounding (fused multiply-add).
std::uint32_t mac_ref_bf16_fp32(std::uint32_t w, std::uint32_t a, std::uint32_t acc);

}  // namespace halo::mac
