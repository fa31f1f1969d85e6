// Per-token symmetric INT8: the fast path agrees with the reference, values land on the
// per-row grid, and the hooks quantize a forward pass (small but nonzero change).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "forward_tiny_model.hpp"
#include "halo/model/activation_quant.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

TEST(ActivationQuant, FastAgreesWithReferenceAndLandsOnTheGrid) {
    const ActivationFormat& f = activation_format("int8_per_token");
    EXPECT_EQ(f.bits, 8);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.0f, 2.0f);
    const std::int64_t rows = 64, cols = 257;
    std::vector<float> x(static_cast<std::size_t>(rows * cols));
    for (auto& v : x) v = nd(rng);
    x[5] = 0;  // exact zero stays zero
    std::vector<float> a = x, b = x;
    f.reference(a.data(), rows, cols);
    f.fast(b.data(), rows, cols);
    int differ = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
        float amax = 0;
        for (std::int64_t i = 0; i < cols; ++i) amax = std::max(amax, std::fabs(x[r * cols + i]));
        const float scale = amax / 127.0f;
        for (std::int64_t i = 0; i < cols; ++i) {
            const auto k = static_cast<std::size_t>(r * cols + i);
            const float code = a[k] / scale;
            EXPECT_NEAR(code, std::round(code), 1e-3);
            EXPECT_LE(std::fabs(code), 127.0f + 1e-3f);
            EXPECT_LE(std::fabs(a[k] - x[k]), 0.5f * scale * (1 + 1e-5f));
            if (a[k] != b[k]) {
                ++differ;
                EXPECT_NEAR(std::fabs(a[k] - b[k]), scale, 1e-5 * scale);  // one code apart, only at ties
            }
        }
    }
    EXPECT_LE(differ, 2);
    EXPECT_EQ(a[5], 0.0f);
}

TEST(ActivationQuant, UnknownFormatListsKnownOnes) {
    try {
        activation_format("fp4");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5510");
        EXPECT_EQ(e.diagnostic().expected, "int8_per_token");
    }
}

TEST(ActivationQuant, HooksQuantizeTheForwardPass) {
    const ModelWeights w = testing::tiny_model(testing::tiny_config());
    const std::vector<std::int32_t> tokens = {1, 4, 2, 8, 5, 7};
    const Matrix plain = forward_logits(w, tokens);
    const ForwardHooks lin = uniform_activation_hooks(activation_format("int8_per_token"));
    const ForwardHooks all = uniform_activation_hooks(activation_format("int8_per_token"), true);
    const Matrix q = forward_logits(w, tokens, {.hooks = &lin});
    const Matrix qa = forward_logits(w, tokens, {.hooks = &all});
    double d1 = 0, d2 = 0, mx = 0;
    for (std::size_t i = 0; i < plain.size(); ++i) {
        d1 = std::max(d1, static_cast<double>(std::fabs(q.data[i] - plain.data[i])));
        d2 = std::max(d2, static_cast<double>(std::fabs(qa.data[i] - q.data[i])));
        mx = std::max(mx, static_cast<double>(std::fabs(plain.data[i])));
    }
    EXPECT_GT(d1, 0);
    EXPECT_LT(d1, 0.05 * mx);  // 8-bit activations perturb, not destroy
    EXPECT_GT(d2, 0);          // attention hooks are applied too
}

}  // namespace
}  // namespace halo::model
