// Reference dequantizers: one element at a time, read straight from the byte offsets of the
// format definition (no block structs), so they are an independent check on the fast path.
#pragma once

#include <cstdint>

namespace halo::model::ref {

void dequant_f32(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_f16(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_bf16(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q4_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q4_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q5_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q5_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q8_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_iq4_nl(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q2_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q3_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q4_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q5_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q6_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q8_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);

}  // namespace halo::model::ref

namespace halo::model::fast {

void dequant_f32(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_f16(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_bf16(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q4_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q4_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q5_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q5_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q8_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_iq4_nl(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q2_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q3_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q4_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q5_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q6_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);
void dequant_q8_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks);

}  // namespace halo::model::fast
