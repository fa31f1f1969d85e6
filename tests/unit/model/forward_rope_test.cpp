// RoPE tables: plain frequencies, linear scaling, Llama 3.1 scaling (its three regimes), the
// inverse rotation, and the refusal of YaRN.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "halo/model/forward_ops.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

ModelConfig rope_config(RopeScaling scaling, float factor) {
    ModelConfig c;
    c.head_dim = 128;
    c.rope_theta = 500000.0f;
    c.rope_scaling = scaling;
    c.rope_scaling_factor = factor;
    return c;
}

TEST(RopeTable, PlainAndLinearFrequencies) {
    const RopeTable plain(rope_config(RopeScaling::none, 1.0f), 4);
    const RopeTable linear(rope_config(RopeScaling::linear, 4.0f), 4);
    for (int i = 0; i < 64; ++i) {
        const double f = std::pow(500000.0, -2.0 * i / 128.0);
        EXPECT_NEAR(plain.frequencies()[i], f, 1e-15);
        EXPECT_NEAR(linear.frequencies()[i], f / 4.0, 1e-15);
    }
    EXPECT_NEAR(plain.cos_at(3, 1), std::cos(3 * plain.frequencies()[1]), 1e-15);
    EXPECT_NEAR(plain.sin_at(3, 1), std::sin(3 * plain.frequencies()[1]), 1e-15);
}

TEST(RopeTable, Llama3ScalingRegimes) {
    // Llama 3.1: factor 8, low 1, high 4, original context 8192. Wavelengths below
    // 8192/4 = 2048 are kept, above 8192/1 divided by 8, blended in between.
    const RopeTable plain(rope_config(RopeScaling::none, 1.0f), 1);
    const RopeTable l3(rope_config(RopeScaling::llama3, 8.0f), 1);
    int kept = 0, divided = 0, blended = 0;
    for (int i = 0; i < 64; ++i) {
        const double f = plain.frequencies()[i], g = l3.frequencies()[i];
        const double wavelen = 2 * std::numbers::pi / f;
        if (wavelen < 2048) {
            EXPECT_DOUBLE_EQ(g, f);
            ++kept;
        } else if (wavelen > 8192) {
            EXPECT_DOUBLE_EQ(g, f / 8);
            ++divided;
        } else {
            const double smooth = (8192 / wavelen - 1) / (4 - 1);
            EXPECT_NEAR(g, (1 - smooth) * f / 8 + smooth * f, 1e-15);
            EXPECT_LT(g, f);
            EXPECT_GT(g, f / 8);
            ++blended;
        }
    }
    EXPECT_GT(kept, 0);
    EXPECT_GT(divided, 0);
    EXPECT_GT(blended, 0);
}

TEST(RopeTable, InverseUndoesRotationAndYarnIsRefused) {
    ModelConfig c = rope_config(RopeScaling::none, 1.0f);
    c.head_dim = 8;
    for (bool interleaved : {false, true}) {
        c.rope_interleaved = interleaved;
        const RopeTable rope(c, 5);
        std::vector<double> x(5 * 2 * 8);
        for (std::size_t i = 0; i < x.size(); ++i) x[i] = std::sin(0.37 * static_cast<double>(i)) + 0.1;
        std::vector<double> y = x;
        apply_rope(y.data(), 5, 2, 8, rope);
        EXPECT_NE(y[8 * 2 * 3 + 1], x[8 * 2 * 3 + 1]);  // position 3 rotates
        EXPECT_EQ(y[0], x[0]);                          // position 0 does not
        apply_rope(y.data(), 5, 2, 8, rope, true);
        for (std::size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], x[i], 1e-14);
    }
    try {
        RopeTable(rope_config(RopeScaling::yarn, 4.0f), 4);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5501");
    }
}

}  // namespace
}  // namespace halo::model
