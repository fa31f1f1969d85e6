// The mixture-of-experts backward pass (moe.hpp, moe_backward.cpp): gradients of the loss with
// respect to every expert's gate/up/down, the router and the attention linears of a MoE model,
// checked against central finite differences in double, on the tests' tiny MoE model (renormalised
// top-2 and raw top-2) and on the synthetic test-tiny-moe checkpoint (8 experts, top-2); the float
// path against double; the Fisher diagonal of a MoE model.
//
// Finite differences move the weights by 1e-4, far too little to change which experts a token's
// top-k picks on these seeds (a change would show as an error the size of the gradient), so the
// held-fixed top-k of the analytic gradient is the derivative the differences measure.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <random>

#include "forward_tiny_model.hpp"
#include "gguf_test_util.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/backward.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/synthetic_checkpoint.hpp"

namespace halo::model {
namespace {

const std::vector<std::int32_t> kTokens = {1, 5, 3, 9, 0, 2, 7, 7, 4, 10, 6, 8, 3, 2, 9, 1};

ModelConfig moe_config(int experts = 4, int used = 2) {
    ModelConfig c = testing::tiny_config();
    apply_architecture(architecture_row("mixtral"), c);
    c.n_experts = experts;
    c.n_experts_used = used;
    return c;
}

// One weight matrix of the model and its analytic gradient.
struct Checked {
    std::string name;
    Matrix* weight;
    const std::vector<double>* grad;
};

std::vector<Checked> every_matrix(ModelWeights& w, const LossGradients<double>& lg) {
    std::vector<Checked> out;
    for (std::size_t l = 0; l < w.layers.size(); ++l) {
        LayerWeights& lw = w.layers[l];
        const std::string p = "blk." + std::to_string(l) + ".";
        for (auto k : {LinearKind::attn_q, LinearKind::attn_k, LinearKind::attn_v, LinearKind::attn_output})
            out.push_back({p + std::string(linear_name(k)), &lw[k], &lg.grads[l][static_cast<std::size_t>(k)]});
        out.push_back({p + "router", &lw.router, &lg.moe[l].router});
        for (std::size_t e = 0; e < lw.experts.size(); ++e)
            for (auto k : kExpertKinds)
                out.push_back({p + std::string(linear_name(k)) + "_exps." + std::to_string(e), &lw.experts[e][k],
                               &lg.moe[l].experts[e][ExpertWeights::slot(k)]});
    }
    return out;
}

// Central differences on `trials` random entries of every matrix; returns the number checked
// where the gradient is not zero (an expert no token reached has a zero gradient, also checked).
int check_gradients(ModelWeights w, const std::vector<std::int32_t>& tokens, int trials, double abs_tol) {
    const LossGradients<double> lg = loss_and_gradients<double>(w, tokens, 1);
    const auto loss_at = [&] { return loss_and_gradients<double>(w, tokens, 1).loss; };
    std::mt19937 rng(42);
    int nonzero = 0;
    for (const Checked& m : every_matrix(w, lg)) {
        EXPECT_EQ(m.grad->size(), m.weight->size()) << m.name;
        if (m.grad->size() != m.weight->size()) continue;
        std::uniform_int_distribution<std::size_t> pick(0, m.weight->size() - 1);
        for (int trial = 0; trial < trials; ++trial) {
            const std::size_t i = pick(rng);
            float& x = m.weight->data[i];
            const float w0 = x;
            const float h = 1e-4f;
            x = w0 + h;
            const double up_step = static_cast<double>(x) - w0;
            const double l_up = loss_at();
            x = w0 - h;
            const double down_step = static_cast<double>(w0) - x;
            const double l_down = loss_at();
            x = w0;
            const double fd = (l_up - l_down) / (up_step + down_step);
            const double an = (*m.grad)[i];
            // As in backward_gradcheck_test: h^2 truncation and rounding stay under 1e-5 relative.
            EXPECT_NEAR(an, fd, abs_tol + 1e-5 * std::fabs(fd)) << m.name << " index " << i;
            if (an != 0) ++nonzero;
        }
    }
    return nonzero;
}

TEST(MoeBackward, FiniteDifferencesRenormalisedTop2) {
    const ModelWeights w = testing::tiny_model(moe_config(), 7);
    EXPECT_GT(check_gradients(w, kTokens, 5, 1e-7), 100);
}

TEST(MoeBackward, FiniteDifferencesRawTop2AndTop1) {
    ModelConfig c = moe_config();
    c.moe_norm_topk = false;  // Qwen2-MoE's setting: the kept softmax weights unnormalised
    EXPECT_GT(check_gradients(testing::tiny_model(c, 5), kTokens, 5, 1e-7), 100);
    // Top-1 renormalised: the weight is 1 whatever the router says, so the router's gradient is
    // exactly zero, and the experts' are those of a plain MLP.
    const ModelWeights top1 = testing::tiny_model(moe_config(4, 1), 5);
    EXPECT_GT(check_gradients(top1, kTokens, 5, 1e-7), 50);
    const auto lg = loss_and_gradients<double>(top1, kTokens, 1);
    for (const auto& m : lg.moe)
        for (double g : m.router) EXPECT_EQ(g, 0.0);
}

// The synthetic test-tiny-moe checkpoint (halo synth's shape: d_model 64, 8 experts, top-2,
// vocabulary 320), as written to disk and loaded.
TEST(MoeBackward, FiniteDifferencesOnTestTinyMoe) {
    testing::ScratchDir dir;
    SyntheticOptions so;
    so.dtype = "f32";
    write_synthetic_checkpoint(dir.path() / "m", synthetic_shape("test-tiny-moe"), so);
    const ModelWeights w = load_model(dir.path() / "m");
    ASSERT_EQ(w.config.n_experts, 8);
    std::vector<std::int32_t> tokens;
    for (int i = 0; i < 24; ++i) tokens.push_back((i * 37 + 11) % 258);  // ids the tokenizer can make
    // Gradients here are ~1e-4..1e-2 (weights ~0.02): an absolute floor of 1e-9.
    EXPECT_GT(check_gradients(w, tokens, 3, 1e-9), 60);
}

TEST(MoeBackward, FloatMatchesDoubleAndLossMatchesForward) {
    const ModelWeights w = testing::tiny_model(moe_config(), 7);
    const auto d = loss_and_gradients<double>(w, kTokens, 1);
    double loss_f = 0;
    const FisherDiagonal f = linear_gradients(w, kTokens, 1, &loss_f);
    EXPECT_NEAR(d.loss, mean_next_token_nll(w, kTokens), 1e-5);
    EXPECT_NEAR(loss_f, d.loss, 1e-5);
    ASSERT_EQ(f.experts.size(), 2u);
    for (std::size_t l = 0; l < 2; ++l) {
        EXPECT_EQ(f.linear[l][static_cast<std::size_t>(LinearKind::ffn_gate)].size(), 0u);  // the experts hold the FFN
        ASSERT_EQ(f.experts[l].size(), 4u);
        for (std::size_t e = 0; e < 4; ++e)
            for (std::size_t s = 0; s < 3; ++s) {
                const Matrix& got = f.experts[l][e].linear[s];
                const auto& want = d.moe[l].experts[e][s];
                ASSERT_EQ(got.rows, w.layers[l].experts[e].linear[s].rows);
                ASSERT_EQ(got.size(), want.size());
                double max_abs = 0, err = 0;
                for (std::size_t i = 0; i < want.size(); ++i) {
                    max_abs = std::max(max_abs, std::fabs(want[i]));
                    err = std::max(err, std::fabs(got.data[i] - want[i]));
                }
                EXPECT_LT(err, 1e-4 * max_abs + 1e-7) << l << " " << e << " " << s;
            }
    }
}

TEST(MoeBackward, FisherIsMeanOfSquaredPerSampleGradientsOfEveryExpert) {
    const ModelWeights w = testing::tiny_model(moe_config(), 7);
    const std::vector<std::vector<std::int32_t>> samples = {{1, 2, 3, 4, 5, 6}, {9, 8, 7, 6, 5, 4}, {0, 10, 0, 10, 3}};
    const FisherDiagonal fisher = fisher_diagonal(w, samples, 1);
    std::vector<FisherDiagonal> g;
    for (const auto& s : samples) g.push_back(linear_gradients(w, s, 1));
    int positive = 0;
    for (int l = 0; l < 2; ++l)
        for (int e = 0; e < 4; ++e)
            for (auto k : kExpertKinds) {
                const Matrix& f = fisher.at(l, k, e);
                ASSERT_EQ(f.size(), w.layers[static_cast<std::size_t>(l)].experts[static_cast<std::size_t>(e)][k].size());
                for (std::size_t i = 0; i < f.size(); i += 5) {
                    double want = 0;
                    for (const auto& gs : g) want += static_cast<double>(gs.at(l, k, e).data[i]) * gs.at(l, k, e).data[i] / 3.0;
                    EXPECT_NEAR(f.data[i], want, 1e-6 * want + 1e-12);
                    if (f.data[i] > 0) ++positive;
                }
            }
    EXPECT_GT(positive, 200);
}

}  // namespace
}  // namespace halo::model
