// The INT8 x INT8 (Q8_0-style) product: the VNNI kernel against the plain reference, and both
// against the FP32 product of the dequantized weights (the error the activation quantization
// adds, bounded).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "halo/model/blas.hpp"
#include "halo/model/int8_gemm.hpp"

namespace halo::model {
namespace {

std::vector<float> random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(static_cast<std::size_t>(rows * cols));
    for (auto& x : v) x = d(rng);
    return v;
}

TEST(Int8Gemm, QuantizeBlocksIsSymmetricWithMaxAt127) {
    std::vector<float> x(64, 0.0f);
    x[3] = -2.54f;
    x[5] = 1.0f;
    const Int8Matrix m = quantize_int8_blocks(x.data(), 1, 64);
    EXPECT_FLOAT_EQ(m.scales[0], 2.54f / 127.0f);
    EXPECT_EQ(m.codes[3], -127);
    EXPECT_EQ(m.codes[5], 50);      // 1 / 0.02 = 50
    EXPECT_EQ(m.scales[1], 0.0f);   // an all-zero block
    EXPECT_EQ(m.codes[40], 0);
    EXPECT_EQ(m.sums[0], 128 * (-127 + 50));
}

TEST(Int8Gemm, FastKernelMatchesReference) {
    set_blas_threads(2);
    for (auto [rows, out, in] : {std::tuple{1, 5, 64}, {7, 33, 96}, {67, 130, 576}, {512, 64, 1536}}) {
        const auto wf = random_matrix(out, in, 1);
        const Int8Matrix w = quantize_int8_blocks(wf.data(), out, in);
        const auto x = random_matrix(rows, in, 2);
        for (float beta : {0.0f, 1.0f}) {
            std::vector<float> ref(static_cast<std::size_t>(rows * out), 0.5f), fast = ref;
            int8_gemm_reference(x.data(), rows, w, ref.data(), beta);
            int8_gemm(x.data(), rows, w, fast.data(), beta);
            // The kernel sums blocks in float, the reference in double: the tolerance is float
            // rounding on the sum of the terms' magnitudes, sum_i |x_i| |w_i| (+ beta's 0.5).
            for (std::int64_t t = 0; t < rows; ++t)
                for (std::int64_t o = 0; o < out; ++o) {
                    double magnitude = 0.5;
                    for (std::int64_t i = 0; i < in; ++i)
                        magnitude += std::fabs(x[static_cast<std::size_t>(t * in + i)] * wf[static_cast<std::size_t>(o * in + i)]);
                    const std::size_t k = static_cast<std::size_t>(t * out + o);
                    ASSERT_NEAR(fast[k], ref[k], 1e-6 * magnitude) << rows << "x" << out << "x" << in << " " << k;
                }
        }
    }
}

TEST(Int8Gemm, CloseToFp32ProductOfDequantizedWeights) {
    const std::int64_t rows = 16, out = 24, in = 256;
    const auto wf = random_matrix(out, in, 3);
    const Int8Matrix w = quantize_int8_blocks(wf.data(), out, in);
    std::vector<float> wd(wf.size());  // the dequantized weights, what the FP32 path multiplies
    for (std::int64_t o = 0; o < out; ++o)
        for (std::int64_t i = 0; i < in; ++i)
            wd[static_cast<std::size_t>(o * in + i)] =
                static_cast<float>(w.codes[static_cast<std::size_t>(o * in + i)]) * w.scales[static_cast<std::size_t>(o * (in / 32) + i / 32)];
    const auto x = random_matrix(rows, in, 4);
    std::vector<float> y_fp32(static_cast<std::size_t>(rows * out)), y_int8(y_fp32.size());
    gemm_reference(false, true, rows, out, in, 1.0f, x.data(), in, wd.data(), in, 0.0f, y_fp32.data(), out);
    int8_gemm(x.data(), rows, w, y_int8.data(), 0.0f);
    // Activation codes carry at most half a step of error, scale/2 = max|x|/254 per element; for
    // unit-normal data the products' relative RMS error is well under 1 %.
    double err2 = 0, ref2 = 0;
    for (std::size_t i = 0; i < y_fp32.size(); ++i) {
        err2 += (y_int8[i] - y_fp32[i]) * (y_int8[i] - y_fp32[i]);
        ref2 += y_fp32[i] * y_fp32[i];
    }
    EXPECT_LT(std::sqrt(err2 / ref2), 0.01);
    EXPECT_GT(std::sqrt(err2 / ref2), 0.0);  // activations really were quantized
}

}  // namespace
}  // namespace halo::model
