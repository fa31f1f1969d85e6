// Half-precision conversions used by the model readers: IEEE binary16 (GGUF F16, the scales
// of every quantized block, safetensors F16) and bfloat16 (safetensors BF16, GGUF BF16).
// Each has a plain bit-level reference and a fast path; tests check they agree on all 65536
// inputs.
#pragma once

#include <cstdint>

namespace halo::model {

// Reference: decodes sign, exponent and mantissa field by field (subnormals, inf, NaN).
float fp16_to_fp32_ref(std::uint16_t h);
// Fast: one lookup in a 65536-entry table built from the reference on first use.
float fp16_to_fp32(std::uint16_t h);
// Round-to-nearest-even FP32 -> FP16 (used by writers and tests; overflow -> inf).
std::uint16_t fp32_to_fp16(float f);

// bfloat16 is the top half of an FP32, so the conversion is a shift.
float bf16_to_fp32(std::uint16_t b);
// Round-to-nearest-even FP32 -> BF16 (NaN stays NaN).
std::uint16_t fp32_to_bf16(float f);

}  // namespace halo::model
