#include "halo/model/attention.hpp"

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

}  // namespace

template <class T>
void attention_forward(const AttentionShape& s, const T* q, const T* k, const T* v, T* out, T* probs,
                       const ForwardHooks* hooks, int layer) {
    const std::int64_t S = s.tokens, hd = s.head_dim;
    const std::int64_t ldq = s.q_heads * hd, ldkv = s.kv_heads * hd;
    const std::int64_t group = s.q_heads / s.kv_heads;
    const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(hd)));
    std::vector<T> scores(static_cast<std::size_t>(S * S));
    std::vector<T> qh, kh, vh;
    const bool hooked = hooks != nullptr && hooks->any_attention();
    for (std::int64_t h = 0; h < s.q_heads; ++h) {
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
                hook_copy(hooks->attn_q, q, ldq, h * hd, qh, qp, lq);
                hook_copy(hooks->attn_k, k, ldkv, kvh * hd, kh, kp, lk);
                hook_copy(hooks->attn_v, v, ldkv, kvh * hd, vh, vp, lv);
            }
        }
        gemm(false, true, S, S, hd, scale, qp, lq, kp, lk, T(0), scores.data(), S);
        for (std::int64_t i = 0; i < S; ++i) {
            T* row = scores.data() + i * S;
            const std::int64_t lo = first_visible(i, s.window);
            softmax_row(row + lo, i - lo + 1);
            for (std::int64_t j = 0; j < lo; ++j) row[j] = T(0);
            for (std::int64_t j = i + 1; j < S; ++j) row[j] = T(0);
        }
        if constexpr (std::is_same_v<T, float>) {
            if (hooked && hooks->attn_p) hooks->attn_p(scores.data(), S, S, layer);
        }
        if (probs != nullptr) std::copy(scores.begin(), scores.end(), probs + h * S * S);
        gemm(false, false, S, hd, S, T(1), scores.data(), S, vp, lv, T(0), out + h * hd, ldq);
    }
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
