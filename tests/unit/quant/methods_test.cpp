#include <gmock/gmock.h>

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "halo/quant/methods.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

TEST(Awq, BeatsRtnOnTheOutputError) {
    const auto w = testing::random_matrix(32, 96, 21);
    const auto x = testing::correlated_activations(256, 96, 22);
    const auto g = testing::gram_of(x);
    for (const char* f : {"int4", "int3-asym"}) {
        const auto spec = make_spec(f, Granularity::per_group(32));
        const double rtn = output_error(w, quantize_rtn(w, spec).decode(), g);
        const auto r = quantize_awq(w, g, testing::abs_mean_of(x), spec);
        EXPECT_DOUBLE_EQ(r.rtn_error, rtn);
        EXPECT_LT(r.error, 0.95 * rtn) << f;
        EXPECT_DOUBLE_EQ(r.error, output_error(w, r.tensor.decode(), g));
        EXPECT_EQ(r.tensor.input_scale.size(), 96u);
        EXPECT_EQ(r.tensor.bits().input_scale_bits, 96u * 16);
    }
}

TEST(Kmeans, BeatsRtnOnTheWeightedObjective) {
    const auto w = testing::random_matrix(16, 128, 31);
    std::vector<float> hdiag(128);
    for (std::size_t j = 0; j < hdiag.size(); ++j) hdiag[j] = 1.0f + static_cast<float>(j % 7) * 3.0f;
    for (int bits : {3, 4}) {
        KmeansOptions o;
        o.bits = bits;
        const auto q = quantize_kmeans(w, nullptr, hdiag, o);
        const auto rtn = quantize_rtn(w, make_spec(int_format_name(bits, true), Granularity::per_channel()));
        EXPECT_LT(weighted_error(w, q.decode(), nullptr, hdiag), 0.9 * weighted_error(w, rtn.decode(), nullptr, hdiag)) << bits;
        EXPECT_DOUBLE_EQ(q.bits().bits_per_weight(), bits + 16.0 * (1 << bits) / 128);
    }
}

TEST(Kmeans, DenseAndSparseKeepsOutliersExactly) {
    auto w = testing::random_matrix(8, 64, 41);
    w.at(2, 5) = 40.0f;
    w.at(6, 60) = -35.0f;
    KmeansOptions o;
    o.bits = 3;
    o.sparse_fraction = 2.0f / (8 * 64);
    const auto q = quantize_kmeans(w, nullptr, {}, o);
    ASSERT_EQ(q.sparse.nnz(), 2u);
    const auto d = q.decode();
    EXPECT_EQ(d.at(2, 5), 40.0f);
    EXPECT_EQ(d.at(6, 60), -35.0f);
    EXPECT_EQ(q.bits().sparse_bits, 2u * 48 + 9u * 32);
    // without the outliers the row codebooks spend no centroid on them
    for (std::int64_t r = 0; r < 8; ++r)
        for (int k = 0; k < 8; ++k) EXPECT_LT(std::fabs(q.row_codebooks[static_cast<std::size_t>(r * 8 + k)]), 10.0f);
}

TEST(SmoothQuant, FactorsAndExactFold) {
    model::Matrix w(2, 3);
    w.data = {1, -4, 0.5f, 2, 1, -0.25f};
    const model::Matrix* ws[1] = {&w};
    const float amax[3] = {16, 1, 4};
    const auto s = smoothing_factors(amax, ws, 0.5f);
    EXPECT_FLOAT_EQ(s[0], std::sqrt(16.0f) / std::sqrt(2.0f));
    EXPECT_FLOAT_EQ(s[1], 1.0f / 2.0f);
    EXPECT_FLOAT_EQ(s[2], 2.0f / std::sqrt(0.5f));
    // (W diag(s)) (x / s) == W x
    const float x[3] = {3, -1, 2};
    model::Matrix ws2 = w;
    scale_columns(ws2, s);
    for (std::int64_t r = 0; r < 2; ++r) {
        float a = 0, b = 0;
        for (std::int64_t j = 0; j < 3; ++j) {
            a += w.at(r, j) * x[j];
            b += ws2.at(r, j) * (x[j] / s[static_cast<std::size_t>(j)]);
        }
        EXPECT_NEAR(a, b, 1e-5f);
    }
}

TEST(Calibration, SamplesAndTooShortText) {
    std::vector<std::int32_t> tokens(100);
    for (int i = 0; i < 100; ++i) tokens[static_cast<std::size_t>(i)] = i;
    const auto s = calibration_samples(tokens, 3, 20, "calib.txt");
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].front(), 0);
    EXPECT_EQ(s[1].front(), 40);
    EXPECT_EQ(s[2].back(), 99);
    try {
        calibration_samples(tokens, 8, 20, "calib.txt");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_THAT(e.what(), ::testing::HasSubstr("error E6008: calib.txt: calibration text is too short for the samples "
                                                   "asked (expected 160 tokens (8 samples x 20), found 100 tokens)"));
    }
}

// A seed other than 0 draws each window's start from std::mt19937_64(seed): the same seed gives
// the same windows, the windows are whole runs of the text, and another seed other windows.
TEST(Calibration, SeededWindowsAreReproducibleAndDiffer) {
    std::vector<std::int32_t> tokens(1000);
    for (int i = 0; i < 1000; ++i) tokens[static_cast<std::size_t>(i)] = i;
    const auto a = calibration_samples(tokens, 4, 50, "calib.txt", 7);
    const auto b = calibration_samples(tokens, 4, 50, "calib.txt", 7);
    const auto c = calibration_samples(tokens, 4, 50, "calib.txt", 8);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    std::mt19937_64 rng(7);
    for (const auto& w : a) {
        ASSERT_EQ(w.size(), 50u);
        EXPECT_EQ(w.front(), static_cast<std::int32_t>(rng() % 951));
        for (std::size_t i = 1; i < w.size(); ++i) EXPECT_EQ(w[i], w[i - 1] + 1);
    }
    EXPECT_EQ(calibration_samples(tokens, 4, 50, "calib.txt", 0), calibration_samples(tokens, 4, 50, "calib.txt"));
}

}  // namespace
}  // namespace halo::quant
