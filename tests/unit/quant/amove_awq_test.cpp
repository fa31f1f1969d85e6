// Amove composes with AWQ: the format is AWQ's rounding (its two-level fit runs inside AWQ's
// scale and clip search), so AWQ beats RTN in the same format on the layer's output error and
// the result still obeys the format (at most 4 distinct cluster scales per group).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "halo/quant/methods.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

TEST(AmoveAwq, BeatsRtnInTheSameFormatAndKeepsTheFormat) {
    const auto w = testing::random_matrix(16, 96, 51, 0.05f);
    const auto x = testing::correlated_activations(256, 96, 52);
    const auto g = testing::gram_of(x);
    for (const char* f : {"amove-int3-g32c4", "amove-int4-g32c4"}) {
        const QuantSpec spec = make_spec(f, Granularity::per_channel());
        const double rtn = output_error(w, quantize_rtn(w, spec).decode(), g);
        const AwqResult r = quantize_awq(w, g, testing::abs_mean_of(x), spec);
        EXPECT_DOUBLE_EQ(r.rtn_error, rtn) << f;
        EXPECT_LT(r.error, 0.95 * rtn) << f;
        EXPECT_DOUBLE_EQ(r.error, output_error(w, r.tensor.decode(), g)) << f;
        // 96 columns = 3 groups of 32 = 24 clusters of 4 per row; each group's 8 cluster scales
        // are S - e R with e in 0..3, so at most 4 distinct values.
        ASSERT_EQ(r.tensor.n_group_cols(), 24) << f;
        for (std::int64_t row = 0; row < 16; ++row)
            for (std::int64_t grp = 0; grp < 3; ++grp) {
                std::vector<float> sc;
                for (int k = 0; k < 8; ++k) sc.push_back(r.tensor.params(row * 24 + grp * 8 + k).scale);
                std::sort(sc.begin(), sc.end());
                EXPECT_LE(std::unique(sc.begin(), sc.end()) - sc.begin(), 4) << f << " row " << row << " group " << grp;
            }
    }
}

}  // namespace
}  // namespace halo::quant
