// OliVe-like and ANT-like baseline types on hand-computed rows.
#include <gtest/gtest.h>

#include <vector>

#include "halo/quant/amove_baselines.hpp"

namespace halo::quant {
namespace {

TEST(AmoveBaselines, OliveOutlierTakesTheVictimsSlot) {
    // Best scale 48/96 = 0.5: (1,2) -> int4 2,4; (3,48) -> 48 = abfloat 96 s, victim 3 zeroed;
    // (0.5,-1) -> int4 1,-2. Squared error 9 (every other scale >= 9.25).
    std::vector<float> x = {1, 2, 3, 48, 0.5f, -1};
    olive4_row(x);
    EXPECT_EQ(x, (std::vector<float>{1, 2, 0, 48, 0.5f, -1}));
    std::vector<float> z = {0, 0, 0};
    olive4_row(z);
    EXPECT_EQ(z, (std::vector<float>{0, 0, 0}));
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
