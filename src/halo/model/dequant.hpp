// The table of GGML tensor types halo can read, in the manner of ggml's type_traits: one row
// per type with its GGUF id, name, block size (elements per block), type size (bytes per
// block), a reference dequantizer and a fast one. The reference decodes one element at a time
// straight from the format's definition; the fast one decodes whole blocks in loops the
// compiler can vectorize. Tests hand-build blocks and check both against hand-computed values,
// and check the two against each other on random blocks.
//
// Block layouts (all little-endian; "half" = IEEE binary16; QK_K = 256):
//   F32    1 elem,   4 B   float
//   F16    1 elem,   2 B   half
//   BF16   1 elem,   2 B   bfloat16
//   Q4_0  32 elems, 18 B   half d; u8 qs[16]            x[j] = d*((qs[j]&15)-8), x[j+16] = d*((qs[j]>>4)-8)
//   Q4_1  32 elems, 20 B   half d, m; u8 qs[16]         x = d*q + m, q as in Q4_0 without the -8
//   Q5_0  32 elems, 22 B   half d; u32 qh; u8 qs[16]    5th bit of x[j] is qh bit j (x[j+16]: bit j+16); q-16
//   Q5_1  32 elems, 24 B   half d, m; u32 qh; u8 qs[16] as Q5_0, x = d*q + m
//   Q8_0  32 elems, 34 B   half d; i8 qs[32]            x = d*q
//   IQ4_NL 32 elems, 18 B  half d; u8 qs[16]           as Q4_0, but x = d*kvalues[q] with the non-linear
//          codebook kvalues = {-127,-104,-83,-65,-49,-35,-22,-10,1,13,25,38,53,69,89,113}
//   Q2_K 256 elems, 84 B   u8 scales[16]; u8 qs[64]; half d, dmin
//          16 sub-blocks of 16; scales[s]: low nibble = scale, high nibble = min;
//          x = d*(sc&15)*q - dmin*(sc>>4), q = 2 bits (see "2-bit planes" below).
//   Q3_K 256 elems, 110 B  u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d
//          16 sub-blocks of 16 with signed 6-bit scales packed in 12 bytes: scale s has its low
//          4 bits in nibble s/8 of byte s%8 and its high 2 bits in bits 2*(s/4).. of byte 8+s%4;
//          x = d*(scale-32)*(q - 4*(1-hbit)), q = 2 bits as Q2_K, hbit = bit 4h+g of hmask[l].
//          2-bit planes (Q2_K, Q3_K): halves h of 128 elements; element 32g + l of half h
//          (g = 0..3, l = 0..31) is bits 2g..2g+1 of qs[32h + l]; its sub-block is 8h + 2g + l/16.
//   Q4_K 256 elems, 144 B  half d, dmin; u8 scales[12]; u8 qs[128]
//          8 sub-blocks of 32, each with a 6-bit scale sc and 6-bit min mn packed in scales[12]:
//          j<4: sc = s[j]&63, mn = s[j+4]&63; j>=4: sc = (s[j+4]&15)|((s[j-4]>>6)<<4),
//          mn = (s[j+4]>>4)|((s[j]>>6)<<4). x = d*sc*q - dmin*mn. Sub-blocks 2i and 2i+1 share
//          qs[32i..32i+32): low nibbles for 2i, high nibbles for 2i+1.
//   Q5_K 256 elems, 176 B  half d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128]
//          as Q4_K plus a 5th bit: element l of sub-block s takes bit s of qh[l] (16 when set).
//   Q6_K 256 elems, 210 B  u8 ql[128]; u8 qh[64]; i8 scales[16]; half d
//          16 sub-blocks of 16; x = d*scales[sub]*(q-32), q = 4 low bits from ql, 2 high from qh
//          (see dequant_ref.cpp for the exact bit positions).
//   Q8_K 256 elems, 292 B  float d; i8 qs[256]; i16 bsums[16]   x = d*q
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace halo::model {

// GGUF tensor type ids (ggml_type); only the ones in the table are readable.
enum class GgmlType : std::uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8,
    q2_k = 10, q3_k = 11, q4_k = 12, q5_k = 13, q6_k = 14, q8_k = 15, iq4_nl = 20, bf16 = 30,
};

// Decodes `n_blocks` consecutive blocks from `src` into `dst` (n_blocks * block_size floats).
using DequantFn = void (*)(const std::uint8_t* src, float* dst, std::int64_t n_blocks);

struct TypeTraits {
    GgmlType type;
    std::string_view name;   // "Q4_1": the name ggml and GGUF tools print
    std::int64_t block_size; // elements per block
    std::int64_t type_size;  // bytes per block
    DequantFn dequant_ref;
    DequantFn dequant_fast;
};

std::span<const TypeTraits> type_table();
// The row for a GGUF type id, or nullptr when halo cannot read that type.
const TypeTraits* find_type(std::uint32_t id);
const TypeTraits* find_type(std::string_view name);
const TypeTraits& traits(GgmlType type);

// Bytes that `n_elements` of `type` occupy; nullopt when n_elements is not a whole number of
// blocks or the size overflows.
std::optional<std::int64_t> row_bytes(const TypeTraits& type, std::int64_t n_elements);

// Decodes `dst.size()` elements (a whole number of blocks) from `src` with the fast path.
// Throws halo::Error E5101 when the sizes do not match (a caller's bug: internal).
void dequantize(const TypeTraits& type, std::span<const std::uint8_t> src, std::span<float> dst);

}  // namespace halo::model
