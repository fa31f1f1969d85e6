// Dequantization: hand-built blocks with hand-computed values per type, reference == fast on
// random blocks, and the half-precision conversions.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "halo/model/dequant.hpp"
#include "halo/model/float_convert.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

void put16(std::vector<std::uint8_t>& b, std::size_t at, std::uint16_t v) {
    b[at] = v & 0xff;
    b[at + 1] = v >> 8;
}

// Decodes one block with both paths, checks they agree bit for bit and returns the values.
std::vector<float> decode(GgmlType type, const std::vector<std::uint8_t>& block) {
    const TypeTraits& t = traits(type);
    EXPECT_EQ(static_cast<std::int64_t>(block.size()), t.type_size);
    std::vector<float> ref(static_cast<std::size_t>(t.block_size)), fast(ref.size());
    t.dequant_ref(block.data(), ref.data(), 1);
    t.dequant_fast(block.data(), fast.data(), 1);
    for (std::size_t i = 0; i < ref.size(); ++i)
        EXPECT_EQ(std::bit_cast<std::uint32_t>(ref[i]), std::bit_cast<std::uint32_t>(fast[i])) << t.name << " element " << i;
    return ref;
}

TEST(DequantTable, RowsMatchTheGgufFormat) {
    struct Want { const char* name; std::uint32_t id; std::int64_t block, bytes; };
    const Want want[] = {{"F32", 0, 1, 4},     {"F16", 1, 1, 2},     {"BF16", 30, 1, 2},    {"Q4_0", 2, 32, 18},
                         {"Q4_1", 3, 32, 20},  {"Q5_0", 6, 32, 22},  {"Q5_1", 7, 32, 24},   {"Q8_0", 8, 32, 34},
                         {"Q4_K", 12, 256, 144}, {"Q5_K", 13, 256, 176}, {"Q6_K", 14, 256, 210}, {"Q8_K", 15, 256, 292},
                         {"Q2_K", 10, 256, 84},  {"Q3_K", 11, 256, 110}, {"IQ4_NL", 20, 32, 18}};
    EXPECT_EQ(type_table().size(), std::size(want));
    for (const auto& w : want) {
        const TypeTraits* t = find_type(w.id);
        ASSERT_NE(t, nullptr) << w.name;
        EXPECT_EQ(t->name, w.name);
        EXPECT_EQ(t->block_size, w.block);
        EXPECT_EQ(t->type_size, w.bytes);
        EXPECT_EQ(find_type(w.name), t);
    }
    EXPECT_EQ(find_type(4u), nullptr);  // removed Q4_2
    EXPECT_EQ(find_type(16u), nullptr);  // IQ2_XXS: not supported
    EXPECT_EQ(row_bytes(traits(GgmlType::q4_1), 576), 18 * 20);
    EXPECT_FALSE(row_bytes(traits(GgmlType::q4_1), 33).has_value());
}

TEST(DequantHand, Q4_0) {
    std::vector<std::uint8_t> b(18);
    put16(b, 0, 0x3800);  // d = 0.5
    for (int j = 0; j < 16; ++j) b[2 + j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
    const auto x = decode(GgmlType::q4_0, b);
    EXPECT_EQ(x[0], -4.0f);   // 0.5 * (0 - 8)
    EXPECT_EQ(x[5], -1.5f);   // 0.5 * (5 - 8)
    EXPECT_EQ(x[15], 3.5f);   // 0.5 * (15 - 8)
    EXPECT_EQ(x[16], 3.5f);   // high nibble of qs[0] = 15
    EXPECT_EQ(x[31], -4.0f);  // high nibble of qs[15] = 0
}

TEST(DequantHand, Q4_1) {
    std::vector<std::uint8_t> b(20);
    put16(b, 0, 0x3400);  // d = 0.25
    put16(b, 2, 0xBC00);  // m = -1
    for (int j = 0; j < 16; ++j) b[4 + j] = static_cast<std::uint8_t>(j | ((15 - j) << 4));
    const auto x = decode(GgmlType::q4_1, b);
    EXPECT_EQ(x[0], -1.0f);
    EXPECT_EQ(x[3], -0.25f);  // 0.25 * 3 - 1
    EXPECT_EQ(x[16], 2.75f);  // 0.25 * 15 - 1
    EXPECT_EQ(x[31], -1.0f);
}

TEST(DequantHand, Q5_0) {
    std::vector<std::uint8_t> b(22);
    put16(b, 0, 0x3C00);                    // d = 1
    b[2] = 0x01; b[5] = 0x80;               // qh bits 0 and 31
    b[6] = 0x0F;                            // qs[0] low nibble 15
    const auto x = decode(GgmlType::q5_0, b);
    EXPECT_EQ(x[0], 15.0f);    // (15 | 16) - 16
    EXPECT_EQ(x[1], -16.0f);   // 0 - 16
    EXPECT_EQ(x[16], -16.0f);  // high nibble 0, bit 16 clear
    EXPECT_EQ(x[31], 0.0f);    // bit 31 set: 16 - 16
}

TEST(DequantHand, Q5_1) {
    std::vector<std::uint8_t> b(24);
    put16(b, 0, 0x4000);  // d = 2
    put16(b, 2, 0x3800);  // m = 0.5
    b[6] = 0x01;          // qh bit 16
    b[8] = 0x21;          // qs[0]: low 1, high 2
    const auto x = decode(GgmlType::q5_1, b);
    EXPECT_EQ(x[0], 2.5f);    // 2 * 1 + 0.5
    EXPECT_EQ(x[1], 0.5f);
    EXPECT_EQ(x[16], 36.5f);  // 2 * (2 | 16) + 0.5
}

TEST(DequantHand, Q8_0) {
    std::vector<std::uint8_t> b(34);
    put16(b, 0, 0x3000);  // d = 0.125
    for (int i = 0; i < 32; ++i) b[2 + i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(i - 16));
    const auto x = decode(GgmlType::q8_0, b);
    EXPECT_EQ(x[0], -2.0f);
    EXPECT_EQ(x[16], 0.0f);
    EXPECT_EQ(x[31], 1.875f);
}

// Scales shared by the Q4_K and Q5_K cases: sub-block 0 scale 2 min 4; sub-block 1 scale 1
// min 5; sub-block 5 scale 3|16=19 min 7|32=39 (high bits from bytes 1 and 5); sub-block 4 zero.
void k_scales(std::vector<std::uint8_t>& b, std::size_t at) {
    b[at + 0] = 2;
    b[at + 4] = 4;
    b[at + 1] = 0x40 | 1;
    b[at + 5] = 0x80 | 5;
    b[at + 9] = 0x73;
}

TEST(DequantHand, Q4_K) {
    std::vector<std::uint8_t> b(144);
    put16(b, 0, 0x3C00);  // d = 1
    put16(b, 2, 0x3800);  // dmin = 0.5
    k_scales(b, 4);
    b[16 + 0] = 0x0A;   // element 0: q 10 (sub 0), element 32: q 0 (sub 1)
    b[16 + 67] = 0xB0;  // element 163 = sub 5, l 3: high nibble of qs[64 + 3] = 11
    const auto x = decode(GgmlType::q4_k, b);
    EXPECT_EQ(x[0], 18.0f);     // 1*2*10 - 0.5*4
    EXPECT_EQ(x[1], -2.0f);     // q 0
    EXPECT_EQ(x[32], -2.5f);    // 1*1*0 - 0.5*5
    EXPECT_EQ(x[163], 189.5f);  // 19*11 - 0.5*39
    EXPECT_EQ(x[128], 0.0f);    // sub-block 4: scale 0, min 0
}

TEST(DequantHand, Q5_K) {
    std::vector<std::uint8_t> b(176);
    put16(b, 0, 0x3C00);
    put16(b, 2, 0x3800);
    k_scales(b, 4);
    b[16 + 0] = 0x01;        // qh[0] bit 0: element 0 gets +16
    b[16 + 3] = 1 << 5;      // qh[3] bit 5: element 163 (sub 5) gets +16
    b[48 + 0] = 0x0A;
    b[48 + 67] = 0xB0;
    const auto x = decode(GgmlType::q5_k, b);
    EXPECT_EQ(x[0], 50.0f);     // 2*(10+16) - 2
    EXPECT_EQ(x[32], -2.5f);    // bit 1 of qh[0] clear
    EXPECT_EQ(x[163], 493.5f);  // 19*(11+16) - 19.5
}

TEST(DequantHand, Q6_K) {
    std::vector<std::uint8_t> b(210);
    put16(b, 208, 0x3800);                        // d = 0.5
    b[192 + 0] = 2;                               // scale of elements 0..15
    b[192 + 2] = static_cast<std::uint8_t>(-3);   // scale of elements 32..47
    b[192 + 15] = 4;                              // scale of elements 240..255
    b[0] = 0x05; b[128 + 0] = 0x02;               // element 0: q = 5 | 2<<4 = 37
    b[32] = 0x01;                                 // element 32: low 1, high bits 2-3 of qh[0] = 0
    b[113] = 0xF0; b[128 + 49] = 0xC0;            // element 241: high nibble of ql[113], bits 6-7 of qh[49]
    const auto x = decode(GgmlType::q6_k, b);
    EXPECT_EQ(x[0], 5.0f);     // 0.5*2*(37-32)
    EXPECT_EQ(x[1], -32.0f);   // 0.5*2*(0-32)
    EXPECT_EQ(x[32], 46.5f);   // 0.5*(-3)*(1-32)
    EXPECT_EQ(x[241], 62.0f);  // 0.5*4*(63-32)
}

TEST(DequantHand, IQ4_NL) {
    std::vector<std::uint8_t> b(18);
    put16(b, 0, 0x3800);  // d = 0.5
    b[2] = 0xF0;          // element 0: level 0 (-127), element 16: level 15 (113)
    b[3] = 0x78;          // element 1: level 8 (1), element 17: level 7 (-10)
    const auto x = decode(GgmlType::iq4_nl, b);
    EXPECT_EQ(x[0], -63.5f);
    EXPECT_EQ(x[16], 56.5f);
    EXPECT_EQ(x[1], 0.5f);
    EXPECT_EQ(x[17], -5.0f);
    EXPECT_EQ(x[2], -63.5f);  // qs 0: level 0
}

TEST(DequantHand, Q2_K) {
    std::vector<std::uint8_t> b(84);
    put16(b, 80, 0x3C00);  // d = 1
    put16(b, 82, 0x3800);  // dmin = 0.5
    b[0] = 0x32;           // sub-block 0 (elements 0..15): scale 2, min 3
    b[3] = 0x15;           // sub-block 3 (elements 48..63): scale 5, min 1
    b[9] = 0xF1;           // sub-block 9 (elements 144..159): scale 1, min 15
    b[16 + 0] = 0x03;      // element 0: bits 0-1 of qs[0] = 3; element 32: bits 2-3 = 0
    b[16 + 17] = 0x08;     // element 49: bits 2-3 of qs[17] = 2
    b[16 + 48] = 0x01;     // element 144: bits 0-1 of qs[32 + 16] = 1
    const auto x = decode(GgmlType::q2_k, b);
    EXPECT_EQ(x[0], 4.5f);     // 1*2*3 - 0.5*3
    EXPECT_EQ(x[1], -1.5f);    // q 0
    EXPECT_EQ(x[32], 0.0f);    // sub-block 2: scale 0, min 0
    EXPECT_EQ(x[49], 9.5f);    // 5*2 - 0.5
    EXPECT_EQ(x[144], -6.5f);  // 1*1 - 0.5*15
}

TEST(DequantHand, Q3_K) {
    std::vector<std::uint8_t> b(110);
    put16(b, 108, 0x3800);  // d = 0.5
    b[96 + 0] = 0x03;       // sub-block 0: low 4 bits 3 ...
    b[96 + 8] = 0x02;       // ... high 2 bits 2: raw 35, scale 3
    b[96 + 5] = 0xF0;       // sub-block 13 (elements 208..223): low bits in the high nibble of byte 5 ...
    b[96 + 9] = 0xC0;       // ... high bits in bits 6-7 of byte 9: raw 63, scale 31
    b[0] = 0x01;            // hmask[0] bit 0: element 0 has its high bit
    b[32 + 0] = 0x01;       // element 0: low bits 1
    b[16] = 1 << 6;         // hmask[16] bit 4*1 + 2: element 208 (half 1, quarter 2, l 16)
    b[32 + 48] = 0x30;      // element 208: bits 4-5 of qs[32 + 16] = 3
    const auto x = decode(GgmlType::q3_k, b);
    EXPECT_EQ(x[0], 1.5f);     // 0.5*3*1
    EXPECT_EQ(x[1], -6.0f);    // 0.5*3*(0-4)
    EXPECT_EQ(x[32], 64.0f);   // sub-block 2 raw 0: 0.5*(-32)*(0-4)
    EXPECT_EQ(x[208], 46.5f);  // 0.5*31*3
    EXPECT_EQ(x[209], -62.0f); // 0.5*31*(0-4)
}

TEST(DequantHand, Q8_K) {
    std::vector<std::uint8_t> b(292);
    const float d = 0.25f;
    std::memcpy(b.data(), &d, 4);
    for (int i = 0; i < 256; ++i) b[4 + i] = static_cast<std::uint8_t>(static_cast<std::int8_t>(i - 128));
    const auto x = decode(GgmlType::q8_k, b);
    EXPECT_EQ(x[0], -32.0f);
    EXPECT_EQ(x[255], 31.75f);
}

TEST(DequantHand, FloatTypes) {
    std::vector<std::uint8_t> h(2);
    put16(h, 0, 0x3C00);
    EXPECT_EQ(decode(GgmlType::f16, h)[0], 1.0f);
    put16(h, 0, 0x7BFF);
    EXPECT_EQ(decode(GgmlType::f16, h)[0], 65504.0f);
    put16(h, 0, 0x0001);
    EXPECT_EQ(decode(GgmlType::f16, h)[0], std::ldexp(1.0f, -24));
    put16(h, 0, 0xFC00);
    EXPECT_EQ(decode(GgmlType::f16, h)[0], -INFINITY);
    put16(h, 0, 0x3FC0);
    EXPECT_EQ(decode(GgmlType::bf16, h)[0], 1.5f);
    std::vector<std::uint8_t> f(4);
    const float v = -3.25f;
    std::memcpy(f.data(), &v, 4);
    EXPECT_EQ(decode(GgmlType::f32, f)[0], -3.25f);
}

// Random bytes (with the half-precision scales kept finite) through both paths, many blocks.
TEST(DequantRefVsFast, AgreeOnRandomBlocks) {
    std::mt19937 rng(1234);
    for (const auto& t : type_table()) {
        const std::int64_t n_blocks = 37;
        std::vector<std::uint8_t> bytes(static_cast<std::size_t>(n_blocks * t.type_size));
        for (auto& x : bytes) x = static_cast<std::uint8_t>(rng());
        std::vector<float> ref(static_cast<std::size_t>(n_blocks * t.block_size)), fast(ref.size());
        t.dequant_ref(bytes.data(), ref.data(), n_blocks);
        t.dequant_fast(bytes.data(), fast.data(), n_blocks);
        for (std::size_t i = 0; i < ref.size(); ++i) {
            if (std::isnan(ref[i])) {
                EXPECT_TRUE(std::isnan(fast[i])) << t.name << " " << i;
                continue;
            }
            ASSERT_EQ(std::bit_cast<std::uint32_t>(ref[i]), std::bit_cast<std::uint32_t>(fast[i])) << t.name << " " << i;
        }
    }
}

TEST(DequantApi, SizeMismatchIsAnInternalError) {
    std::vector<std::uint8_t> bytes(20);
    std::vector<float> out(31);
    try {
        dequantize(traits(GgmlType::q4_1), bytes, out);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5101");
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::internal);
    }
}

TEST(FloatConvert, Fp16FastEqualsReferenceOnAllInputs) {
    for (std::uint32_t i = 0; i < 65536; ++i) {
        const auto h = static_cast<std::uint16_t>(i);
        const float r = fp16_to_fp32_ref(h), f = fp16_to_fp32(h);
        if (std::isnan(r)) EXPECT_TRUE(std::isnan(f));
        else ASSERT_EQ(std::bit_cast<std::uint32_t>(r), std::bit_cast<std::uint32_t>(f)) << i;
        // Every finite half survives FP32 -> FP16 exactly.
        if (!std::isnan(r)) {
            ASSERT_EQ(fp32_to_fp16(r), h) << i;
        }
    }
}

TEST(FloatConvert, RoundsToNearestEven) {
    EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);      // halfway: to even (down)
    EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);  // halfway: to even (up)
    EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7C00);                          // overflows to inf
    EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);             // half of the smallest subnormal: even
    EXPECT_EQ(fp32_to_fp16(std::ldexp(3.0f, -26)), 0x0001);
    EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);       // halfway: to even
    EXPECT_EQ(fp32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
    EXPECT_EQ(bf16_to_fp32(fp32_to_bf16(-2.5f)), -2.5f);
}

}  // namespace
}  // namespace halo::model
