#include "halo/model/attention.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>

#include "halo/model/blas.hpp"
#include "halo/model/forward_ops.hpp"

namespace halo::model {

namespace {

std::int64_t first_visible(std::int64_t query, std::int64_t window) {
    return window > 0 && query - window + 1 > 0 ? query - window + 1 : 0;
}

// Copies head `h` ([S x hd] at column h*hd of a [S x heads*hd] matrix) into dst.
template <class T>
void gather_head(const T* src, std::int64_t tokens, std::int64_t ld, std::int64_t col, std::int64_t hd, T* dst) {
    for (std::int64_t r = 0; r < tokens; ++r)
        for (std::int64_t i = 0; i < hd; ++i) dst[r * hd + i] = src[r * ld + col + i];
}

// Per-worker buffers of attention_forward, kept by the calling thread across layers (fresh
// ones per layer were ~15k page faults per 512-token window); freed by release_attention_scratch.
template <class T>
struct AttentionScratch {
    std::vector<T> scores, qh, kh, vh;
};

template <class T>
std::vector<AttentionScratch<T>>& attention_scratch() {
    thread_local std::vector<AttentionScratch<T>> scratch;
    return scratch;
}

}  // namespace

void release_attention_scratch() {
    attention_scratch<float>() = {};
    attention_scratch<double>() = {};
}

// Query rows are processed in blocks of this many: each block multiplies only against the
// keys it can see (causal), which skips about half of QK^T and PV at S = 512.
constexpr std::int64_t kQueryBlock = 64;

template <class T>
void attention_forward(const AttentionShape& s, const T* q, const T* k, const T* v, T* out, T* probs,
                       const ForwardHooks* hooks, int layer) {
    const std::int64_t S = s.tokens, hd = s.head_dim;
    const std::int64_t ldq = s.q_heads * hd, ldkv = s.kv_heads * hd;
    const std::int64_t group = s.q_heads / s.kv_heads;
    const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(hd)));
    const bool hooked = hooks != nullptr && hooks->any_attention();
    // attn_p and the backward pass's probs see the full [S x S] matrix, zeros where masked.
    bool full_matrix = probs != nullptr;
    if constexpr (std::is_same_v<T, float>) full_matrix = full_matrix || (hooked && hooks->attn_p);
    std::vector<AttentionScratch<T>>& scratch = attention_scratch<T>();
    if (scratch.size() < model_parallel_workers()) scratch.resize(model_parallel_workers());
    // Heads are independent: one per work item; gemm() inside runs on the worker's thread.
    model_parallel_for(static_cast<std::size_t>(s.q_heads), [&](std::size_t head, unsigned worker) {
        const auto h = static_cast<std::int64_t>(head);
        AttentionScratch<T>& sc = scratch[worker];
        sc.scores.resize(static_cast<std::size_t>(S * S));
        T* scores = sc.scores.data();
        const std::int64_t kvh = h / group;
        const T* qp = q + h * hd;
        const T* kp = k + kvh * hd;
        const T* vp = v + kvh * hd;
        std::int64_t lq = ldq, lk = ldkv, lv = ldkv;
        if constexpr (std::is_same_v<T, float>) {
            if (hooked) {
                // Each hook gets this head's own copy, in the layout its matmul contracts.
                auto hook_copy = [&](const ActivationHook& hook, const T* src, std::int64_t ld, std::int64_t col,
                                     std::vector<T>& buf, const T*& ptr, std::int64_t& lptr) {
                    if (!hook) return;
                    buf.resize(static_cast<std::size_t>(S * hd));
                    gather_head(src, S, ld, col, hd, buf.data());
                    hook(buf.data(), S, hd, layer);
                    ptr = buf.data();
                    lptr = hd;
                };
                hook_copy(hooks->attn_q, q, ldq, h * hd, sc.qh, qp, lq);
                hook_copy(hooks->attn_k, k, ldkv, kvh * hd, sc.kh, kp, lk);
                hook_copy(hooks->attn_v, v, ldkv, kvh * hd, sc.vh, vp, lv);
            }
        }
        if (full_matrix) std::fill(sc.scores.begin(), sc.scores.end(), T(0));
        // Scores and softmax, block of query rows by block: keys [key_lo, row_hi) only.
        for (std::int64_t r0 = 0; r0 < S; r0 += kQueryBlock) {
            const std::int64_t r1 = std::min(S, r0 + kQueryBlock);
            const std::int64_t key_lo = first_visible(r0, s.window);
            T* block = scores + r0 * S + key_lo;
            gemm(false, true, r1 - r0, r1 - key_lo, hd, scale, qp + r0 * lq, lq, kp + key_lo * lk, lk, T(0), block, S);
            for (std::int64_t i = r0; i < r1; ++i) {
                T* row = scores + i * S;
                const std::int64_t lo = first_visible(i, s.window);
                softmax_row(row + lo, i - lo + 1);
                for (std::int64_t j = key_lo; j < lo; ++j) row[j] = T(0);
                for (std::int64_t j = i + 1; j < r1; ++j) row[j] = T(0);
            }
        }
        if constexpr (std::is_same_v<T, float>) {
            if (hooked && hooks->attn_p) hooks->attn_p(scores, S, S, layer);
        }
        if (probs != nullptr) std::copy(sc.scores.begin(), sc.scores.end(), probs + h * S * S);
        // out = P V over the same visible blocks (entries outside them are zero).
        for (std::int64_t r0 = 0; r0 < S; r0 += kQueryBlock) {
            const std::int64_t r1 = std::min(S, r0 + kQueryBlock);
            const std::int64_t key_lo = first_visible(r0, s.window);
            gemm(false, false, r1 - r0, hd, r1 - key_lo, T(1), scores + r0 * S + key_lo, S, vp + key_lo * lv, lv, T(0),
                 out + r0 * ldq + h * hd, ldq);
        }
    });
}

template <class T>
void attention_backward(const AttentionShape& s, const T* q, const T* k, const T* v, const T* probs,
                        const T* d_out, T* d_q, T* d_k, T* d_v) {
    const std::int64_t S = s.tokens, hd = s.head_dim;
    const std::int64_t ldq = s.q_heads * hd, ldkv = s.kv_heads * hd;
    const std::int64_t group = s.q_heads / s.kv_heads;
    const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(hd)));
    std::fill(d_k, d_k + S * ldkv, T(0));
    std::fill(d_v, d_v + S * ldkv, T(0));
    std::vector<T> d_p(static_cast<std::size_t>(S * S));
    for (std::int64_t h = 0; h < s.q_heads; ++h) {
        const std::int64_t kvh = h / group;
        const T* p = probs + h * S * S;
        // out = P V: dP = dO V^T, dV += P^T dO.
        gemm(false, true, S, S, hd, T(1), d_out + h * hd, ldq, v + kvh * hd, ldkv, T(0), d_p.data(), S);
        gemm(true, false, S, hd, S, T(1), p, S, d_out + h * hd, ldq, T(1), d_v + kvh * hd, ldkv);
        // Softmax: dScore = P * (dP - sum_j P dP); masked entries have P = 0 and stay 0.
        for (std::int64_t i = 0; i < S; ++i) {
            const T* pr = p + i * S;
            T* dr = d_p.data() + i * S;
            T dot = 0;
            for (std::int64_t j = 0; j <= i; ++j) dot += pr[j] * dr[j];
            for (std::int64_t j = 0; j < S; ++j) dr[j] = pr[j] * (dr[j] - dot);
        }
        // score = scale Q K^T: dQ = scale dS K, dK += scale dS^T Q.
        gemm(false, false, S, hd, S, scale, d_p.data(), S, k + kvh * hd, ldkv, T(0), d_q + h * hd, ldq);
        gemm(true, false, S, hd, S, scale, d_p.data(), S, q + h * hd, ldq, T(1), d_k + kvh * hd, ldkv);
    }
}

template void attention_forward<float>(const AttentionShape&, const float*, const float*, const float*, float*, float*,
                                       const ForwardHooks*, int);
template void attention_forward<double>(const AttentionShape&, const double*, const double*, const double*, double*,
                                        double*, const ForwardHooks*, int);
template void attention_backward<float>(const AttentionShape&, const float*, const float*, const float*, const float*,
                                        const float*, float*, float*, float*);
template void attention_backward<double>(const AttentionShape&, const double*, const double*, const double*,
                                         const double*, const double*, double*, double*, double*);

}  // namespace halo::model
