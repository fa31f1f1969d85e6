#include "halo/model/forward_core.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>

#include "halo/model/architecture.hpp"
#include "halo/model/attention.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/moe.hpp"
#include "halo/model/parallel_ops.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {

namespace {

std::size_t sz(std::int64_t n) { return static_cast<std::size_t>(n); }

template <class T>
const T* as_t(const Matrix& m, std::vector<std::vector<T>>& storage) {
    if constexpr (std::is_same_v<T, float>) {
        return m.data.data();
    } else {
        storage.emplace_back(m.data.begin(), m.data.end());
        return storage.back().data();
    }
}

// The input a linear actually sees: x itself, or a hooked copy (hooks apply to float only).
template <class T>
const T* linear_input(LinearKind kind, const T* x, std::int64_t rows, std::int64_t cols, const ForwardHooks* hooks,
                      const LinearInputObserver* observer, int layer, std::vector<T>& scratch) {
    const T* in = x;
    if constexpr (std::is_same_v<T, float>) {
        const auto& hook = hooks != nullptr ? hooks->linear_input[static_cast<std::size_t>(kind)] : ActivationHook{};
        if (hook) {
            scratch.assign(x, x + rows * cols);
            hook(scratch.data(), rows, cols, layer);
            in = scratch.data();
        }
        if (observer != nullptr && *observer) (*observer)(kind, -1, in, rows, cols);
    }
    return in;
}

// dx += RMSNorm backward: y = g * x * r, r = (mean x^2 + eps)^-1/2, so
// dx_j = r g_j dy_j - x_j r^3 / D * sum_i g_i dy_i x_i.
template <class T>
void rms_norm_backward(const T* x, const T* inv_rms, const float* weight, bool plus_one, std::int64_t rows,
                       std::int64_t dim, const T* dy, T* dx) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * dim;
        const T* dyr = dy + r * dim;
        T* dxr = dx + r * dim;
        const T inv = inv_rms[r];
        T dot = 0;
        for (std::int64_t i = 0; i < dim; ++i) {
            const T g = static_cast<T>(weight[i]) + (plus_one ? T(1) : T(0));
            dot += g * dyr[i] * xr[i];
        }
        const T coef = inv * inv * inv * dot / static_cast<T>(dim);
        for (std::int64_t i = 0; i < dim; ++i) {
            const T g = static_cast<T>(weight[i]) + (plus_one ? T(1) : T(0));
            dxr[i] += inv * g * dyr[i] - xr[i] * coef;
        }
    }
}

// The block's activation buffers, kept per thread and reused across blocks and calls: fresh
// vectors per block were ~390 MB of new pages per 512-token window (30 layers), i.e. ~100k
// page faults and their zeroing. Grows to the largest block seen; never shrinks.
template <class T>
struct BlockBuffers {
    std::vector<T> h, q, k, v, attn, gate, up, act, inv1, inv2, scratch;
};

template <class T>
BlockBuffers<T>& block_buffers() {
    thread_local BlockBuffers<T> buffers;
    return buffers;
}

// Sizes buf to n values without zeroing what is already there (every use overwrites it).
template <class T>
T* sized(std::vector<T>& buf, std::int64_t n) {
    if (buf.size() < sz(n)) buf.resize(sz(n));
    return buf.data();
}

// Gemma's sandwich norm: x += RMSNorm_post(in W^T) instead of x += in W^T. For the backward
// pass, `pre` receives in W^T and `inv_rms` its 1/rms per row (when not null).
template <class T>
void add_post_normed(const T* in, std::int64_t rows, std::int64_t in_cols, const T* weight, std::int64_t out_cols,
                     const std::vector<float>& post_norm, const ModelConfig& c, T* x, std::vector<T>* pre,
                     std::vector<T>* inv_rms) {
    std::vector<T> out(sz(rows * out_cols));
    linear_forward(in, rows, in_cols, weight, out_cols, out.data());
    if (pre != nullptr) *pre = out;
    if (inv_rms != nullptr) inv_rms->resize(sz(rows));
    rms_norm(out.data(), out.data(), rows, out_cols, post_norm.data(), c.norm_weight_plus_one, c.rms_norm_eps,
             inv_rms != nullptr ? inv_rms->data() : static_cast<T*>(nullptr));
    for (std::size_t i = 0; i < out.size(); ++i) x[i] += out[i];
}

// The gradient reaching a linear's output: d_x itself, or, behind a post-norm, its backward.
template <class T>
std::vector<T> through_post_norm(const ModelConfig& c, const std::vector<float>& post_norm, const std::vector<T>& pre,
                                 const std::vector<T>& inv_rms, std::int64_t rows, std::int64_t cols, const T* d_x) {
    if (!c.post_norms) return std::vector<T>(d_x, d_x + rows * cols);
    std::vector<T> d_pre(sz(rows * cols), T(0));
    rms_norm_backward(pre.data(), inv_rms.data(), post_norm.data(), c.norm_weight_plus_one, rows, cols, d_x,
                      d_pre.data());
    return d_pre;
}

// The dense SwiGLU/GeGLU FFN on h = the FFN norm's output: x += [PostNorm](act(h Wg^T) * h Wu^T) Wd^T.
template <class T>
void dense_ffn_forward(const ModelView<T>& model, int layer, const T* h, std::int64_t S, T* x, const ForwardHooks* hooks,
                       const LinearInputObserver* observer, BlockCache<T>* cache) {
    const ModelConfig& c = model.config();
    const LayerWeights& lw = model.weights->layers[sz(layer)];
    const auto& W = model.linear[sz(layer)];
    const std::int64_t D = c.d_model, F = c.d_ff;
    auto w = [&](LinearKind k) { return W[static_cast<std::size_t>(k)]; };
    BlockBuffers<T>& buf = block_buffers<T>();
    std::vector<T>& scratch = buf.scratch;
    T* gate = sized(buf.gate, S * F);
    T* up = sized(buf.up, S * F);
    linear_forward(linear_input(LinearKind::ffn_gate, h, S, D, hooks, observer, layer, scratch), S, D,
                   w(LinearKind::ffn_gate), F, gate);
    linear_forward(linear_input(LinearKind::ffn_up, h, S, D, hooks, observer, layer, scratch), S, D,
                   w(LinearKind::ffn_up), F, up);
    T* act = sized(buf.act, S * F);
    if constexpr (std::is_same_v<T, float>) {
        gated_activation_parallel(gate, up, act, S * F, c.gelu_gate);
    } else {
        gated_activation(gate, up, act, S * F, c.gelu_gate);
    }
    const T* act_in = linear_input(LinearKind::ffn_down, act, S, F, hooks, observer, layer, scratch);
    if (c.post_norms) {
        add_post_normed(act_in, S, F, w(LinearKind::ffn_down), D, lw.post_ffn_norm, c, x,
                        cache != nullptr ? &cache->ffn_out : nullptr,
                        cache != nullptr ? &cache->inv_rms_post_ffn : nullptr);
    } else {
        linear_forward(act_in, S, F, w(LinearKind::ffn_down), D, x, T(1));
    }
    if (cache != nullptr) {
        cache->gate.assign(gate, gate + S * F);
        cache->up.assign(up, up + S * F);
        cache->act.assign(act, act + S * F);
    }
}

}  // namespace

void release_block_buffers() {
    block_buffers<float>() = {};
    block_buffers<double>() = {};
    release_attention_scratch();
}

template <class T>
ModelView<T> make_view(const ModelWeights& weights) {
    ModelView<T> view;
    view.weights = &weights;
    std::size_t matrices = 1;
    for (const auto& layer : weights.layers) matrices += 8 + 3 * layer.experts.size();
    view.storage.reserve(matrices);  // as_t keeps pointers into storage's elements
    for (const auto& layer : weights.layers) {
        std::array<const T*, 7> ptrs{};
        for (std::size_t i = 0; i < 7; ++i) ptrs[i] = as_t<T>(layer.linear[i], view.storage);
        view.linear.push_back(ptrs);
        view.router.push_back(layer.router.size() ? as_t<T>(layer.router, view.storage) : nullptr);
        std::vector<std::array<const T*, 3>> experts;
        for (const auto& e : layer.experts) experts.push_back({as_t<T>(e.linear[0], view.storage), as_t<T>(e.linear[1], view.storage),
                                                               as_t<T>(e.linear[2], view.storage)});
        view.experts.push_back(std::move(experts));
    }
    view.lm_head = as_t<T>(weights.lm_head(), view.storage);
    return view;
}

template <class T>
void embed_tokens(const ModelWeights& weights, std::span<const std::int32_t> tokens, T* x) {
    const auto& c = weights.config;
    const T scale = c.scale_embeddings ? static_cast<T>(std::sqrt(static_cast<double>(c.d_model))) : T(1);
    for (std::size_t t = 0; t < tokens.size(); ++t) {
        const std::int32_t id = tokens[t];
        if (id < 0 || id >= weights.token_embedding.rows) {
            throw_bad_value("E5503", "token " + std::to_string(t), "token id outside the vocabulary",
                            "0.." + std::to_string(weights.token_embedding.rows - 1), std::to_string(id),
                            "the tokenizer and the model disagree on the vocabulary");
        }
        const float* e = weights.token_embedding.row(id);
        for (int i = 0; i < c.d_model; ++i) x[t * sz(c.d_model) + sz(i)] = static_cast<T>(e[i]) * scale;
    }
}

template <class T>
void block_forward(const ModelView<T>& model, int layer, T* x, std::int64_t S, const RopeTable& rope,
                   const ForwardHooks* hooks, const LinearInputObserver* observer, BlockCache<T>* cache) {
    const ModelConfig& c = model.config();
    const LayerWeights& lw = model.weights->layers[sz(layer)];
    const auto& W = model.linear[sz(layer)];
    const std::int64_t D = c.d_model, hd = c.head_dim, Hq = c.n_heads, Hkv = c.n_kv_heads;
    const std::int64_t dq = Hq * hd, dkv = Hkv * hd;
    auto w = [&](LinearKind k) { return W[static_cast<std::size_t>(k)]; };

    BlockBuffers<T>& buf = block_buffers<T>();
    std::vector<T>& scratch = buf.scratch;
    T* h = sized(buf.h, S * D);
    if (cache != nullptr) cache->x_in.assign(x, x + S * D);
    T* inv1 = sized(buf.inv1, S);
    rms_norm(x, h, S, D, lw.attn_norm.data(), c.norm_weight_plus_one, c.rms_norm_eps, inv1);

    T* q = sized(buf.q, S * dq);
    T* k = sized(buf.k, S * dkv);
    T* v = sized(buf.v, S * dkv);
    linear_forward(linear_input(LinearKind::attn_q, h, S, D, hooks, observer, layer, scratch), S, D,
                   w(LinearKind::attn_q), dq, q);
    linear_forward(linear_input(LinearKind::attn_k, h, S, D, hooks, observer, layer, scratch), S, D,
                   w(LinearKind::attn_k), dkv, k);
    linear_forward(linear_input(LinearKind::attn_v, h, S, D, hooks, observer, layer, scratch), S, D,
                   w(LinearKind::attn_v), dkv, v);
    if (c.qkv_bias) {
        add_bias(q, S, lw.bias_q);
        add_bias(k, S, lw.bias_k);
        add_bias(v, S, lw.bias_v);
    }
    if (c.qk_norm) {
        T* inv_q = nullptr;
        T* inv_k = nullptr;
        if (cache != nullptr) {
            cache->q_raw.assign(q, q + S * dq);
            cache->k_raw.assign(k, k + S * dkv);
            cache->inv_rms_q.resize(sz(S * Hq));
            cache->inv_rms_k.resize(sz(S * Hkv));
            inv_q = cache->inv_rms_q.data();
            inv_k = cache->inv_rms_k.data();
        }
        rms_norm(q, q, S * Hq, hd, lw.q_norm.data(), c.norm_weight_plus_one, c.rms_norm_eps, inv_q);
        rms_norm(k, k, S * Hkv, hd, lw.k_norm.data(), c.norm_weight_plus_one, c.rms_norm_eps, inv_k);
    }
    apply_rope(q, S, Hq, hd, rope);
    apply_rope(k, S, Hkv, hd, rope);

    T* attn = sized(buf.attn, S * dq);
    const AttentionShape shape{S, Hq, Hkv, hd, layer_window(c, layer)};
    if (cache != nullptr) cache->probs.resize(sz(Hq * S * S));
    attention_forward(shape, q, k, v, attn, cache != nullptr ? cache->probs.data() : nullptr, hooks, layer);
    const T* attn_in = linear_input(LinearKind::attn_output, attn, S, dq, hooks, observer, layer, scratch);
    if (c.post_norms) {
        add_post_normed(attn_in, S, dq, w(LinearKind::attn_output), D, lw.post_attn_norm, c, x,
                        cache != nullptr ? &cache->attn_out : nullptr,
                        cache != nullptr ? &cache->inv_rms_post_attn : nullptr);
    } else {
        linear_forward(attn_in, S, dq, w(LinearKind::attn_output), D, x, T(1));  // residual: x += attn Wo^T
    }

    T* inv2 = sized(buf.inv2, S);
    if (cache != nullptr) cache->x_mid.assign(x, x + S * D);
    rms_norm(x, h, S, D, lw.ffn_norm.data(), c.norm_weight_plus_one, c.rms_norm_eps, inv2);
    if (c.moe()) {  // router and experts (moe.hpp)
        if (c.post_norms) throw_internal("E5541", "a MoE block has no post-norms");
        moe_ffn_forward(c, layer, model.router[sz(layer)], model.experts[sz(layer)], h, S, x, hooks, observer,
                        static_cast<ExpertRouting*>(nullptr), cache != nullptr ? &cache->moe : nullptr);
    } else {
        dense_ffn_forward(model, layer, h, S, x, hooks, observer, cache);
    }

    if (cache != nullptr) {
        cache->inv_rms1.assign(inv1, inv1 + S);
        cache->inv_rms2.assign(inv2, inv2 + S);
        cache->h2.assign(h, h + S * D);
        // h1 is the attention norm output; recompute it from x_in (h now holds h2).
        cache->h1.resize(sz(S * D));
        rms_norm(cache->x_in.data(), cache->h1.data(), S, D, lw.attn_norm.data(), c.norm_weight_plus_one,
                 c.rms_norm_eps, static_cast<T*>(nullptr));
        cache->q.assign(q, q + S * dq);
        cache->k.assign(k, k + S * dkv);
        cache->v.assign(v, v + S * dkv);
        cache->attn.assign(attn, attn + S * dq);
    }
}

namespace {
// The dense FFN's backward: accumulates gate/up/down gradients and returns dLoss/dh2 [S x D].
template <class T>
std::vector<T> dense_ffn_backward(const ModelView<T>& model, int layer, const BlockCache<T>& cache, std::int64_t S,
                                  const T* d_x, std::array<std::vector<T>, 7>& grads) {
    const ModelConfig& c = model.config();
    const LayerWeights& lw = model.weights->layers[sz(layer)];
    const auto& W = model.linear[sz(layer)];
    const std::int64_t D = c.d_model, F = c.d_ff;
    auto w = [&](LinearKind k) { return W[static_cast<std::size_t>(k)]; };
    auto g = [&](LinearKind k) -> std::vector<T>& { return grads[static_cast<std::size_t>(k)]; };
    // x_out = x_mid + [PostNorm](act Wd^T), act = gate_act(gate) * up.
    const std::vector<T> d_down =
        through_post_norm(c, lw.post_ffn_norm, cache.ffn_out, cache.inv_rms_post_ffn, S, D, d_x);
    std::vector<T> d_act(sz(S * F));
    gemm(false, false, S, F, D, T(1), d_down.data(), D, w(LinearKind::ffn_down), F, T(0), d_act.data(), F);
    gemm(true, false, D, F, S, T(1), d_down.data(), D, cache.act.data(), F, T(1), g(LinearKind::ffn_down).data(), F);
    std::vector<T> d_gate(sz(S * F)), d_up(sz(S * F));
    for (std::size_t i = 0; i < d_act.size(); ++i) {
        d_gate[i] = d_act[i] * cache.up[i] * gate_act_grad(cache.gate[i], c.gelu_gate);
        d_up[i] = d_act[i] * gate_act(cache.gate[i], c.gelu_gate);
    }
    gemm(true, false, F, D, S, T(1), d_gate.data(), F, cache.h2.data(), D, T(1), g(LinearKind::ffn_gate).data(), D);
    gemm(true, false, F, D, S, T(1), d_up.data(), F, cache.h2.data(), D, T(1), g(LinearKind::ffn_up).data(), D);
    std::vector<T> d_h(sz(S * D));
    gemm(false, false, S, D, F, T(1), d_gate.data(), F, w(LinearKind::ffn_gate), D, T(0), d_h.data(), D);
    gemm(false, false, S, D, F, T(1), d_up.data(), F, w(LinearKind::ffn_up), D, T(1), d_h.data(), D);
    return d_h;
}
}  // namespace

template <class T>
void block_backward(const ModelView<T>& model, int layer, const BlockCache<T>& cache, std::int64_t S,
                    const RopeTable& rope, T* d_x, std::array<std::vector<T>, 7>& grads, MoeGradients<T>* moe_grads) {
    const ModelConfig& c = model.config();
    const LayerWeights& lw = model.weights->layers[sz(layer)];
    const auto& W = model.linear[sz(layer)];
    const std::int64_t D = c.d_model, hd = c.head_dim, Hq = c.n_heads, Hkv = c.n_kv_heads;
    const std::int64_t dq = Hq * hd, dkv = Hkv * hd;
    auto w = [&](LinearKind k) { return W[static_cast<std::size_t>(k)]; };
    auto g = [&](LinearKind k) -> std::vector<T>& { return grads[static_cast<std::size_t>(k)]; };

    // FFN (dense, or the router and experts of a MoE block), then the FFN norm.
    std::vector<T> d_h;
    if (c.moe()) {
        if (moe_grads == nullptr) throw_internal("E5544", "block_backward of a MoE block needs its expert gradients");
        d_h.resize(sz(S * D));
        moe_ffn_backward(c, model.router[sz(layer)], model.experts[sz(layer)], cache.moe, cache.h2.data(), S, d_x,
                         d_h.data(), *moe_grads);
    } else {
        d_h = dense_ffn_backward(model, layer, cache, S, d_x, grads);
    }
    rms_norm_backward(cache.x_mid.data(), cache.inv_rms2.data(), lw.ffn_norm.data(), c.norm_weight_plus_one, S, D,
                      d_h.data(), d_x);

    // Attention: x_mid = x_in + [PostNorm](attn Wo^T).
    const std::vector<T> d_o =
        through_post_norm(c, lw.post_attn_norm, cache.attn_out, cache.inv_rms_post_attn, S, D, d_x);
    std::vector<T> d_attn(sz(S * dq));
    gemm(false, false, S, dq, D, T(1), d_o.data(), D, w(LinearKind::attn_output), dq, T(0), d_attn.data(), dq);
    gemm(true, false, D, dq, S, T(1), d_o.data(), D, cache.attn.data(), dq, T(1), g(LinearKind::attn_output).data(), dq);
    std::vector<T> d_q(sz(S * dq)), d_k(sz(S * dkv)), d_v(sz(S * dkv));
    const AttentionShape shape{S, Hq, Hkv, hd, layer_window(c, layer)};
    attention_backward(shape, cache.q.data(), cache.k.data(), cache.v.data(), cache.probs.data(), d_attn.data(),
                       d_q.data(), d_k.data(), d_v.data());
    apply_rope(d_q.data(), S, Hq, hd, rope, true);
    apply_rope(d_k.data(), S, Hkv, hd, rope, true);
    if (c.qk_norm) {  // d_q, d_k are w.r.t. the normed heads: through the per-head RMSNorm
        std::vector<T> d_raw(sz(S * dq), T(0));
        rms_norm_backward(cache.q_raw.data(), cache.inv_rms_q.data(), lw.q_norm.data(), c.norm_weight_plus_one, S * Hq,
                          hd, d_q.data(), d_raw.data());
        d_q = std::move(d_raw);
        d_raw.assign(sz(S * dkv), T(0));
        rms_norm_backward(cache.k_raw.data(), cache.inv_rms_k.data(), lw.k_norm.data(), c.norm_weight_plus_one,
                          S * Hkv, hd, d_k.data(), d_raw.data());
        d_k = std::move(d_raw);
    }
    gemm(true, false, dq, D, S, T(1), d_q.data(), dq, cache.h1.data(), D, T(1), g(LinearKind::attn_q).data(), D);
    gemm(true, false, dkv, D, S, T(1), d_k.data(), dkv, cache.h1.data(), D, T(1), g(LinearKind::attn_k).data(), D);
    gemm(true, false, dkv, D, S, T(1), d_v.data(), dkv, cache.h1.data(), D, T(1), g(LinearKind::attn_v).data(), D);
    gemm(false, false, S, D, dq, T(1), d_q.data(), dq, w(LinearKind::attn_q), D, T(0), d_h.data(), D);
    gemm(false, false, S, D, dkv, T(1), d_k.data(), dkv, w(LinearKind::attn_k), D, T(1), d_h.data(), D);
    gemm(false, false, S, D, dkv, T(1), d_v.data(), dkv, w(LinearKind::attn_v), D, T(1), d_h.data(), D);
    rms_norm_backward(cache.x_in.data(), cache.inv_rms1.data(), lw.attn_norm.data(), c.norm_weight_plus_one, S, D,
                      d_h.data(), d_x);
}

template <class T>
void final_logits(const ModelView<T>& model, T* x, std::int64_t S, T* logits, T* inv_rms, const ForwardHooks* hooks) {
    const ModelConfig& c = model.config();
    rms_norm(x, x, S, c.d_model, model.weights->output_norm.data(), c.norm_weight_plus_one, c.rms_norm_eps, inv_rms);
    if constexpr (std::is_same_v<T, float>)  // hooks are float; the double pass (backward tests) has none
        if (hooks && hooks->lm_head_input) hooks->lm_head_input(x, S, static_cast<std::int64_t>(c.d_model), c.n_layers);
    linear_forward(x, S, static_cast<std::int64_t>(c.d_model), model.lm_head, static_cast<std::int64_t>(c.vocab_size),
                   logits);
    softcap(logits, S * c.vocab_size, c.final_logit_softcap);
}

#define HALO_INSTANTIATE(T)                                                                                         \
    template ModelView<T> make_view<T>(const ModelWeights&);                                                        \
    template void embed_tokens<T>(const ModelWeights&, std::span<const std::int32_t>, T*);                          \
    template void block_forward<T>(const ModelView<T>&, int, T*, std::int64_t, const RopeTable&, const ForwardHooks*, \
                                   const LinearInputObserver*, BlockCache<T>*);                                     \
    template void block_backward<T>(const ModelView<T>&, int, const BlockCache<T>&, std::int64_t, const RopeTable&,  \
                                    T*, std::array<std::vector<T>, 7>&, MoeGradients<T>*);                                            \
    template void final_logits<T>(const ModelView<T>&, T*, std::int64_t, T*, T*, const ForwardHooks*);
HALO_INSTANTIATE(float)
HALO_INSTANTIATE(double)
#undef HALO_INSTANTIATE

}  // namespace halo::model
