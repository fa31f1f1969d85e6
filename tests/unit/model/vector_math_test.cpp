// The vectorised elementwise kernels (vector_math.hpp) against std::exp references.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "halo/model/vector_math.hpp"

namespace halo::model::kernels {
namespace {

TEST(VectorMath, FastExpRelativeErrorBelow4e7OverFloatRange) {
    double worst = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.001953125f) {
        const double ref = std::exp(static_cast<double>(x));
        worst = std::max(worst, std::fabs(static_cast<double>(fast_exp(x)) - ref) / ref);
    }
    EXPECT_LT(worst, 4e-7);
    EXPECT_EQ(fast_exp(0.0f), 1.0f);
    // Far below the normal range: tiny and never negative, NaN or inf.
    EXPECT_GE(fast_exp(-1000.0f), 0.0f);
    EXPECT_LT(fast_exp(-1000.0f), 1e-37f);
    EXPECT_TRUE(std::isfinite(fast_exp(1000.0f)));
}

std::vector<float> random_row(std::size_t n, float lo, float hi) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

TEST(VectorMath, ExpShiftedAndSumMatchReference) {
    for (std::size_t n : {1u, 3u, 17u, 257u, 49152u}) {
        const auto row = random_row(n, -30.0f, 12.0f);
        auto fast = row, ref = row;
        const double s_fast = exp_shifted_inplace(fast.data(), static_cast<std::int64_t>(n), 12.0f);
        const double s_ref = exp_shifted_inplace_reference(ref.data(), static_cast<std::int64_t>(n), 12.0f);
        EXPECT_NEAR(s_fast, s_ref, 1e-6 * s_ref) << n;
        for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(fast[i], ref[i], 1e-6f * ref[i] + 1e-30f) << n << " " << i;
        const double sum_fast = sum_exp_shifted(row.data(), static_cast<std::int64_t>(n), 12.0f);
        const double sum_ref = sum_exp_shifted_reference(row.data(), static_cast<std::int64_t>(n), 12.0f);
        EXPECT_NEAR(sum_fast, sum_ref, 1e-6 * sum_ref) << n;
    }
}

TEST(VectorMath, SwigluMatchesReference) {
    const std::size_t n = 1000;
    const auto gate = random_row(n, -20.0f, 20.0f);
    const auto up = random_row(n, -3.0f, 3.0f);
    std::vector<float> fast(n), ref(n);
    swiglu(gate.data(), up.data(), fast.data(), static_cast<std::int64_t>(n));
    swiglu_reference(gate.data(), up.data(), ref.data(), static_cast<std::int64_t>(n));
    for (std::size_t i = 0; i < n; ++i) EXPECT_NEAR(fast[i], ref[i], 1e-6f * (1.0f + std::fabs(ref[i]))) << i;
}

}  // namespace
}  // namespace halo::model::kernels
