#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "halo/model/gemm_kernels.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/gptq_factor.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

struct Layer {
    model::Matrix w, gram;
};
Layer random_layer(std::int64_t rows, std::int64_t cols, unsigned seed) {
    return {testing::random_matrix(rows, cols, seed), testing::gram_of(testing::correlated_activations(4 * cols, cols, seed + 7))};
}

TEST(Gptq, BeatsRtnOnCorrelatedInputs) {
    const auto layer = random_layer(48, 96, 1);
    struct Case { const char* format; Granularity g; bool act_order; };
    for (const Case& k : {Case{"int4", Granularity::per_channel(), false}, Case{"int3", Granularity::per_group(32), false},
                          Case{"int4-asym", Granularity::per_group(40), true}, Case{"fp4-e2m1", Granularity::per_channel(), true},
                          Case{"mxfp4", Granularity::per_channel(), false}, Case{"int4", Granularity::per_tile(16, 32), false}}) {
        const auto spec = make_spec(k.format, k.g);
        const double rtn = output_error(layer.w, quantize_rtn(layer.w, spec).decode(), layer.gram);
        GptqOptions opt;
        opt.act_order = k.act_order;
        opt.block_size = 32;
        const double gptq = output_error(layer.w, quantize_gptq(layer.w, layer.gram, spec, opt).decode(), layer.gram);
        EXPECT_LT(gptq, 0.8 * rtn) << spec.describe() << " act_order " << k.act_order;
    }
}

TEST(Gptq, WithCodebookRounding) {
    const auto layer = random_layer(32, 64, 2);
    const auto spec = make_spec("codebook-asym", Granularity::per_tile(16, 16), {}, Codebook({-100, -50, -20, -5, 0, 5, 20, 50, 100}));
    const double rtn = output_error(layer.w, quantize_rtn(layer.w, spec).decode(), layer.gram);
    const double gptq = output_error(layer.w, quantize_gptq(layer.w, layer.gram, spec, {}).decode(), layer.gram);
    EXPECT_LT(gptq, 0.8 * rtn);
}

// Lazy block updates reorganize the same arithmetic: any block size gives the same codes (up to
// float rounding flipping a rare tie), and the written weights equal the decoded codes.
TEST(Gptq, BlockSizeDoesNotChangeTheResult) {
    const auto layer = random_layer(16, 64, 3);
    const auto spec = make_spec("int4", Granularity::per_group(16));
    GptqOptions a, b;
    a.block_size = 1;
    b.block_size = 64;
    b.threads = 2;
    model::Matrix wa = layer.w, wb = layer.w;
    QuantizedTensor qa(spec, 16, 64), qb(spec, 16, 64);
    TensorRounder ra(qa), rb(qb);
    gptq(wa, layer.gram, ra, a);
    gptq(wb, layer.gram, rb, b);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < qa.codes().size(); ++i) differ += qa.codes()[i] != qb.codes()[i];
    EXPECT_LE(differ, 2u);
    const auto da = qa.decode();
    for (std::size_t i = 0; i < wa.data.size(); ++i) EXPECT_EQ(wa.data[i], da.data[i]);
}

TEST(Gptq, DeadInputsAndShapeErrors) {
    auto layer = random_layer(8, 16, 4);
    for (std::int64_t j = 0; j < 16; ++j) layer.gram.at(3, j) = layer.gram.at(j, 3) = 0;
    auto w = layer.w;
    QuantizedTensor q(make_spec("int4", Granularity::per_channel()), 8, 16);
    TensorRounder r(q);
    gptq(w, layer.gram, r, {});
    for (std::int64_t i = 0; i < 8; ++i) EXPECT_EQ(w.at(i, 3), 0.0f);
    model::Matrix bad(15, 15);
    EXPECT_THROW(gptq(w, bad, r, {}), Error);
}

// The fast inverse-Hessian factor (one Cholesky of the reversed H and a triangular inverse)
// against LAPACK's chol -> potri -> chol: the same U up to float rounding, and U^T U = H^-1.
TEST(GptqFactor, FastMatchesLapackReference) {
    const std::int64_t n = 300;  // more than Eigen's and LAPACK's block sizes
    const auto gram = testing::gram_of(testing::correlated_activations(4 * n, n, 11));
    std::vector<float> h(gram.data.begin(), gram.data.end());
    double mean_diag = 0;
    for (std::int64_t i = 0; i < n; ++i) mean_diag += h[static_cast<std::size_t>(i * n + i)] / static_cast<double>(n);
    for (std::int64_t i = 0; i < n; ++i) h[static_cast<std::size_t>(i * n + i)] += static_cast<float>(0.01 * mean_diag);
    std::vector<float> ref = h, a2 = h, a512 = h;
    int info = -1;
    ASSERT_TRUE(inverse_hessian_upper_factor_reference(ref, n, info));
    double max_u = 0;
    for (std::int64_t i = 0; i < n; ++i)
        for (std::int64_t j = i; j < n; ++j) max_u = std::max(max_u, std::fabs(double(ref[static_cast<std::size_t>(i * n + j)])));
    const auto isa = model::kernels::detected_gemm_isa();
    std::vector<std::pair<const char*, std::vector<float>*>> fast;
    if (isa != model::kernels::GemmIsa::reference) {
        ASSERT_TRUE(kernels::inverse_hessian_upper_factor_avx2(a2, n, info));
        fast.emplace_back("avx2", &a2);
    }
    if (isa == model::kernels::GemmIsa::avx512) {
        ASSERT_TRUE(kernels::inverse_hessian_upper_factor_avx512(a512, n, info));
        fast.emplace_back("avx512", &a512);
    }
    if (fast.empty()) GTEST_SKIP() << "this CPU has neither AVX2+FMA nor AVX-512";
    for (const auto& [name, u] : fast) {
        double max_diff = 0;
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t j = i; j < n; ++j)
                max_diff = std::max(max_diff, std::fabs(double((*u)[static_cast<std::size_t>(i * n + j)]) - ref[static_cast<std::size_t>(i * n + j)]));
        EXPECT_LT(max_diff, 1e-4 * max_u) << name;
        for (std::int64_t i = 1; i < n; ++i) EXPECT_EQ((*u)[static_cast<std::size_t>(i * n)], 0.0f) << name;
    }
    // Not positive definite: refused, not NaN.
    std::vector<float> bad(static_cast<std::size_t>(4 * 4), 0.0f);
    bad[0] = -1;
    if (isa != model::kernels::GemmIsa::reference) {
        EXPECT_FALSE(kernels::inverse_hessian_upper_factor_avx2(bad, 4, info));
    }
}

}  // namespace
}  // namespace halo::quant
