// OliVe-like and ANT-like baseline types on hand-computed rows.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "halo/quant/amove_baselines.hpp"

namespace halo::quant {
namespace {

TEST(AmoveBaselines, OliveOutlierTakesTheVictimsSlot) {
    // Best scale 64/64 = 1: (1,2) -> int4 1,2; (3,64) -> 64 = abfloat level 64 s, victim 3
    // zeroed; (0.5,-1) -> int4 0 (tie to even),-1. Squared error 9.25; s = 4/3 (a = 48) gives
    // 9 + 0.11 + 0.44 + ..., s = 2 (a = 32) 11.25, a = 7 (all normal, s = 9.14) more than 9 + 4.
    std::vector<float> x = {1, 2, 3, 64, 0.5f, -1};
    olive4_row(x);
    EXPECT_EQ(x, (std::vector<float>{1, 2, 0, 64, 0, -1}));
    std::vector<float> z = {0, 0, 0};
    olive4_row(z);
    EXPECT_EQ(z, (std::vector<float>{0, 0, 0}));
}

TEST(AmoveBaselines, OliveRowWithANanKeepsItsFiniteValues) {
    // A NaN makes every candidate scale's error NaN; the row keeps the first candidate (amax / 7,
    // FP16) instead of a zero scale that gave x / 0 for every value. amax = 7: s = 1, so the
    // finite values are int4 codes of themselves; the NaN's pair partner is its victim.
    std::vector<float> x = {1, -2, 3, std::nanf(""), 7, 0.0f};
    olive4_row(x);
    EXPECT_EQ(x[0], 1.0f);
    EXPECT_EQ(x[1], -2.0f);
    EXPECT_EQ(x[4], 7.0f);
    EXPECT_EQ(x[5], 0.0f);
    EXPECT_FALSE(std::signbit(x[5]));
    // Squares past FLT_MAX (error +inf for every candidate): the same first candidate.
    std::vector<float> big = {3.0e38f, -3.0e38f, 1.0e30f, 0.0f};
    olive4_row(big);
    for (float v : big) EXPECT_FALSE(std::isnan(v));
}

TEST(AmoveBaselines, OlivePairCodesAreUnambiguous) {
    // Every pair of y values maps to codes that decode to exactly what the rule gives, and an
    // outlier code is never the victim identifier (so (8, 8) never occurs).
    EXPECT_EQ(olive4_encode_pair(-8.0f, 1.0f).c0, 0x9);  // sign | k=1 (level 8)
    EXPECT_EQ(olive4_encode_pair(-8.0f, 1.0f).c1, kOliveVictim);
    EXPECT_EQ(olive4_encode_pair(1.0f, -8.0f).c0, kOliveVictim);
    EXPECT_EQ(olive4_encode_pair(-7.0f, 3.0f).c0, 0x9);  // int4 -7 = 1001
    EXPECT_EQ(olive4_encode_pair(-7.0f, 3.0f).c1, 0x3);
    for (float y0 = -80; y0 <= 80; y0 += 0.75f)
        for (float y1 : {-70.0f, -9.0f, -7.6f, -7.5f, -3.2f, 0.0f, 0.5f, 7.5f, 7.6f, 30.0f}) {
            const auto p = olive4_encode_pair(y0, y1);
            EXPECT_FALSE(p.c0 == kOliveVictim && p.c1 == kOliveVictim);
            EXPECT_LT(p.c0, 16);
            EXPECT_LT(p.c1, 16);
            float v0, v1;
            olive4_decode_pair(p, v0, v1);
            const bool normal = std::fabs(y0) <= 7.5f && std::fabs(y1) <= 7.5f;
            if (normal) {
                EXPECT_EQ(v0, std::clamp(std::nearbyint(y0), -7.0f, 7.0f));
                EXPECT_EQ(v1, std::clamp(std::nearbyint(y1), -7.0f, 7.0f));
            } else {
                EXPECT_EQ(v0 == 0.0f || v1 == 0.0f, true) << y0 << " " << y1;
                const float o = std::fabs(y0) >= std::fabs(y1) ? v0 : v1;
                EXPECT_GE(std::fabs(o), 8.0f);
            }
        }
}

TEST(AmoveBaselines, AntPicksTheTypeThatFits) {
    std::vector<float> pot = {0, 1, -2, 4, 8, -16, 32, 64};  // exact in PoT4, not in int4/flint4
    auto p = pot;
    ant4_row(p);
    EXPECT_EQ(p, pot);
    std::vector<float> lin = {0, 1, 2, -3, 4, 5, 6, 7};  // exact in int4
    auto l = lin;
    ant4_row(l);
    EXPECT_EQ(l, lin);
    std::vector<float> fl = {0, 0.5f, 1, 1.5f, 2, 3, -4, 6};  // flint4 x 0.5
    auto f = fl;
    ant4_row(f);
    EXPECT_EQ(f, fl);
    EXPECT_EQ(find_baseline_type("olive4")->quantize_row, &olive4_row);
    EXPECT_EQ(find_baseline_type("bitmod"), nullptr);
}

}  // namespace
}  // namespace halo::quant
