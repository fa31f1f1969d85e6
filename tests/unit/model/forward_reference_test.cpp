// The BLAS forward pass against the plain scalar reference in forward_tiny_model.hpp, for the
// Llama configuration and each option (rotate-half RoPE, MHA, untied head, Gemma options,
// sliding window), plus input checks and the activation hooks' plumbing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "forward_tiny_model.hpp"
#include "halo/model/forward.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

using testing::reference_logits;
using testing::tiny_config;
using testing::tiny_model;

const std::vector<std::int32_t> kTokens = {1, 5, 3, 9, 0, 2, 7, 7, 4, 10, 6, 8, 3};

// Max |logit - reference| relative to the largest reference logit.
double max_rel_error(const ModelWeights& w, const std::vector<std::int32_t>& tokens) {
    const Matrix got = forward_logits(w, tokens, {.threads = 1});
    const auto want = reference_logits(w, tokens);
    EXPECT_EQ(got.rows, static_cast<std::int64_t>(tokens.size()));
    EXPECT_EQ(got.cols, w.config.vocab_size);
    double err = 0, scale = 0;
    for (std::size_t t = 0; t < tokens.size(); ++t)
        for (int v = 0; v < w.config.vocab_size; ++v) {
            err = std::max(err, std::fabs(got.at(static_cast<std::int64_t>(t), v) - want[t][v]));
            scale = std::max(scale, std::fabs(want[t][v]));
        }
    return err / scale;
}

// Float32 through two blocks of width 16: errors ~1e-6 relative; 1e-4 leaves room for BLAS
// summation order while still catching any formula mistake (those give O(1) differences).
constexpr double kTol = 1e-4;

TEST(ForwardReference, LlamaGqaTiedInterleavedRope) {
    ModelConfig c = tiny_config();
    c.rope_interleaved = true;
    const ModelWeights w = tiny_model(c);
    EXPECT_LT(max_rel_error(w, kTokens), kTol);
    // The convention matters: the same weights under rotate-half give other logits.
    ModelWeights half = w;
    half.config.rope_interleaved = false;
    EXPECT_GT(std::fabs(forward_logits(w, kTokens).at(5, 2) - forward_logits(half, kTokens).at(5, 2)), 1e-4);
}

TEST(ForwardReference, LlamaGqaTiedRotateHalfRope) {
    EXPECT_LT(max_rel_error(tiny_model(tiny_config(), 11), kTokens), kTol);
}

TEST(ForwardReference, RotateHalfRopeUntiedHeadMha) {
    ModelConfig c = tiny_config();
    c.rope_interleaved = false;
    c.tied_embeddings = false;
    c.n_kv_heads = c.n_heads;
    EXPECT_LT(max_rel_error(tiny_model(c, 7), kTokens), kTol);
}

TEST(ForwardReference, GemmaOptions) {
    ModelConfig c = tiny_config();
    c.gelu_gate = true;
    c.norm_weight_plus_one = true;
    c.scale_embeddings = true;
    c.qk_norm = true;
    c.n_kv_heads = 1;
    EXPECT_LT(max_rel_error(tiny_model(c, 3), kTokens), kTol);
}

TEST(ForwardReference, SlidingWindow) {
    ModelConfig c = tiny_config();
    c.sliding_window = 3;
    const ModelWeights w = tiny_model(c, 5);
    EXPECT_LT(max_rel_error(w, kTokens), kTol);
    // The window matters: without it the late positions change.
    ModelWeights full = w;
    full.config.sliding_window = 0;
    const Matrix a = forward_logits(w, kTokens), b = forward_logits(full, kTokens);
    EXPECT_FLOAT_EQ(a.at(2, 0), b.at(2, 0));  // position 2 sees 3 tokens either way
    EXPECT_GT(std::fabs(a.at(12, 0) - b.at(12, 0)), 1e-4);
}

// Gemma 3's block: sandwich norms, QK-norm, GeGLU, sqrt(d) embeddings, and local layers (window
// 3, RoPE base 10) with every 2nd layer global (window none, base 10000).
TEST(ForwardReference, Gemma3LocalGlobalSandwichNorms) {
    ModelConfig c = tiny_config();
    c.n_layers = 4;
    c.gelu_gate = true;
    c.scale_embeddings = true;
    c.qk_norm = true;
    c.post_norms = true;
    c.sliding_window = 3;
    c.swa_pattern = 2;
    c.rope_theta_local = 10.0f;
    const ModelWeights w = tiny_model(c, 13);
    EXPECT_LT(max_rel_error(w, kTokens), kTol);
    // Both the pattern and the local base matter.
    for (auto change : {+[](ModelConfig& m) { m.swa_pattern = 0; }, +[](ModelConfig& m) { m.rope_theta_local = 0; },
                        +[](ModelConfig& m) { m.post_norms = false; }}) {
        ModelWeights other = w;
        change(other.config);
        const Matrix a = forward_logits(w, kTokens), b = forward_logits(other, kTokens);
        EXPECT_GT(std::fabs(a.at(12, 0) - b.at(12, 0)), 1e-4);
    }
}

TEST(ForwardReference, Qwen2QkvBias) {
    ModelConfig c = tiny_config();
    c.qkv_bias = true;
    EXPECT_LT(max_rel_error(tiny_model(c, 17), kTokens), kTol);
}

TEST(ForwardReference, FinalLogitSoftcap) {
    ModelConfig c = tiny_config();
    c.final_logit_softcap = 2.0f;
    const ModelWeights w = tiny_model(c, 19);
    EXPECT_LT(max_rel_error(w, kTokens), kTol);
    const Matrix a = forward_logits(w, kTokens);
    for (float v : a.data) EXPECT_LT(std::fabs(v), 2.0f);
}

TEST(ForwardReference, CausalPrefixInvariance) {
    // Logits at position t depend only on tokens 0..t.
    const ModelWeights w = tiny_model(tiny_config());
    const Matrix full = forward_logits(w, kTokens);
    const std::vector<std::int32_t> prefix(kTokens.begin(), kTokens.begin() + 5);
    const Matrix part = forward_logits(w, prefix);
    for (std::int64_t t = 0; t < 5; ++t)
        for (int v = 0; v < w.config.vocab_size; ++v) EXPECT_NEAR(part.at(t, v), full.at(t, v), 1e-5);
}

TEST(ForwardReference, LogitsFromRowSkipsOnlyEarlierRows) {
    const ModelWeights w = tiny_model(tiny_config());
    const Matrix full = forward_logits(w, kTokens);
    const Matrix tail = forward_logits(w, kTokens, {.logits_from_row = 6});
    // Rows >= 6 agree to rounding: the fast GEMM blocks a 4-row product differently from a
    // 10-row one, which may change the order of the last additions.
    for (std::int64_t t = 0; t < full.rows; ++t)
        for (int v = 0; v < w.config.vocab_size; ++v) {
            if (t < 6) {
                EXPECT_EQ(tail.at(t, v), 0.0f) << t << " " << v;
            } else {
                EXPECT_NEAR(tail.at(t, v), full.at(t, v), 1e-5f * (1.0f + std::fabs(full.at(t, v)))) << t << " " << v;
            }
        }
}

TEST(ForwardReference, RejectsBadTokensAndShapes) {
    ModelWeights w = tiny_model(tiny_config());
    const std::vector<std::int32_t> bad = {1, 11};
    try {
        forward_logits(w, bad);
        FAIL() << "expected E5503";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5503");
        EXPECT_THAT(e.what(), ::testing::HasSubstr("0..10"));
        EXPECT_THAT(e.what(), ::testing::HasSubstr("11"));
    }
    EXPECT_THROW(forward_logits(w, std::vector<std::int32_t>{}), Error);
    w.layers[1][LinearKind::ffn_up] = Matrix(3, 3);
    try {
        forward_logits(w, kTokens);
        FAIL() << "expected E5502";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5502");
        EXPECT_EQ(e.diagnostic().place, "blk.1.ffn_up");
        EXPECT_EQ(e.diagnostic().expected, "24 x 16");
    }
}

TEST(ForwardHooksTest, EachHookSeesItsInputShape) {
    const ModelWeights w = tiny_model(tiny_config());
    ForwardHooks hooks;
    std::array<int, 7> calls{};
    std::array<std::int64_t, 7> cols{};
    for (std::size_t k = 0; k < 7; ++k)
        hooks.linear_input[k] = [&, k](float*, std::int64_t rows, std::int64_t c, int) {
            EXPECT_EQ(rows, static_cast<std::int64_t>(kTokens.size()));
            ++calls[k];
            cols[k] = c;
        };
    int p_calls = 0;
    hooks.attn_p = [&](float* p, std::int64_t rows, std::int64_t c, int) {
        ++p_calls;
        EXPECT_EQ(rows, c);
        for (std::int64_t i = 0; i < rows; ++i) {
            double sum = 0;
            for (std::int64_t j = 0; j < c; ++j) sum += p[i * c + j];
            EXPECT_NEAR(sum, 1.0, 1e-5);
            EXPECT_EQ(p[i * c + c - 1], i == c - 1 ? p[i * c + c - 1] : 0.0f);  // causal zeros
        }
    };
    const Matrix plain = forward_logits(w, kTokens);
    const Matrix hooked = forward_logits(w, kTokens, {.threads = 1, .hooks = &hooks});
    for (std::size_t k = 0; k < 7; ++k) EXPECT_EQ(calls[k], 2) << k;  // once per layer
    EXPECT_EQ(cols, (std::array<std::int64_t, 7>{16, 16, 16, 16, 16, 16, 24}));
    EXPECT_EQ(p_calls, 2 * 4);  // per layer, per query head
    EXPECT_EQ(plain.data, hooked.data);  // observing hooks change nothing

    // A hook that zeroes ffn_down's input removes the FFN's contribution: differs from plain.
    ForwardHooks zero;
    zero.linear_input[static_cast<std::size_t>(LinearKind::ffn_down)] = [](float* x, std::int64_t r, std::int64_t c,
                                                                          int) { std::fill(x, x + r * c, 0.0f); };
    const Matrix z = forward_logits(w, kTokens, {.threads = 1, .hooks = &zero});
    EXPECT_GT(std::fabs(z.at(3, 3) - plain.at(3, 3)), 1e-4);
}

}  // namespace
}  // namespace halo::model
