#include "halo/model/forward.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "halo/model/blas.hpp"
#include "halo/model/forward_core.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {

namespace {

constexpr std::array<std::string_view, 7> kKindNames = {"attn_q",      "attn_k",   "attn_v", "attn_output",
                                                        "ffn_gate",    "ffn_up",   "ffn_down"};

void expect_shape(const Matrix& m, std::int64_t rows, std::int64_t cols, const std::string& name) {
    if (m.rows != rows || m.cols != cols || m.size() != static_cast<std::size_t>(rows * cols)) {
        throw_bad_value("E5502", name, "tensor shape does not match the model config",
                        std::to_string(rows) + " x " + std::to_string(cols),
                        std::to_string(m.rows) + " x " + std::to_string(m.cols) + " (" + std::to_string(m.size()) +
                            " values)",
                        "the loader read a different architecture than the config says");
    }
}

void expect_len(const std::vector<float>& v, std::int64_t n, const std::string& name) {
    if (static_cast<std::int64_t>(v.size()) != n) {
        throw_bad_value("E5502", name, "norm weight length does not match the model config", std::to_string(n),
                        std::to_string(v.size()));
    }
}

}  // namespace

void validate_weights(const ModelWeights& w) {
    const ModelConfig& c = w.config;
    if (c.n_layers <= 0 || c.d_model <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.head_dim <= 0 || c.d_ff <= 0 ||
        c.vocab_size <= 0 || c.n_heads % c.n_kv_heads != 0 ||
        static_cast<int>(w.layers.size()) != c.n_layers) {
        throw_bad_value("E5502", "config", "model config is inconsistent",
                        "positive sizes, n_heads a multiple of n_kv_heads, n_layers blocks",
                        "n_layers " + std::to_string(c.n_layers) + " (" + std::to_string(w.layers.size()) +
                            " blocks), n_heads " + std::to_string(c.n_heads) + ", n_kv_heads " +
                            std::to_string(c.n_kv_heads));
    }
    const std::int64_t D = c.d_model, dq = std::int64_t{c.n_heads} * c.head_dim,
                       dkv = std::int64_t{c.n_kv_heads} * c.head_dim, F = c.d_ff;
    expect_shape(w.token_embedding, c.vocab_size, D, "token_embd");
    expect_shape(w.lm_head(), c.vocab_size, D, w.output.size() ? "output" : "token_embd (tied output)");
    expect_len(w.output_norm, D, "output_norm");
    const std::array<std::pair<std::int64_t, std::int64_t>, 7> shapes = {
        {{dq, D}, {dkv, D}, {dkv, D}, {D, dq}, {F, D}, {F, D}, {D, F}}};
    for (int l = 0; l < c.n_layers; ++l) {
        const auto& lw = w.layers[static_cast<std::size_t>(l)];
        const std::string prefix = "blk." + std::to_string(l) + ".";
        expect_len(lw.attn_norm, D, prefix + "attn_norm");
        expect_len(lw.ffn_norm, D, prefix + "ffn_norm");
        if (c.qk_norm) {
            expect_len(lw.q_norm, c.head_dim, prefix + "attn_q_norm");
            expect_len(lw.k_norm, c.head_dim, prefix + "attn_k_norm");
        }
        if (c.post_norms) {
            expect_len(lw.post_attn_norm, D, prefix + "post_attention_norm");
            expect_len(lw.post_ffn_norm, D, prefix + "post_ffw_norm");
        }
        if (c.qkv_bias) {
            expect_len(lw.bias_q, dq, prefix + "attn_q.bias");
            expect_len(lw.bias_k, dkv, prefix + "attn_k.bias");
            expect_len(lw.bias_v, dkv, prefix + "attn_v.bias");
        }
        for (std::size_t k = 0; k < 7; ++k) {
            if (c.moe() && is_expert_kind(kLinearKinds[k])) continue;  // the experts hold the FFN
            expect_shape(lw.linear[k], shapes[k].first, shapes[k].second, prefix + std::string(kKindNames[k]));
        }
        if (!c.moe()) continue;
        if (c.n_experts_used < 1 || c.n_experts_used > c.n_experts || lw.experts.size() != static_cast<std::size_t>(c.n_experts))
            throw_bad_value("E5543", prefix + "ffn_gate_inp", "expert count does not match the model config",
                            std::to_string(c.n_experts) + " experts, 1.." + std::to_string(c.n_experts) + " used",
                            std::to_string(lw.experts.size()) + " experts, " + std::to_string(c.n_experts_used) + " used");
        expect_shape(lw.router, c.n_experts, D, prefix + "ffn_gate_inp");
        for (std::size_t e = 0; e < lw.experts.size(); ++e)
            for (std::size_t k = 0; k < 3; ++k)
                expect_shape(lw.experts[e].linear[k], shapes[4 + k].first, shapes[4 + k].second,
                             prefix + std::string(kKindNames[4 + k]) + "_exps." + std::to_string(e));
    }
}

Matrix forward_logits(const ModelWeights& weights, std::span<const std::int32_t> tokens, const ForwardOptions& options) {
    validate_weights(weights);
    if (tokens.empty()) {
        throw_bad_value("E5504", "tokens", "cannot run the model on an empty sequence", "at least 1 token", "0");
    }
    set_blas_threads(options.threads);
    const ModelConfig& c = weights.config;
    const auto S = static_cast<std::int64_t>(tokens.size());
    const ModelView<float> view = make_view<float>(weights);
    const LayerRopes ropes(c, S);
    std::vector<float> x(static_cast<std::size_t>(S * c.d_model));
    embed_tokens(weights, tokens, x.data());
    for (int l = 0; l < c.n_layers; ++l) block_forward(view, l, x.data(), S, ropes.for_layer(l), options.hooks, static_cast<const LinearInputObserver*>(nullptr),
                      static_cast<BlockCache<float>*>(nullptr));
    release_block_buffers();  // before the logits, the largest allocation
    Matrix logits(S, c.vocab_size);
    const std::int64_t from = std::min<std::int64_t>(std::max<std::int64_t>(options.logits_from_row, 0), S);
    final_logits(view, x.data() + from * c.d_model, S - from, logits.row(from), static_cast<float*>(nullptr), options.hooks);
    return logits;
}

double mean_next_token_nll(const ModelWeights& weights, std::span<const std::int32_t> tokens,
                           const ForwardOptions& options) {
    Matrix logits = forward_logits(weights, tokens, options);
    if (tokens.size() < 2) {
        throw_bad_value("E5504", "tokens", "next-token loss needs two tokens", "at least 2 tokens",
                        std::to_string(tokens.size()));
    }
    double nll = 0;
    for (std::size_t t = 0; t + 1 < tokens.size(); ++t)
        nll += token_nll(logits.row(static_cast<std::int64_t>(t)), logits.cols, tokens[t + 1]);
    return nll / static_cast<double>(tokens.size() - 1);
}

}  // namespace halo::model
