// Fast dequantizers: a block is copied into its struct (the map gives no alignment promise)
// and decoded in fixed-trip loops. Arithmetic is done in the same order as the reference so
// the two agree bit for bit.
#include <cstring>

#include "halo/model/dequant_blocks.hpp"
#include "halo/model/dequant_ref.hpp"
#include "halo/model/float_convert.hpp"

namespace halo::model::fast {
namespace {

template <typename Block>
Block load(const std::uint8_t* src, std::int64_t index) {
    Block b;
    std::memcpy(&b, src + index * static_cast<std::int64_t>(sizeof(Block)), sizeof(Block));
    return b;
}

// Decodes the 32 five-bit values of a Q5_0/Q5_1 block into q[].
void unpack_q5(const std::uint8_t* qs, const std::uint8_t* qh_bytes, int* q) {
    std::uint32_t qh;
    std::memcpy(&qh, qh_bytes, 4);
    for (int j = 0; j < 16; ++j) {
        q[j] = (qs[j] & 15) | static_cast<int>(((qh >> j) & 1u) << 4);
        q[j + 16] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + 16)) & 1u) << 4);
    }
}

}  // namespace

void dequant_f32(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    std::memcpy(dst, src, static_cast<std::size_t>(n_blocks) * 4);
}
void dequant_f16(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t i = 0; i < n_blocks; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = fp16_to_fp32(h);
    }
}
void dequant_bf16(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t i = 0; i < n_blocks; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = bf16_to_fp32(h);
    }
}
void dequant_q4_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b, dst += 32) {
        const auto blk = load<blocks::Q4_0>(src, b);
        const float d = fp16_to_fp32(blk.d);
        for (int j = 0; j < 16; ++j) {
            dst[j] = d * ((blk.qs[j] & 15) - 8);
            dst[j + 16] = d * ((blk.qs[j] >> 4) - 8);
        }
    }
}
void dequant_q4_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b, dst += 32) {
        const auto blk = load<blocks::Q4_1>(src, b);
        const float d = fp16_to_fp32(blk.d), m = fp16_to_fp32(blk.m);
        for (int j = 0; j < 16; ++j) {
            dst[j] = d * (blk.qs[j] & 15) + m;
            dst[j + 16] = d * (blk.qs[j] >> 4) + m;
        }
    }
}
void dequant_q5_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b, dst += 32) {
        const auto blk = load<blocks::Q5_0>(src, b);
        const float d = fp16_to_fp32(blk.d);
        int q[32];
        unpack_q5(blk.qs, blk.qh, q);
        for (int j = 0; j < 32; ++j) dst[j] = d * (q[j] - 16);
    }
}
void dequant_q5_1(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b, dst += 32) {
        const auto blk = load<blocks::Q5_1>(src, b);
        const float d = fp16_to_fp32(blk.d), m = fp16_to_fp32(blk.m);
        int q[32];
        unpack_q5(blk.qs, blk.qh, q);
        for (int j = 0; j < 32; ++j) dst[j] = d * q[j] + m;
    }
}
void dequant_q8_0(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b, dst += 32) {
        const auto blk = load<blocks::Q8_0>(src, b);
        const float d = fp16_to_fp32(blk.d);
        for (int j = 0; j < 32; ++j) dst[j] = d * blk.qs[j];
    }
}
void dequant_iq4_nl(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b, dst += 32) {
        const auto blk = load<blocks::IQ4_NL>(src, b);
        const float d = fp16_to_fp32(blk.d);
        for (int j = 0; j < 16; ++j) {
            dst[j] = d * blocks::kIq4NlValues[blk.qs[j] & 15];
            dst[j + 16] = d * blocks::kIq4NlValues[blk.qs[j] >> 4];
        }
    }
}
void dequant_q2_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b) {
        const auto blk = load<blocks::Q2_K>(src, b);
        const float d = fp16_to_fp32(blk.d), dmin = fp16_to_fp32(blk.dmin);
        const std::uint8_t* sc = blk.scales;
        for (int h = 0; h < 2; ++h) {
            const std::uint8_t* q = blk.qs + 32 * h;
            for (int shift = 0; shift < 8; shift += 2, sc += 2) {
                const float d0 = d * (sc[0] & 15), m0 = dmin * (sc[0] >> 4);
                const float d1 = d * (sc[1] & 15), m1 = dmin * (sc[1] >> 4);
                for (int l = 0; l < 16; ++l) *dst++ = d0 * ((q[l] >> shift) & 3) - m0;
                for (int l = 16; l < 32; ++l) *dst++ = d1 * ((q[l] >> shift) & 3) - m1;
            }
        }
    }
}
void dequant_q3_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b) {
        const auto blk = load<blocks::Q3_K>(src, b);
        const float d = fp16_to_fp32(blk.d);
        int sub = 0;
        std::uint8_t mask = 1;
        for (int h = 0; h < 2; ++h) {
            const std::uint8_t* q = blk.qs + 32 * h;
            for (int shift = 0; shift < 8; shift += 2, mask <<= 1, sub += 2) {
                const float d0 = d * blocks::scale_q3_k(sub, blk.scales);
                const float d1 = d * blocks::scale_q3_k(sub + 1, blk.scales);
                for (int l = 0; l < 16; ++l) *dst++ = d0 * (((q[l] >> shift) & 3) - (blk.hmask[l] & mask ? 0 : 4));
                for (int l = 16; l < 32; ++l) *dst++ = d1 * (((q[l] >> shift) & 3) - (blk.hmask[l] & mask ? 0 : 4));
            }
        }
    }
}
void dequant_q4_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b) {
        const auto blk = load<blocks::Q4_K>(src, b);
        const float d = fp16_to_fp32(blk.d), dmin = fp16_to_fp32(blk.dmin);
        const std::uint8_t* q = blk.qs;
        for (int sub = 0; sub < 8; sub += 2, q += 32) {
            int sc0, mn0, sc1, mn1;
            blocks::scale_min_k4(sub, blk.scales, sc0, mn0);
            blocks::scale_min_k4(sub + 1, blk.scales, sc1, mn1);
            const float d0 = d * sc0, m0 = dmin * mn0, d1 = d * sc1, m1 = dmin * mn1;
            for (int l = 0; l < 32; ++l) *dst++ = d0 * (q[l] & 15) - m0;
            for (int l = 0; l < 32; ++l) *dst++ = d1 * (q[l] >> 4) - m1;
        }
    }
}
void dequant_q5_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b) {
        const auto blk = load<blocks::Q5_K>(src, b);
        const float d = fp16_to_fp32(blk.d), dmin = fp16_to_fp32(blk.dmin);
        const std::uint8_t* q = blk.qs;
        std::uint8_t mask0 = 1, mask1 = 2;
        for (int sub = 0; sub < 8; sub += 2, q += 32, mask0 <<= 2, mask1 <<= 2) {
            int sc0, mn0, sc1, mn1;
            blocks::scale_min_k4(sub, blk.scales, sc0, mn0);
            blocks::scale_min_k4(sub + 1, blk.scales, sc1, mn1);
            const float d0 = d * sc0, m0 = dmin * mn0, d1 = d * sc1, m1 = dmin * mn1;
            for (int l = 0; l < 32; ++l) *dst++ = d0 * ((q[l] & 15) + (blk.qh[l] & mask0 ? 16 : 0)) - m0;
            for (int l = 0; l < 32; ++l) *dst++ = d1 * ((q[l] >> 4) + (blk.qh[l] & mask1 ? 16 : 0)) - m1;
        }
    }
}
void dequant_q6_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b) {
        const auto blk = load<blocks::Q6_K>(src, b);
        const float d = fp16_to_fp32(blk.d);
        for (int h = 0; h < 2; ++h, dst += 128) {
            const std::uint8_t* ql = blk.ql + 64 * h;
            const std::uint8_t* qh = blk.qh + 32 * h;
            const std::int8_t* sc = blk.scales + 8 * h;
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int q0 = ((ql[l] & 15) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q1 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q2 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q3 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                dst[l] = d * sc[is + 0] * q0;
                dst[l + 32] = d * sc[is + 2] * q1;
                dst[l + 64] = d * sc[is + 4] * q2;
                dst[l + 96] = d * sc[is + 6] * q3;
            }
        }
    }
}
void dequant_q8_k(const std::uint8_t* src, float* dst, std::int64_t n_blocks) {
    for (std::int64_t b = 0; b < n_blocks; ++b, dst += 256) {
        const auto blk = load<blocks::Q8_K>(src, b);
        for (int j = 0; j < 256; ++j) dst[j] = blk.d * blk.qs[j];
    }
}

}  // namespace halo::model::fast
