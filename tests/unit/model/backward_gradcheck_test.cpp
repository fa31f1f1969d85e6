// Gradients of the mean next-token cross-entropy w.r.t. every linear weight, checked against
// central finite differences of the loss, in double precision (the backward code is the same
// template that runs in float), on tiny models built in code.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "forward_tiny_model.hpp"
#include "halo/model/backward.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/forward.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

using testing::tiny_config;
using testing::tiny_model;

const std::vector<std::int32_t> kTokens = {1, 5, 3, 9, 0, 2, 7, 7, 4, 10};

double loss_at(const ModelWeights& w) { return loss_and_gradients<double>(w, kTokens).loss; }

// Checks a sample of entries of every linear of every layer. Weights are float; the perturbed
// value is rounded to float, so the step actually taken (w+ - w-) is used as the divisor.
void check_all_kinds(ModelWeights w) {
    const LossGradients<double> lg = loss_and_gradients<double>(w, kTokens);
    std::mt19937 rng(42);
    for (std::size_t l = 0; l < w.layers.size(); ++l) {
        for (std::size_t k = 0; k < 7; ++k) {
            Matrix& m = w.layers[l].linear[k];
            std::uniform_int_distribution<std::size_t> pick(0, m.size() - 1);
            for (int trial = 0; trial < 6; ++trial) {
                const std::size_t i = pick(rng);
                const float w0 = m.data[i];
                const float h = 1e-4f;
                m.data[i] = w0 + h;
                const double up_step = static_cast<double>(m.data[i]) - w0;
                const double l_up = loss_at(w);
                m.data[i] = w0 - h;
                const double down_step = static_cast<double>(w0) - m.data[i];
                const double l_down = loss_at(w);
                m.data[i] = w0;
                const double fd = (l_up - l_down) / (up_step + down_step);
                const double an = lg.grads[l][k][i];
                // Central differences with h = 1e-4: truncation error ~h^2 |L'''| (measured: with
                // h = 1e-3 errors reached 2e-4 relative on these sharp tiny models, shrinking 100x
                // at 1e-4, as h^2 predicts); double rounding ~1e-16 / 1e-4. So 1e-5 relative is
                // tight: a wrong term in any formula is off by the size of the gradient itself.
                EXPECT_NEAR(an, fd, 1e-7 + 1e-5 * std::fabs(fd)) << "layer " << l << " kind " << k << " index " << i;
            }
        }
    }
    // The LM head GEMM's gradient (issue #15 part F). A tied model gets an untied copy of its
    // table, so perturbing the head leaves the embedding lookup as it was.
    if (w.output.size() == 0) w.output = w.token_embedding;
    ASSERT_EQ(lg.head.size(), w.output.size());
    ASSERT_NEAR(loss_at(w), lg.loss, 1e-12);  // the copy changes nothing
    std::uniform_int_distribution<std::size_t> pick(0, w.output.size() - 1);
    for (int trial = 0; trial < 12; ++trial) {
        const std::size_t i = pick(rng);
        const float w0 = w.output.data[i];
        w.output.data[i] = w0 + 1e-4f;
        const double up_step = static_cast<double>(w.output.data[i]) - w0;
        const double l_up = loss_at(w);
        w.output.data[i] = w0 - 1e-4f;
        const double down_step = static_cast<double>(w0) - w.output.data[i];
        const double l_down = loss_at(w);
        w.output.data[i] = w0;
        const double fd = (l_up - l_down) / (up_step + down_step);
        EXPECT_NEAR(lg.head[i], fd, 1e-7 + 1e-5 * std::fabs(fd)) << "head index " << i;
    }
}

TEST(BackwardGradcheck, LlamaGqaTiedInterleaved) {
    ModelConfig c = tiny_config();
    c.rope_interleaved = true;
    check_all_kinds(tiny_model(c));
}

TEST(BackwardGradcheck, RotateHalfMhaUntiedSlidingGeglu) {
    ModelConfig c = tiny_config();
    c.n_kv_heads = c.n_heads;  // rotate-half RoPE (the default)
    c.tied_embeddings = false;
    c.sliding_window = 4;
    c.gelu_gate = true;
    c.norm_weight_plus_one = true;
    check_all_kinds(tiny_model(c, 9));
}

TEST(BackwardGradcheck, LossMatchesForwardAndFloatMatchesDouble) {
    const ModelWeights w = tiny_model(tiny_config());
    const auto d = loss_and_gradients<double>(w, kTokens);
    double loss_f = 0;
    const auto f = linear_gradients(w, kTokens, 1, &loss_f);
    EXPECT_NEAR(d.loss, mean_next_token_nll(w, kTokens), 1e-5);
    EXPECT_NEAR(loss_f, d.loss, 1e-5);
    for (std::size_t l = 0; l < f.linear.size(); ++l)
        for (std::size_t k = 0; k < 7; ++k) {
            const Matrix& fk = f.linear[l][k];
            ASSERT_EQ(fk.rows, w.layers[l].linear[k].rows);
            ASSERT_EQ(fk.cols, w.layers[l].linear[k].cols);
            double max_abs = 0, err = 0;
            for (std::size_t i = 0; i < fk.size(); ++i) {
                max_abs = std::max(max_abs, std::fabs(d.grads[l][k][i]));
                err = std::max(err, std::fabs(fk.data[i] - d.grads[l][k][i]));
            }
            EXPECT_LT(err, 1e-4 * max_abs + 1e-7) << l << " " << k;
        }
    ASSERT_EQ(f.head.size(), d.head.size());
    double max_abs = 0, err = 0;
    for (std::size_t i = 0; i < f.head.size(); ++i) {
        max_abs = std::max(max_abs, std::fabs(d.head[i]));
        err = std::max(err, std::fabs(f.head.data[i] - d.head[i]));
    }
    EXPECT_LT(err, 1e-4 * max_abs + 1e-7) << "head";
}

TEST(BackwardGradcheck, FisherIsMeanOfSquaredPerSampleGradients) {
    const ModelWeights w = tiny_model(tiny_config());
    const std::vector<std::vector<std::int32_t>> samples = {{1, 2, 3, 4, 5}, {9, 8, 7, 6, 5, 4}, {0, 10, 0, 10}};
    const auto fisher = fisher_diagonal(w, samples, 1);
    std::vector<FisherDiagonal> g;
    for (const auto& s : samples) g.push_back(linear_gradients(w, s, 1));
    EXPECT_TRUE(fisher.experts.size() == fisher.linear.size() && fisher.experts[0].empty());  // dense: no experts
    for (std::size_t l = 0; l < fisher.linear.size(); ++l)
        for (std::size_t k = 0; k < 7; ++k)
            for (std::size_t i = 0; i < fisher.linear[l][k].size(); i += 7) {
                double want = 0;
                for (const auto& gs : g) want += static_cast<double>(gs.linear[l][k].data[i]) * gs.linear[l][k].data[i] / 3.0;
                EXPECT_NEAR(fisher.linear[l][k].data[i], want, 1e-6 * want + 1e-12);
            }
    ASSERT_EQ(fisher.head.rows, w.config.vocab_size);
    ASSERT_EQ(fisher.head.cols, w.config.d_model);
    double head_sum = 0;
    for (std::size_t i = 0; i < fisher.head.size(); ++i) {
        double want = 0;
        for (const auto& gs : g) want += static_cast<double>(gs.head.data[i]) * gs.head.data[i] / 3.0;
        EXPECT_NEAR(fisher.head.data[i], want, 1e-6 * want + 1e-12);
        head_sum += want;
    }
    EXPECT_GT(head_sum, 0);
    EXPECT_THROW(fisher_diagonal(w, {}, 1), Error);
}

TEST(BackwardGradcheck, SkippingTheHeadGradientLeavesEveryOtherValueBitForBit) {
    // A quantizer that leaves the head alone skips the head GEMM's gradient: the Fisher entries of
    // every linear and the loss are the same bits, the head's entries are absent.
    const ModelWeights w = tiny_model(tiny_config());
    const std::vector<std::vector<std::int32_t>> samples = {{1, 2, 3, 4, 5}, {9, 8, 7, 6, 5, 4}, {0, 10, 0, 10}};
    const auto with = fisher_diagonal(w, samples, 1);
    const auto without = fisher_diagonal(w, samples, 1, {}, HeadGradient::skip);
    ASSERT_EQ(with.linear.size(), without.linear.size());
    for (std::size_t l = 0; l < with.linear.size(); ++l)
        for (std::size_t k = 0; k < 7; ++k) EXPECT_EQ(with.linear[l][k].data, without.linear[l][k].data) << l << " " << k;
    EXPECT_GT(with.head.size(), 0u);
    EXPECT_EQ(without.head.size(), 0u);
    EXPECT_EQ(without.head.rows, 0);
    const auto g_with = loss_and_gradients<float>(w, kTokens, 1);
    const auto g_without = loss_and_gradients<float>(w, kTokens, 1, HeadGradient::skip);
    EXPECT_EQ(g_with.loss, g_without.loss);
    EXPECT_EQ(g_with.grads, g_without.grads);
    EXPECT_TRUE(g_without.head.empty());
}

// Gemma 3's block (QK-norm, sandwich post-norms, local/global layers with two RoPE bases,
// GeGLU, sqrt(d) embeddings) plus Qwen2's QKV bias and Gemma 2's logit soft-capping.
TEST(BackwardGradcheck, Gemma3BlockBiasAndSoftcap) {
    ModelConfig c = tiny_config();
    c.n_layers = 3;
    c.qk_norm = true;
    c.post_norms = true;
    c.gelu_gate = true;
    c.scale_embeddings = true;
    c.sliding_window = 4;
    c.swa_pattern = 2;
    c.rope_theta_local = 10.0f;
    c.qkv_bias = true;
    c.final_logit_softcap = 3.0f;
    check_all_kinds(tiny_model(c, 23));
}

}  // namespace
}  // namespace halo::model
