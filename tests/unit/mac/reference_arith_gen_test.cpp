// The C++ reference against hand-computed cases (the values are worked out in the comments).
#include "halo/mac/reference_arith.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "halo/mac/mac_table.hpp"

namespace halo::mac {
namespace {

std::uint64_t y(const char* mac, std::uint64_t w, std::uint64_t a, std::uint64_t acc) {
    return reference_y(find_mac(mac), w, a, acc);
}

TEST(ReferenceInt, HandComputed) {
    EXPECT_EQ(y("int8", 0x80, 0x80, 0), 0x004000u);            // -128 * -128 = 16384
    EXPECT_EQ(y("int8", 0x7F, 0x80, 0x800000), 0x7FC080u);     // -2^23 - 16256 wraps to 0x7FC080
    EXPECT_EQ(y("int8", 0xFF, 0x01, 0x000000), 0xFFFFFFu);     // -1
    EXPECT_EQ(y("int8", 0x7F, 0x7F, 0x7FFFFF), 0x803F00u);     // 2^23-1 + 16129 wraps negative
    EXPECT_EQ(y("int8xu8", 0xFF, 0xFF, 0), 0xFFFF01u);         // -1 * 255 = -255
    EXPECT_EQ(y("int8xu8", 0x80, 0xFF, 0), 0xFF8080u);         // -128 * 255 = -32640
    EXPECT_EQ(y("int4", 0x8, 0x8, 0), 0x0040u);                // -8 * -8 = 64
    EXPECT_EQ(y("int4", 0x7, 0x8, 0x8000), 0x7FC8u);           // -32768 - 56 wraps to 32712
    EXPECT_EQ(reference_y(with_accumulator_bits(find_mac("int8"), 32), 0x80, 0x7F, 0), 0xFFFFC080u);  // -16256
}

TEST(ReferenceFormats, E4m3Decode) {
    EXPECT_EQ(e4m3_to_double(0x7E), 448.0);
    EXPECT_EQ(e4m3_to_double(0x38), 1.0);
    EXPECT_EQ(e4m3_to_double(0xB8), -1.0);
    EXPECT_EQ(e4m3_to_double(0x08), std::ldexp(1.0, -6));     // min normal
    EXPECT_EQ(e4m3_to_double(0x01), std::ldexp(1.0, -9));     // min subnormal
    EXPECT_EQ(e4m3_to_double(0x07), 7.0 / 8 * std::ldexp(1.0, -6));
    EXPECT_EQ(e4m3_to_double(0x77), 240.0);
    EXPECT_TRUE(std::isnan(e4m3_to_double(0x7F)));
    EXPECT_TRUE(std::isnan(e4m3_to_double(0xFF)));
    EXPECT_FALSE(e4m3_is_nan(0x7E));
    EXPECT_EQ(bf16_to_double(0x0001), std::ldexp(1.0, -133));
    EXPECT_EQ(fp16_to_double(0x0001), std::ldexp(1.0, -24));
    EXPECT_EQ(fp16_to_double(0x7BFF), 65504.0);
}

TEST(ReferenceE4m3Fp32, HandComputed) {
    const char* m = "fp8-e4m3-fp32";
    EXPECT_EQ(y(m, 0x38, 0x38, 0), 0x3F800000u);                // 1 * 1 + 0
    EXPECT_EQ(y(m, 0x7E, 0x7E, 0), 0x48440000u);                // 448^2 = 200704 = 1.53125 * 2^17
    EXPECT_EQ(y(m, 0x01, 0x01, 0), 0x36800000u);                // 2^-9 * 2^-9 = 2^-18, exact
    EXPECT_EQ(y(m, 0x01, 0x01, 0x42800000), 0x42800000u);       // 64 + 2^-18: tie, even stays
    EXPECT_EQ(y(m, 0x01, 0x01, 0x42800001), 0x42800002u);       // odd + half ulp: tie, up to even
    EXPECT_EQ(y(m, 0x38, 0x38, 0xBF800000), 0x00000000u);       // 1 - 1 = +0
    EXPECT_EQ(y(m, 0x80, 0x38, 0x80000000), 0x80000000u);       // -0 + -0 = -0
    EXPECT_EQ(y(m, 0x80, 0x38, 0x00000000), 0x00000000u);       // -0 + +0 = +0
    EXPECT_EQ(y(m, 0x00, 0x38, 0x00000001), 0x00000001u);       // FP32 subnormal acc kept
    EXPECT_EQ(y(m, 0x7F, 0x38, 0), kFp32CanonicalNan);          // NaN weight
    EXPECT_EQ(y(m, 0x38, 0x38, 0x7F800001), kFp32CanonicalNan); // NaN acc, canonicalized
    EXPECT_EQ(y(m, 0x7E, 0x7E, 0xFF800000), 0xFF800000u);       // -Inf + finite
}

TEST(ReferenceE4m3Fp16, HandComputed) {
    const char* m = "fp8-e4m3-fp16";
    EXPECT_EQ(y(m, 0x38, 0x38, 0x3C00), 0x4000u);   // 1 + 1 = 2
    EXPECT_EQ(y(m, 0x58, 0x58, 0), 0x5C00u);        // 16 * 16 = 256
    EXPECT_EQ(y(m, 0x77, 0x77, 0), 0x7B08u);        // 240^2 = 57600 = 1.7578125 * 2^15, exact
    EXPECT_EQ(y(m, 0x7E, 0x7E, 0), 0x7C00u);        // 200704 overflows FP16 -> +Inf
    EXPECT_EQ(y(m, 0x38, 0x38, 0x6800), 0x6800u);   // 2048 + 1: tie (ulp 2), even stays
    EXPECT_EQ(y(m, 0x38, 0x38, 0x6801), 0x6802u);   // 2050 + 1: tie, up to 2052
    EXPECT_EQ(y(m, 0x58, 0x38, 0x7BFF), 0x7C00u);   // 65504 + 16 = 65520: tie, even is 2^16 -> Inf
    EXPECT_EQ(y(m, 0x01, 0x01, 0), 0x0040u);        // 2^-18 = 64 * 2^-24, FP16 subnormal
    EXPECT_EQ(y(m, 0x01, 0x01, 0x0001), 0x0041u);   // subnormal + subnormal
    EXPECT_EQ(y(m, 0xFF, 0x38, 0), kFp16CanonicalNan);
}

TEST(ReferenceBf16Fp32, HandComputed) {
    const char* m = "bf16-fp32";
    EXPECT_EQ(y(m, 0x3F80, 0x3F80, 0), 0x3F800000u);
    EXPECT_EQ(y(m, 0x7F80, 0x0000, 0), kFp32CanonicalNan);           // Inf * 0
    EXPECT_EQ(y(m, 0x7F80, 0x3F80, 0xFF800000), kFp32CanonicalNan);  // Inf - Inf
    EXPECT_EQ(y(m, 0x7F80, 0x3F80, 0x3F800000), 0x7F800000u);        // Inf + 1
    EXPECT_EQ(y(m, 0xFF80, 0x3F80, 0), 0xFF800000u);                 // -Inf
    EXPECT_EQ(y(m, 0x7F7F, 0x4000, 0), 0x7F800000u);                 // max * 2 overflows
    EXPECT_EQ(y(m, 0x0080, 0x3F00, 0), 0x00400000u);                 // 2^-126 * 0.5 = 2^-127 subnormal
    EXPECT_EQ(y(m, 0x0080, 0x3400, 0), 0x00000001u);                 // 2^-149
    EXPECT_EQ(y(m, 0x0080, 0x3380, 0), 0x00000000u);                 // 2^-150: tie, to even 0
    EXPECT_EQ(y(m, 0x0080, 0x33C0, 0), 0x00000001u);                 // 0.75 * 2^-149 rounds up
    EXPECT_EQ(y(m, 0x8080, 0x3380, 0), 0x80000000u);                 // -2^-150 -> -0
    EXPECT_EQ(y(m, 0x3F81, 0x3F81, 0xBF800000), 0x3C808000u);        // (1+2^-7)^2 - 1 = 2^-6 + 2^-14
    EXPECT_EQ(y(m, 0x3F80, 0x3F80, 0x4B800000), 0x4B800000u);        // 2^24 + 1: tie, even stays
    EXPECT_EQ(y(m, 0x3F81, 0x3F80, 0x4B800000), 0x4B800001u);        // 2^24 + 1.0078: above tie, up
}

}  // namespace
}  // namespace halo::mac
