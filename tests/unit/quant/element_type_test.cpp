#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "halo/quant/element_type.hpp"
#include "halo/quant/scale_format.hpp"

namespace halo::quant {
namespace {

TEST(ElementType, E2M1CodeTable) {
    const auto& t = element_type(ElementId::e2m1);
    const float expect[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
    for (int c = 0; c < 8; ++c) {
        EXPECT_EQ(decode(t, static_cast<std::uint8_t>(c)), expect[c]) << c;
        EXPECT_EQ(decode(t, static_cast<std::uint8_t>(c | 8)), -expect[c]) << c;
    }
    EXPECT_EQ(max_finite(t), 6.0f);
    EXPECT_EQ(representable_values(t).size(), 15u);  // -0 folded
}

TEST(ElementType, MinifloatLimits) {
    const auto& e4m3 = element_type(ElementId::e4m3);
    EXPECT_EQ(max_finite(e4m3), 448.0f);
    EXPECT_EQ(decode(e4m3, 0x7E), 448.0f);
    EXPECT_TRUE(std::isnan(decode(e4m3, 0x7F)));
    EXPECT_TRUE(std::isnan(decode(e4m3, 0xFF)));
    EXPECT_EQ(decode(e4m3, 0x01), std::ldexp(1.0f, -9));  // smallest subnormal
    EXPECT_EQ(decode(e4m3, 0x08), std::ldexp(1.0f, -6));  // smallest normal
    const auto& e5m2 = element_type(ElementId::e5m2);
    EXPECT_EQ(max_finite(e5m2), 57344.0f);
    EXPECT_TRUE(std::isinf(decode(e5m2, 0x7C)));
    EXPECT_TRUE(std::isnan(decode(e5m2, 0x7D)));
    EXPECT_EQ(max_finite(element_type(ElementId::e3m2)), 28.0f);
    EXPECT_EQ(max_finite(element_type(ElementId::e2m3)), 7.5f);
    EXPECT_EQ(representable_values(element_type(ElementId::e4m3)).size(), 253u);  // 256 - 2 NaN - (-0)
    const auto& mx = element_type(ElementId::mxint8);
    EXPECT_EQ(max_finite(mx), 127.0f / 64.0f);
    EXPECT_EQ(min_value(mx), -2.0f);
}

TEST(ElementType, RoundingTiesAndSaturation) {
    const auto& t = element_type(ElementId::e2m1);
    EXPECT_EQ(round_to(t, 2.5f), 2.0f);    // tie 2|3 -> even code (4)
    EXPECT_EQ(round_to(t, 5.0f), 4.0f);    // tie 4|6 -> code 6
    EXPECT_EQ(round_to(t, 0.25f), 0.0f);   // tie 0|0.5 -> code 0
    EXPECT_EQ(round_to(t, -1.25f), -1.0f);
    EXPECT_EQ(round_to(t, 1e9f), 6.0f);
    EXPECT_EQ(round_to(t, -7.0f), -6.0f);
    const auto& i4 = element_type(ElementId::int4);
    EXPECT_EQ(round_to(i4, 2.5f), 2.0f);
    EXPECT_EQ(round_to(i4, 7.5f), 7.0f);
    EXPECT_EQ(encode(i4, -9.0f), 0x8);
    EXPECT_EQ(decode(i4, 0x8), -8.0f);
    EXPECT_EQ(round_to(element_type(ElementId::e4m3), 1000.0f), 448.0f);
    EXPECT_EQ(round_to(element_type(ElementId::uint3), -1.0f), 0.0f);
}

// The fast arithmetic encode agrees with the exhaustive reference everywhere that matters:
// exact values, midpoints (ties), just either side of midpoints, random values, out of range.
TEST(ElementType, FastEncodeMatchesReference) {
    std::mt19937 rng(7);
    for (const auto& t : element_types()) {
        const auto vals = representable_values(t);
        std::vector<float> xs;
        for (std::size_t i = 0; i < vals.size(); ++i) {
            xs.push_back(vals[i]);
            if (i + 1 < vals.size()) {
                const float mid = (vals[i] + vals[i + 1]) / 2;
                xs.push_back(mid);
                xs.push_back(std::nextafter(mid, vals[i]));
                xs.push_back(std::nextafter(mid, vals[i + 1]));
            }
        }
        std::uniform_real_distribution<float> u(1.3f * vals.front() - 1, 1.3f * vals.back() + 1);
        for (int k = 0; k < 2000; ++k) xs.push_back(u(rng));
        for (float x : xs) {
            ASSERT_EQ(encode(t, x), encode_ref(t, x)) << t.name << " x=" << x;
        }
    }
}

TEST(ElementType, RoundTripAndHalfStepBound) {
    std::mt19937 rng(3);
    for (const auto& t : element_types()) {
        for (int c = 0; c < code_count(t); ++c) {
            const auto code = static_cast<std::uint8_t>(c);
            if (!code_is_finite(t, code)) continue;
            EXPECT_EQ(decode(t, encode(t, decode(t, code))), decode(t, code)) << t.name << " code " << c;
            EXPECT_EQ(decode(t, code), decode_ref(t, code));
        }
        const auto vals = representable_values(t);
        std::uniform_real_distribution<float> u(vals.front(), vals.back());
        for (int k = 0; k < 2000; ++k) {
            const float x = u(rng);
            const auto hi = std::lower_bound(vals.begin(), vals.end(), x);
            const float step = (hi == vals.begin()) ? 0 : *hi - *(hi - 1);
            EXPECT_LE(std::fabs(x - round_to(t, x)), step / 2) << t.name << " x=" << x;
        }
    }
}

TEST(ScaleFormat, RoundingRules) {
    EXPECT_EQ(scale_format(ScaleFormat::e8m0).round(0.3f), 0.5f);  // rounds up to a power of two
    EXPECT_EQ(scale_format(ScaleFormat::e8m0).round(4.0f), 4.0f);
    EXPECT_EQ(scale_format(ScaleFormat::e8m0).encode(1.0f), 127u);
    EXPECT_EQ(scale_format(ScaleFormat::fp16).round(1.0f + 1.0f / 4096), 1.0f);  // below half an fp16 ulp
    EXPECT_EQ(scale_format(ScaleFormat::fp16).round(1e6f), 65504.0f);
    EXPECT_EQ(scale_format(ScaleFormat::e4m3).round(0.3f), 0.3125f);
    EXPECT_EQ(fp16_bits(1.0f), 0x3C00);
    EXPECT_EQ(fp16_value(0xC000), -2.0f);
}

}  // namespace
}  // namespace halo::quant
