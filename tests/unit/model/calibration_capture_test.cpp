// Layer-wise calibration: the Gram matrices and channel statistics equal those computed
// directly from the linear inputs, hidden states advance exactly like the full forward pass,
// and the memory held does not grow with the number of layers.
#include <gtest/gtest.h>

#include <cmath>

#include "forward_tiny_model.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/forward.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

const std::vector<std::vector<std::int32_t>> kSamples = {{1, 2, 3, 4, 5, 6}, {7, 8, 9, 10}, {0, 3, 0, 3, 0}};

TEST(CalibrationCapture, GramAndChannelStatsMatchDirectComputation) {
    const ModelWeights w = testing::tiny_model(testing::tiny_config());
    // Record the inputs the forward pass feeds each linear of layer 1, via observing hooks.
    std::array<std::vector<std::vector<float>>, 7> rows;  // [kind] -> list of input rows
    ForwardHooks spy;
    for (std::size_t k = 0; k < 7; ++k)
        spy.linear_input[k] = [&, k](float* x, std::int64_t r, std::int64_t c, int layer) {
            if (layer != 1) return;
            for (std::int64_t i = 0; i < r; ++i) rows[k].emplace_back(x + i * c, x + (i + 1) * c);
        };
    for (const auto& s : kSamples) forward_logits(w, s, {.threads = 1, .hooks = &spy});

    LayerwiseCalibration cal(w, kSamples, 1);
    cal.capture(0, {.gram = false, .channel_stats = false});
    cal.advance(0);
    const auto stats = cal.capture(1, {});
    for (std::size_t k = 0; k < 7; ++k) {
        const auto& x = rows[k];
        const std::size_t n = x[0].size();
        ASSERT_EQ(stats[k].tokens, 15);
        ASSERT_EQ(stats[k].gram.rows, static_cast<std::int64_t>(n));
        for (std::size_t i = 0; i < n; ++i) {
            double sum_abs = 0, max_abs = 0;
            for (const auto& r : x) {
                sum_abs += std::fabs(r[i]);
                max_abs = std::max(max_abs, static_cast<double>(std::fabs(r[i])));
            }
            EXPECT_NEAR(stats[k].abs_mean[i], sum_abs / 15.0, 1e-4 * (1 + sum_abs));
            EXPECT_NEAR(stats[k].abs_max[i], max_abs, 1e-4 * (1 + max_abs));
            for (std::size_t j = 0; j < n; ++j) {
                double g = 0;
                for (const auto& r : x) g += static_cast<double>(r[i]) * r[j];
                EXPECT_NEAR(stats[k].gram.at(static_cast<std::int64_t>(i), static_cast<std::int64_t>(j)), g,
                            1e-4 * (1 + std::fabs(g)));
            }
        }
    }
}

TEST(CalibrationCapture, RequestControlsWhatIsComputed) {
    const ModelWeights w = testing::tiny_model(testing::tiny_config());
    LayerwiseCalibration cal(w, kSamples, 1);
    const auto s = cal.capture(0, {.gram = false, .channel_stats = true});
    EXPECT_EQ(s[0].gram.size(), 0u);
    EXPECT_EQ(s[6].abs_mean.size(), 24u);
}

TEST(CalibrationCapture, LayersMustBeVisitedInOrder) {
    const ModelWeights w = testing::tiny_model(testing::tiny_config());
    LayerwiseCalibration cal(w, kSamples, 1);
    try {
        cal.capture(1, {});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5507");
        EXPECT_EQ(e.diagnostic().expected, "layer 0");
    }
    EXPECT_THROW(LayerwiseCalibration(w, {}, 1), Error);
    EXPECT_THROW(LayerwiseCalibration(w, {{1, 2}, {}}, 1), Error);
}

TEST(CalibrationCapture, AdvancingAllLayersReproducesTheForwardPass) {
    // Capture of the last block's ffn_down input equals the full forward's, so the hidden
    // states advanced exactly.
    ModelConfig c = testing::tiny_config();
    c.n_layers = 3;
    const ModelWeights w = testing::tiny_model(c, 4);
    std::vector<float> last_input;
    ForwardHooks spy;
    spy.linear_input[6] = [&](float* x, std::int64_t r, std::int64_t cols, int layer) {
        if (layer == 2) last_input.assign(x, x + r * cols);
    };
    forward_logits(w, kSamples[0], {.threads = 1, .hooks = &spy});
    LayerwiseCalibration cal(w, {kSamples[0]}, 1);
    cal.advance(0);
    cal.advance(1);
    const auto s = cal.capture(2, {.gram = false, .channel_stats = true});
    for (std::size_t i = 0; i < 24; ++i) {
        float mx = 0;
        for (std::size_t t = 0; t < 6; ++t) mx = std::max(mx, std::fabs(last_input[t * 24 + i]));
        EXPECT_NEAR(s[6].abs_max[i], mx, 1e-5 * (1 + mx));
    }
}

TEST(CalibrationCapture, ResidentBytesBoundedByOneLayerOfHiddenStates) {
    // Hidden states only: samples x tokens x d_model floats, whatever the depth.
    std::vector<std::size_t> bytes;
    for (int layers : {1, 4, 12}) {
        ModelConfig c = testing::tiny_config();
        c.n_layers = layers;
        const ModelWeights w = testing::tiny_model(c);
        LayerwiseCalibration cal(w, kSamples, 1);
        std::size_t peak = cal.resident_bytes();
        for (int l = 0; l < layers; ++l) {
            cal.capture(l, {});
            cal.advance(l);
            peak = std::max(peak, cal.resident_bytes());
        }
        bytes.push_back(peak);
    }
    EXPECT_EQ(bytes[0], (6 + 4 + 5) * 16 * sizeof(float));
    EXPECT_EQ(bytes[1], bytes[0]);
    EXPECT_EQ(bytes[2], bytes[0]);
}

}  // namespace
}  // namespace halo::model
