// Byte layouts of the quantized blocks (see dequant.hpp), shared by the reference and fast
// dequantizers and by the tests that hand-build blocks. The static_asserts pin the sizes to
// the GGUF format: a layout change here would silently misread every file.
#pragma once

#include <cstdint>

namespace halo::model::blocks {

constexpr int kQK = 32;     // elements per block of the legacy formats
constexpr int kQK_K = 256;  // elements per super-block of the k-quants
constexpr int kScaleBytesK = 12;

struct Q4_0 { std::uint16_t d; std::uint8_t qs[kQK / 2]; };
struct Q4_1 { std::uint16_t d; std::uint16_t m; std::uint8_t qs[kQK / 2]; };
struct Q5_0 { std::uint16_t d; std::uint8_t qh[4]; std::uint8_t qs[kQK / 2]; };
struct Q5_1 { std::uint16_t d; std::uint16_t m; std::uint8_t qh[4]; std::uint8_t qs[kQK / 2]; };
struct Q8_0 { std::uint16_t d; std::int8_t qs[kQK]; };
struct IQ4_NL { std::uint16_t d; std::uint8_t qs[kQK / 2]; };
struct Q2_K { std::uint8_t scales[kQK_K / 16]; std::uint8_t qs[kQK_K / 4]; std::uint16_t d; std::uint16_t dmin; };
struct Q3_K { std::uint8_t hmask[kQK_K / 8]; std::uint8_t qs[kQK_K / 4]; std::uint8_t scales[kScaleBytesK]; std::uint16_t d; };
struct Q4_K { std::uint16_t d; std::uint16_t dmin; std::uint8_t scales[kScaleBytesK]; std::uint8_t qs[kQK_K / 2]; };
struct Q5_K { std::uint16_t d; std::uint16_t dmin; std::uint8_t scales[kScaleBytesK]; std::uint8_t qh[kQK_K / 8]; std::uint8_t qs[kQK_K / 2]; };
struct Q6_K { std::uint8_t ql[kQK_K / 2]; std::uint8_t qh[kQK_K / 4]; std::int8_t scales[kQK_K / 16]; std::uint16_t d; };
struct Q8_K { float d; std::int8_t qs[kQK_K]; std::int16_t bsums[kQK_K / 16]; };

static_assert(sizeof(Q4_0) == 2 + kQK / 2, "Q4_0 block size");
static_assert(sizeof(Q4_1) == 4 + kQK / 2, "Q4_1 block size");
static_assert(sizeof(Q5_0) == 2 + 4 + kQK / 2, "Q5_0 block size");
static_assert(sizeof(Q5_1) == 4 + 4 + kQK / 2, "Q5_1 block size");
static_assert(sizeof(Q8_0) == 2 + kQK, "Q8_0 block size");
static_assert(sizeof(IQ4_NL) == 2 + kQK / 2, "IQ4_NL block size");
static_assert(sizeof(Q2_K) == kQK_K / 16 + kQK_K / 4 + 4, "Q2_K block size");
static_assert(sizeof(Q3_K) == kQK_K / 8 + kQK_K / 4 + kScaleBytesK + 2, "Q3_K block size");
static_assert(sizeof(Q4_K) == 4 + kScaleBytesK + kQK_K / 2, "Q4_K block size");
static_assert(sizeof(Q5_K) == 4 + kScaleBytesK + kQK_K / 8 + kQK_K / 2, "Q5_K block size");
static_assert(sizeof(Q6_K) == kQK_K / 2 + kQK_K / 4 + kQK_K / 16 + 2, "Q6_K block size");
static_assert(sizeof(Q8_K) == 4 + kQK_K + kQK_K / 8, "Q8_K block size");

// IQ4_NL's 16 non-linear levels (the codebook is part of the format, not a tuning choice).
inline constexpr std::int8_t kIq4NlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                 1,    13,   25,  38,  53,  69,  89,  113};

// The signed 6-bit scale of sub-block s (0..15) of a Q3_K super-block, minus its bias 32.
inline int scale_q3_k(int s, const std::uint8_t* scales) {
    const int low = (scales[s % 8] >> (4 * (s / 8))) & 15;
    const int high = (scales[8 + s % 4] >> (2 * (s / 4))) & 3;
    return (low | (high << 4)) - 32;
}

// The 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K super-block.
inline void scale_min_k4(int j, const std::uint8_t* s, int& scale, int& min) {
    if (j < 4) {
        scale = s[j] & 63;
        min = s[j + 4] & 63;
    } else {
        scale = (s[j + 4] & 0x0f) | ((s[j - 4] >> 6) << 4);
        min = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

}  // namespace halo::model::blocks
