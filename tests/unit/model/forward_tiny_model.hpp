// Tiny Llama-family models built in code for the model tests, and a plain scalar reference
// forward pass written independently of src/halo/model (no BLAS, no shared helpers).
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "halo/model/weights.hpp"

namespace halo::model::testing {

inline ModelConfig tiny_config() {
    ModelConfig c;
    c.name = "tiny";
    c.n_layers = 2;
    c.d_model = 16;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.head_dim = 4;
    c.d_ff = 24;
    c.vocab_size = 11;
    c.context_length = 64;
    c.rms_norm_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.tied_embeddings = true;
    return c;
}

inline Matrix random_matrix(std::int64_t r, std::int64_t c, float scale, std::mt19937& rng) {
    Matrix m(r, c);
    std::normal_distribution<float> nd(0.0f, scale);
    for (auto& v : m.data) v = nd(rng);
    return m;
}

inline std::vector<float> random_norm(int n, std::mt19937& rng) {
    std::uniform_real_distribution<float> ud(0.7f, 1.3f);
    std::vector<float> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = ud(rng);
    return v;
}

inline ModelWeights tiny_model(const ModelConfig& c, unsigned seed = 1) {
    std::mt19937 rng(seed);
    ModelWeights w;
    w.config = c;
    w.token_embedding = random_matrix(c.vocab_size, c.d_model, 1.0f, rng);
    const std::int64_t dq = std::int64_t{c.n_heads} * c.head_dim, dkv = std::int64_t{c.n_kv_heads} * c.head_dim;
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights lw;
        lw.attn_norm = random_norm(c.d_model, rng);
        lw.ffn_norm = random_norm(c.d_model, rng);
        if (c.qk_norm) {
            lw.q_norm = random_norm(c.head_dim, rng);
            lw.k_norm = random_norm(c.head_dim, rng);
        }
        if (c.post_norms) {
            lw.post_attn_norm = random_norm(c.d_model, rng);
            lw.post_ffn_norm = random_norm(c.d_model, rng);
        }
        if (c.qkv_bias) {
            lw.bias_q = random_matrix(1, dq, 0.5f, rng).data;
            lw.bias_k = random_matrix(1, dkv, 0.5f, rng).data;
            lw.bias_v = random_matrix(1, dkv, 0.5f, rng).data;
        }
        lw[LinearKind::attn_q] = random_matrix(dq, c.d_model, 0.5f, rng);
        lw[LinearKind::attn_k] = random_matrix(dkv, c.d_model, 0.5f, rng);
        lw[LinearKind::attn_v] = random_matrix(dkv, c.d_model, 0.5f, rng);
        lw[LinearKind::attn_output] = random_matrix(c.d_model, dq, 0.3f, rng);
        if (c.moe()) {  // router and experts instead of the dense FFN (which stays empty)
            lw.router = random_matrix(c.n_experts, c.d_model, 0.6f, rng);
            lw.experts.resize(static_cast<std::size_t>(c.n_experts));
            for (auto& e : lw.experts) {
                e[LinearKind::ffn_gate] = random_matrix(c.d_ff, c.d_model, 0.4f, rng);
                e[LinearKind::ffn_up] = random_matrix(c.d_ff, c.d_model, 0.4f, rng);
                e[LinearKind::ffn_down] = random_matrix(c.d_model, c.d_ff, 0.3f, rng);
            }
        } else {
            lw[LinearKind::ffn_gate] = random_matrix(c.d_ff, c.d_model, 0.4f, rng);
            lw[LinearKind::ffn_up] = random_matrix(c.d_ff, c.d_model, 0.4f, rng);
            lw[LinearKind::ffn_down] = random_matrix(c.d_model, c.d_ff, 0.3f, rng);
        }
        w.layers.push_back(std::move(lw));
    }
    w.output_norm = random_norm(c.d_model, rng);
    if (!c.tied_embeddings) w.output = random_matrix(c.vocab_size, c.d_model, 0.5f, rng);
    return w;
}

// ---- the reference: one token at a time, double precision, textbook formulas ----

using Vec = std::vector<double>;

inline Vec ref_rmsnorm(const Vec& x, const std::vector<float>& g, double eps, bool plus_one) {
    double ss = 0;
    for (double v : x) ss += v * v;
    const double r = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
    Vec y(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] * r * (g[i] + (plus_one ? 1.0 : 0.0));
    return y;
}

inline Vec ref_matvec(const Matrix& w, const Vec& x) {
    Vec y(static_cast<std::size_t>(w.rows), 0.0);
    for (std::int64_t o = 0; o < w.rows; ++o)
        for (std::int64_t i = 0; i < w.cols; ++i) y[static_cast<std::size_t>(o)] += w.at(o, i) * x[static_cast<std::size_t>(i)];
    return y;
}

// Rotates one head vector at position pos (no scaling variants: tests use RopeScaling::none).
inline void ref_rope(double* v, int hd, int pos, double theta, bool interleaved) {
    for (int i = 0; i < hd / 2; ++i) {
        const double angle = pos / std::pow(theta, 2.0 * i / hd);
        const int a = interleaved ? 2 * i : i;
        const int b = interleaved ? 2 * i + 1 : i + hd / 2;
        const double x0 = v[a], x1 = v[b];
        v[a] = x0 * std::cos(angle) - x1 * std::sin(angle);
        v[b] = x0 * std::sin(angle) + x1 * std::cos(angle);
    }
}

inline Vec ref_swiglu_mlp(const Matrix& gate, const Matrix& up, const Matrix& down, const Vec& h, bool gelu) {
    const Vec g = ref_matvec(gate, h);
    const Vec u = ref_matvec(up, h);
    Vec a(g.size());
    for (std::size_t i = 0; i < g.size(); ++i) {
        const double act = gelu ? 0.5 * g[i] * (1 + std::tanh(std::sqrt(2 / M_PI) * (g[i] + 0.044715 * g[i] * g[i] * g[i])))
                                : g[i] / (1 + std::exp(-g[i]));
        a[i] = act * u[i];
    }
    return ref_matvec(down, a);
}

// The router's weight of every expert for one token (0 for the experts not chosen): softmax,
// the top k by repeated arg-max (lower index first on ties), renormalised when norm_topk.
inline Vec ref_expert_weights(const Matrix& router, const Vec& h, int k, bool norm_topk) {
    Vec p = ref_matvec(router, h);
    double mx = -1e300, z = 0;
    for (double v : p) mx = std::max(mx, v);
    for (double& v : p) z += (v = std::exp(v - mx));
    for (double& v : p) v /= z;
    Vec chosen(p.size(), 0.0);
    double kept = 0;
    for (int j = 0; j < k; ++j) {
        std::size_t best = p.size();
        for (std::size_t e = 0; e < p.size(); ++e)
            if (chosen[e] == 0.0 && (best == p.size() || p[e] > p[best])) best = e;
        chosen[best] = p[best];
        kept += p[best];
    }
    if (norm_topk)
        for (double& v : chosen) v /= kept;
    return chosen;
}

// The MLP input (output of the FFN norm) of token t of block `layer`, seen by the reference.
using RefFfnInputObserver = std::function<void(int layer, int token, const Vec& h)>;

inline std::vector<Vec> reference_logits(const ModelWeights& w, const std::vector<std::int32_t>& tokens,
                                         const RefFfnInputObserver& on_ffn_input = {}) {
    const ModelConfig& c = w.config;
    const int S = static_cast<int>(tokens.size()), D = c.d_model, hd = c.head_dim;
    std::vector<Vec> x(tokens.size(), Vec(static_cast<std::size_t>(D)));
    for (int t = 0; t < S; ++t)
        for (int i = 0; i < D; ++i)
            x[t][i] = w.token_embedding.at(tokens[t], i) * (c.scale_embeddings ? std::sqrt(static_cast<double>(D)) : 1.0);
    for (int layer = 0; layer < c.n_layers; ++layer) {
        const LayerWeights& lw = w.layers[static_cast<std::size_t>(layer)];
        // Local layers: all but every swa_pattern-th (1-based) when a window is set.
        const bool local = c.sliding_window > 0 && (c.swa_pattern <= 0 || (layer + 1) % c.swa_pattern != 0);
        const int window = local ? c.sliding_window : 0;
        const double theta = local && c.rope_theta_local > 0 ? c.rope_theta_local : c.rope_theta;
        std::vector<Vec> q(S), k(S), v(S);
        for (int t = 0; t < S; ++t) {
            const Vec h = ref_rmsnorm(x[t], lw.attn_norm, c.rms_norm_eps, c.norm_weight_plus_one);
            q[t] = ref_matvec(lw[LinearKind::attn_q], h);
            k[t] = ref_matvec(lw[LinearKind::attn_k], h);
            v[t] = ref_matvec(lw[LinearKind::attn_v], h);
            if (c.qkv_bias) {
                for (std::size_t i = 0; i < q[t].size(); ++i) q[t][i] += lw.bias_q[i];
                for (std::size_t i = 0; i < k[t].size(); ++i) k[t][i] += lw.bias_k[i];
                for (std::size_t i = 0; i < v[t].size(); ++i) v[t][i] += lw.bias_v[i];
            }
            for (int hh = 0; hh < c.n_heads; ++hh) {
                if (c.qk_norm) {
                    Vec part(q[t].begin() + hh * hd, q[t].begin() + (hh + 1) * hd);
                    part = ref_rmsnorm(part, lw.q_norm, c.rms_norm_eps, c.norm_weight_plus_one);
                    std::copy(part.begin(), part.end(), q[t].begin() + hh * hd);
                }
                ref_rope(q[t].data() + hh * hd, hd, t, theta, c.rope_interleaved);
            }
            for (int hh = 0; hh < c.n_kv_heads; ++hh) {
                if (c.qk_norm) {
                    Vec part(k[t].begin() + hh * hd, k[t].begin() + (hh + 1) * hd);
                    part = ref_rmsnorm(part, lw.k_norm, c.rms_norm_eps, c.norm_weight_plus_one);
                    std::copy(part.begin(), part.end(), k[t].begin() + hh * hd);
                }
                ref_rope(k[t].data() + hh * hd, hd, t, theta, c.rope_interleaved);
            }
        }
        for (int t = 0; t < S; ++t) {
            Vec attn(static_cast<std::size_t>(c.n_heads * hd), 0.0);
            for (int hh = 0; hh < c.n_heads; ++hh) {
                const int kv = hh / (c.n_heads / c.n_kv_heads);
                const int lo = window > 0 ? std::max(0, t - window + 1) : 0;
                std::vector<double> s;
                double mx = -1e300;
                for (int j = lo; j <= t; ++j) {
                    double dot = 0;
                    for (int i = 0; i < hd; ++i) dot += q[t][hh * hd + i] * k[j][kv * hd + i];
                    s.push_back(dot / std::sqrt(static_cast<double>(hd)));
                    mx = std::max(mx, s.back());
                }
                double z = 0;
                for (double& e : s) z += (e = std::exp(e - mx));
                for (int j = lo; j <= t; ++j)
                    for (int i = 0; i < hd; ++i) attn[hh * hd + i] += s[j - lo] / z * v[j][kv * hd + i];
            }
            Vec o = ref_matvec(lw[LinearKind::attn_output], attn);
            if (c.post_norms) o = ref_rmsnorm(o, lw.post_attn_norm, c.rms_norm_eps, c.norm_weight_plus_one);
            for (int i = 0; i < D; ++i) x[t][i] += o[i];
            const Vec h = ref_rmsnorm(x[t], lw.ffn_norm, c.rms_norm_eps, c.norm_weight_plus_one);
            if (on_ffn_input) on_ffn_input(layer, t, h);
            Vec d(static_cast<std::size_t>(D), 0.0);
            if (c.moe()) {  // every expert run densely, weighted by the router (0 for the unchosen)
                const Vec gate_w = ref_expert_weights(lw.router, h, c.n_experts_used, c.moe_norm_topk);
                for (int e = 0; e < c.n_experts; ++e) {
                    const auto& ex = lw.experts[static_cast<std::size_t>(e)];
                    const Vec y = ref_swiglu_mlp(ex[LinearKind::ffn_gate], ex[LinearKind::ffn_up], ex[LinearKind::ffn_down], h, c.gelu_gate);
                    for (int i = 0; i < D; ++i) d[i] += gate_w[static_cast<std::size_t>(e)] * y[i];
                }
            } else {
                d = ref_swiglu_mlp(lw[LinearKind::ffn_gate], lw[LinearKind::ffn_up], lw[LinearKind::ffn_down], h, c.gelu_gate);
            }
            if (c.post_norms) d = ref_rmsnorm(d, lw.post_ffn_norm, c.rms_norm_eps, c.norm_weight_plus_one);
            for (int i = 0; i < D; ++i) x[t][i] += d[i];
        }
    }
    std::vector<Vec> logits;
    for (int t = 0; t < S; ++t) {
        logits.push_back(ref_matvec(w.lm_head(), ref_rmsnorm(x[t], w.output_norm, c.rms_norm_eps, c.norm_weight_plus_one)));
        if (c.final_logit_softcap > 0)
            for (double& l : logits.back()) l = c.final_logit_softcap * std::tanh(l / c.final_logit_softcap);
    }
    return logits;
}

}  // namespace halo::model::testing
