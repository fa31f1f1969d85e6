// The fast GEMM (Eigen kernels, split across threads) against the cblas reference, for every
// transpose combination, padded leading dimensions, beta 0 / 1 / other, products large enough
// to be split across threads (both by columns and by rows), and each instruction set this CPU
// runs. Also: beta == 0 must not read C (NaN there stays out of the result).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "halo/model/blas.hpp"
#include "halo/model/gemm_kernels.hpp"

namespace halo::model {
namespace {

struct Case {
    bool ta, tb;
    std::int64_t m, n, k;
    double beta;
};

template <class T>
std::vector<T> random_values(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> d(-1.0, 1.0);
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(d(rng));
    return v;
}

// Runs one case through `fast` and the reference; returns the largest |difference| divided by
// (1 + |reference|).
template <class T, class Fast>
double max_rel_diff(const Case& c, Fast&& fast) {
    const std::int64_t pad = 3;  // leading dimensions larger than the rows, to test strides
    const std::int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
    const std::int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
    const std::int64_t lda = a_cols + pad, ldb = b_cols + pad, ldc = c.n + pad;
    const auto a = random_values<T>(static_cast<std::size_t>(a_rows * lda), 1);
    const auto b = random_values<T>(static_cast<std::size_t>(b_rows * ldb), 2);
    auto c_ref = random_values<T>(static_cast<std::size_t>(c.m * ldc), 3);
    auto c_fast = c_ref;
    if (c.beta == 0) std::fill(c_fast.begin(), c_fast.end(), std::numeric_limits<T>::quiet_NaN());
    const T alpha = T(0.75), beta = static_cast<T>(c.beta);
    gemm_reference(c.ta, c.tb, c.m, c.n, c.k, alpha, a.data(), lda, b.data(), ldb, beta, c_ref.data(), ldc);
    fast(c.ta, c.tb, c.m, c.n, c.k, alpha, a.data(), lda, b.data(), ldb, beta, c_fast.data(), ldc);
    double worst = 0;
    for (std::int64_t i = 0; i < c.m; ++i)
        for (std::int64_t j = 0; j < c.n; ++j) {
            const double r = c_ref[static_cast<std::size_t>(i * ldc + j)];
            const double f = c_fast[static_cast<std::size_t>(i * ldc + j)];
            if (std::isnan(f)) return std::numeric_limits<double>::infinity();
            worst = std::max(worst, std::fabs(f - r) / (1.0 + std::fabs(r)));
        }
    return worst;
}

std::vector<Case> cases() {
    std::vector<Case> out;
    for (bool ta : {false, true})
        for (bool tb : {false, true})
            for (double beta : {0.0, 1.0, -0.5}) {
                out.push_back({ta, tb, 7, 5, 3, beta});        // tiny, below every kernel block
                out.push_back({ta, tb, 33, 70, 129, beta});    // odd sizes
                out.push_back({ta, tb, 300, 520, 64, beta});   // split by columns (n >= m)
                out.push_back({ta, tb, 600, 130, 96, beta});   // split by rows (m > n)
            }
    return out;
}

TEST(GemmKernels, SplitFastPathMatchesCblasFloat) {
    set_blas_threads(2);
    for (const Case& c : cases()) {
        const double d = max_rel_diff<float>(c, [](auto... args) { gemm(args...); });
        EXPECT_LT(d, 2e-5) << c.ta << c.tb << " " << c.m << "x" << c.n << "x" << c.k << " beta " << c.beta;
    }
}

TEST(GemmKernels, SplitFastPathMatchesCblasDouble) {
    set_blas_threads(2);
    for (const Case& c : cases()) {
        const double d = max_rel_diff<double>(c, [](auto... args) { gemm(args...); });
        EXPECT_LT(d, 1e-12) << c.ta << c.tb << " " << c.m << "x" << c.n << "x" << c.k << " beta " << c.beta;
    }
}

TEST(GemmKernels, EachInstructionSetMatchesCblas) {
    const kernels::GemmIsa cpu = kernels::detected_gemm_isa();
    if (cpu == kernels::GemmIsa::reference) GTEST_SKIP() << "this CPU has neither AVX2+FMA nor AVX-512";
    for (const Case& c : cases()) {
        EXPECT_LT(max_rel_diff<float>(c, [](auto... args) { kernels::gemm_avx2(args...); }), 2e-5);
        EXPECT_LT(max_rel_diff<double>(c, [](auto... args) { kernels::gemm_avx2(args...); }), 1e-12);
        if (cpu == kernels::GemmIsa::avx512) {
            EXPECT_LT(max_rel_diff<float>(c, [](auto... args) { kernels::gemm_avx512(args...); }), 2e-5);
            EXPECT_LT(max_rel_diff<double>(c, [](auto... args) { kernels::gemm_avx512(args...); }), 1e-12);
        }
    }
}

TEST(GemmKernels, ParallelForGivesEachWorkerItsIndexAndNestsSerially) {
    set_blas_threads(2);
    EXPECT_EQ(model_parallel_workers(), 2u);
    std::vector<int> seen(64, 0);
    std::vector<unsigned> nested_workers(64, 99);
    model_parallel_for(seen.size(), [&](std::size_t i, unsigned worker) {
        EXPECT_LT(worker, 2u);
        ++seen[i];
        nested_workers[i] = model_parallel_workers();  // inside a worker: serial
    });
    for (std::size_t i = 0; i < seen.size(); ++i) {
        EXPECT_EQ(seen[i], 1) << i;
        EXPECT_EQ(nested_workers[i], 1u) << i;
    }
    EXPECT_EQ(model_parallel_workers(), 2u);  // restored outside
}

TEST(GemmKernels, GramLowerBlocksThenMirrorEqualsFullXtX) {
    set_blas_threads(2);
    const std::int64_t rows = 70, cols = 300;  // 300: two full 128-blocks and a partial one
    const auto x1 = random_values<float>(static_cast<std::size_t>(rows * cols), 4);
    const auto x2 = random_values<float>(static_cast<std::size_t>(rows * cols), 5);
    std::vector<float> gram(static_cast<std::size_t>(cols * cols), 0.0f), ref = gram;
    gram_accumulate_lower(x1.data(), rows, cols, gram.data());  // two samples accumulate
    gram_accumulate_lower(x2.data(), rows, cols, gram.data());
    symmetrize_lower(gram.data(), cols);
    gemm_reference(true, false, cols, cols, rows, 1.0f, x1.data(), cols, x1.data(), cols, 0.0f, ref.data(), cols);
    gemm_reference(true, false, cols, cols, rows, 1.0f, x2.data(), cols, x2.data(), cols, 1.0f, ref.data(), cols);
    for (std::size_t i = 0; i < ref.size(); ++i) ASSERT_NEAR(gram[i], ref[i], 1e-4f * (1.0f + std::fabs(ref[i]))) << i;
}

}  // namespace
}  // namespace halo::model
