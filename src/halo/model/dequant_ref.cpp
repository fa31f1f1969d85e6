#include "halo/model/dequant_ref.hpp"

#include <cstring>

#include "halo/model/float_convert.hpp"

namespace halo::model::ref {
namespace {

std::uint16_t u16_at(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
float half_at(const std::uint8_t* p) { return fp16_to_fp32_ref(u16_at(p)); }
int bit(const std::uint8_t* bytes, int index) { return (bytes[index / 8] >> (index % 8)) & 1; }

// Applies `element(block, i)` to every element of every block.
template <int kBlock, int kBytes, typename Element>
void each(const std::uint8_t* src, float* dst, std::int64_t n_blocks, Element element) {
    for (std::int64_t b = 0; b < n_blocks; ++b)
        for (int i = 0; i < kBlock; ++i) dst[b * kBlock + i] = element(src + b * kBytes, i);
}

// Legacy 32-element blocks: element i < 16 is the low nibble of qs[i], i >= 16 the high
// nibble of qs[i-16]; for the 5-bit kinds, bit i of the 32-bit qh is the fifth bit.
int nibble(const std::uint8_t* qs, int i) { return i < 16 ? qs[i] & 15 : qs[i - 16] >> 4; }

// Q4_K/Q5_K scales[12]: bytes 0-3 low 6 bits = scales 0-3, bytes 4-7 low 6 bits = mins 0-3;
// scales/mins 4-7 take their low 4 bits from the low/high nibble of bytes 8-11 and their high
// 2 bits from the top 2 bits of bytes 0-3 / 4-7.
void k_scale_min(const std::uint8_t* s, int sub, int& scale, int& min) {
    if (sub < 4) {
        scale = s[sub] & 0x3f;
        min = s[4 + sub] & 0x3f;
        return;
    }
    const int k = sub - 4;
    scale = (s[8 + k] & 0x0f) | ((s[k] >> 6) << 4);
    min = (s[8 + k] >> 4) | ((s[4 + k] >> 6) << 4);
}

// Element i of a Q4_K/Q5_K super-block: sub-block i/32; sub-blocks 2p and 2p+1 share the 32
// bytes qs[32p..): low nibbles for the even one, high for the odd one.
int k4_quant(const std::uint8_t* qs, int i) {
    const int sub = i / 32, l = i % 32;
    const std::uint8_t byte = qs[32 * (sub / 2) + l];
    return sub % 2 == 0 ? byte & 15 : byte >> 4;
}

// The 2-bit value of element i of a Q2_K/Q3_K super-block and its 16-element sub-block: in
// half h = i/128, element 32g + l takes bits 2g..2g+1 of qs[32h + l].
int k2_quant(const std::uint8_t* qs, int i, int& sub) {
    const int h = i / 128, g = (i % 128) / 32, l = i % 32;
    sub = 8 * h + 2 * g + l / 16;
    return (qs[32 * h + l] >> (2 * g)) & 3;
}

// Q3_K's 12 scale bytes, written as ggml packs them: scales 0-7 keep their low 4 bits in the
// low nibbles of bytes 0-7, scales 8-15 in the high nibbles; bytes 8-11 hold the high 2 bits,
// byte 8+k carrying scales k, k+4, k+8, k+12 in bit pairs 0-1, 2-3, 4-5, 6-7.
int q3_k_scale(const std::uint8_t* s, int sub) {
    const int low = sub < 8 ? s[sub] & 0x0f : s[sub - 8] >> 4;
    const int high = (s[8 + sub % 4] >> (2 * (sub / 4))) & 3;
    return low + 16 * high - 32;
}

constexpr int kIq4Nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

}  // namespace

void dequant_f32(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<1, 4>(src, dst, n_blocks, [](const std::uint8_t* b, int) {
        float f;
        std::memcpy(&f, b, 4);
        return f;
    });
}
void dequant_f16(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<1, 2>(src, dst, n_blocks, [](const std::uint8_t* b, int) { return half_at(b); });
}
void dequant_bf16(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<1, 2>(src, dst, n_blocks, [](const std::uint8_t* b, int) { return bf16_to_fp32(u16_at(b)); });
}
void dequant_q4_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<32, 18>(src, dst, n_blocks, [](const std::uint8_t* b, int i) { return half_at(b) * (nibble(b + 2, i) - 8); });
}
void dequant_q4_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<32, 20>(src, dst, n_blocks,
                 [](const std::uint8_t* b, int i) { return half_at(b) * nibble(b + 4, i) + half_at(b + 2); });
}
void dequant_q5_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<32, 22>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        const int q = nibble(b + 6, i) | (bit(b + 2, i) << 4);
        return half_at(b) * (q - 16);
    });
}
void dequant_q5_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<32, 24>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        const int q = nibble(b + 8, i) | (bit(b + 4, i) << 4);
        return half_at(b) * q + half_at(b + 2);
    });
}
void dequant_q8_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<32, 34>(src, dst, n_blocks,
                 [](const std::uint8_t* b, int i) { return half_at(b) * static_cast<std::int8_t>(b[2 + i]); });
}
void dequant_iq4_nl(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<32, 18>(src, dst, n_blocks, [](const std::uint8_t* b, int i) { return half_at(b) * kIq4Nl[nibble(b + 2, i)]; });
}
void dequant_q2_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<256, 84>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        int sub;
        const int q = k2_quant(b + 16, i, sub);
        const int scale = b[sub] & 15, min = b[sub] >> 4;
        return half_at(b + 80) * scale * q - half_at(b + 82) * min;
    });
}
// Q3_K: the high bit of element 32g + l of half h is bit 4h + g of hmask[l]; a clear bit
// subtracts 4, so q runs -4..3.
void dequant_q3_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<256, 110>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        int sub;
        const int low = k2_quant(b + 32, i, sub);
        const int h = i / 128, g = (i % 128) / 32, l = i % 32;
        const int high = (b[l] >> (4 * h + g)) & 1;
        return half_at(b + 108) * q3_k_scale(b + 96, sub) * (low - (high ? 0 : 4));
    });
}
void dequant_q4_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<256, 144>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        int scale, min;
        k_scale_min(b + 4, i / 32, scale, min);
        return half_at(b) * scale * k4_quant(b + 16, i) - half_at(b + 2) * min;
    });
}
void dequant_q5_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<256, 176>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        int scale, min;
        k_scale_min(b + 4, i / 32, scale, min);
        const std::uint8_t* qh = b + 16;
        const int high = (qh[i % 32] >> (i / 32)) & 1;  // bit `sub` of qh[l]
        const int q = k4_quant(b + 48, i) + 16 * high;
        return half_at(b) * scale * q - half_at(b + 2) * min;
    });
}
// Q6_K: two halves of 128 elements; in half h, element r = 32*g + l (quarter g) takes its low
// 4 bits from ql[64h + l + 32*(g%2)] (low nibble for g<2, high for g>=2), its high 2 bits from
// bits 2g..2g+1 of qh[32h + l], and scale scales[8h + 2g + l/16].
void dequant_q6_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<256, 210>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        const std::uint8_t* ql = b;
        const std::uint8_t* qh = b + 128;
        const std::uint8_t* scales = b + 192;
        const int h = i / 128, r = i % 128, g = r / 32, l = r % 32;
        const std::uint8_t low_byte = ql[64 * h + l + 32 * (g % 2)];
        const int low = g < 2 ? low_byte & 15 : low_byte >> 4;
        const int high = (qh[32 * h + l] >> (2 * g)) & 3;
        const int scale = static_cast<std::int8_t>(scales[8 * h + 2 * g + l / 16]);
        return half_at(b + 208) * scale * ((low | (high << 4)) - 32);
    });
}
void dequant_q8_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    each<256, 292>(src, dst, n_blocks, [](const std::uint8_t* b, int i) {
        float d;
        std::memcpy(&d, b, 4);
        return d * static_cast<std::int8_t>(b[4 + i]);
    });
}

}  // namespace halo::model::ref
