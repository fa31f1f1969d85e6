// The backward pass of the mixture-of-experts MLP (formulas in moe.hpp): each expert as a dense
// SwiGLU on its routed rows, then the routing weights through the top-k renormalisation and the
// softmax into the router's logits. The top-k choice is the forward pass's (held fixed).
#include <algorithm>
#include <cmath>

#include "halo/model/blas.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/model/moe.hpp"

namespace halo::model {

namespace {
std::size_t sz(std::int64_t n) { return static_cast<std::size_t>(n); }

// One expert on its n routed rows: with d_out = w * d_y (per row), accumulates the expert's
// gate/up/down gradients, adds its input gradient into d_h's rows and returns
// dL/dw = d_y . out for each row (the routing weight's gradient, per slot).
template <class T>
std::vector<double> expert_backward(const ModelConfig& c, const std::array<const T*, 3>& w, const typename MoeCache<T>::Expert& ce,
                                    const std::vector<double>& route_weight, const T* h, const T* d_y, T* d_h,
                                    std::array<std::vector<T>, 3>& g) {
    const std::int64_t D = c.d_model, F = c.d_ff;
    const auto n = static_cast<std::int64_t>(ce.rows.size());
    std::vector<T> h_e(sz(n * D)), d_out(sz(n * D));
    std::vector<double> d_weight(sz(n));
    for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t t = ce.rows[sz(i)];
        const T wt = static_cast<T>(route_weight[sz(ce.slots[sz(i)])]);
        double dot = 0;
        for (std::int64_t d = 0; d < D; ++d) {
            h_e[sz(i * D + d)] = h[t * D + d];
            d_out[sz(i * D + d)] = wt * d_y[t * D + d];
            dot += static_cast<double>(d_y[t * D + d]) * static_cast<double>(ce.out[sz(i * D + d)]);
        }
        d_weight[sz(i)] = dot;
    }
    // out = act Wd^T: d_act = d_out Wd, dWd += d_out^T act.
    std::vector<T> d_act(sz(n * F));
    gemm(false, false, n, F, D, T(1), d_out.data(), D, w[2], F, T(0), d_act.data(), F);
    gemm(true, false, D, F, n, T(1), d_out.data(), D, ce.act.data(), F, T(1), g[2].data(), F);
    std::vector<T> d_gate(sz(n * F)), d_up(sz(n * F));
    for (std::size_t i = 0; i < d_act.size(); ++i) {
        d_gate[i] = d_act[i] * ce.up[i] * gate_act_grad(ce.gate[i], c.gelu_gate);
        d_up[i] = d_act[i] * gate_act(ce.gate[i], c.gelu_gate);
    }
    gemm(true, false, F, D, n, T(1), d_gate.data(), F, h_e.data(), D, T(1), g[0].data(), D);
    gemm(true, false, F, D, n, T(1), d_up.data(), F, h_e.data(), D, T(1), g[1].data(), D);
    std::vector<T> d_he(sz(n * D));
    gemm(false, false, n, D, F, T(1), d_gate.data(), F, w[0], D, T(0), d_he.data(), D);
    gemm(false, false, n, D, F, T(1), d_up.data(), F, w[1], D, T(1), d_he.data(), D);
    for (std::int64_t i = 0; i < n; ++i) {
        T* dst = d_h + ce.rows[sz(i)] * D;
        for (std::int64_t d = 0; d < D; ++d) dst[d] += d_he[sz(i * D + d)];
    }
    return d_weight;
}

// dL/dz of one token's router logits from dL/dw of its k kept slots (moe.hpp's formulas).
void logit_gradient(const double* logits, int E, const std::int32_t* kept, const double* w, const double* g_w, int k,
                    bool norm_topk, double* d_z) {
    const double mx = *std::max_element(logits, logits + E);
    std::vector<double> p(sz(E));
    double sum = 0;
    for (int e = 0; e < E; ++e) sum += p[sz(e)] = std::exp(logits[e] - mx);
    for (auto& v : p) v /= sum;
    std::vector<double> d_p(sz(E), 0.0);
    double kept_p = 0, mean_g = 0;
    for (int j = 0; j < k; ++j) {
        kept_p += p[sz(kept[j])];
        mean_g += w[j] * g_w[j];
    }
    for (int j = 0; j < k; ++j) d_p[sz(kept[j])] = norm_topk ? (g_w[j] - mean_g) / kept_p : g_w[j];
    double dot = 0;
    for (int e = 0; e < E; ++e) dot += p[sz(e)] * d_p[sz(e)];
    for (int e = 0; e < E; ++e) d_z[e] = p[sz(e)] * (d_p[sz(e)] - dot);
}
}  // namespace

template <class T>
void moe_ffn_backward(const ModelConfig& c, const T* router, const std::vector<std::array<const T*, 3>>& experts,
                      const MoeCache<T>& cache, const T* h, std::int64_t S, const T* d_y, T* d_h, MoeGradients<T>& grads) {
    const std::int64_t D = c.d_model, F = c.d_ff;
    const int E = c.n_experts, k = c.n_experts_used;
    if (grads.experts.empty()) {
        grads.experts.resize(sz(E));
        for (auto& g : grads.experts) {
            g[0].assign(sz(F * D), T(0));
            g[1].assign(sz(F * D), T(0));
            g[2].assign(sz(D * F), T(0));
        }
        grads.router.assign(sz(E * D), T(0));
    }
    std::fill(d_h, d_h + S * D, T(0));
    const ExpertRouting& r = cache.routing;
    std::vector<double> d_weight(sz(S * k), 0.0);  // dL/dw per routing slot
    for (int e = 0; e < E; ++e) {
        const auto& ce = cache.experts[sz(e)];
        if (ce.rows.empty()) continue;
        const std::vector<double> dw = expert_backward(c, experts[sz(e)], ce, r.weight, h, d_y, d_h, grads.experts[sz(e)]);
        for (std::size_t i = 0; i < dw.size(); ++i) d_weight[sz(ce.slots[i])] = dw[i];
    }
    // Router: z = h Wr^T, so dWr += dz^T h and dh += dz Wr.
    std::vector<T> d_z(sz(S * E));
    std::vector<double> logits(sz(E)), d_zt(sz(E));
    for (std::int64_t t = 0; t < S; ++t) {
        for (int e = 0; e < E; ++e) logits[sz(e)] = static_cast<double>(cache.logits[sz(t * E + e)]);
        logit_gradient(logits.data(), E, r.expert.data() + t * k, r.weight.data() + t * k, d_weight.data() + t * k, k,
                       c.moe_norm_topk, d_zt.data());
        for (int e = 0; e < E; ++e) d_z[sz(t * E + e)] = static_cast<T>(d_zt[sz(e)]);
    }
    gemm(true, false, E, D, S, T(1), d_z.data(), E, h, D, T(1), grads.router.data(), D);
    gemm(false, false, S, D, E, T(1), d_z.data(), E, router, D, T(1), d_h, D);
}

#define HALO_INSTANTIATE(T)                                                                                      \
    template void moe_ffn_backward<T>(const ModelConfig&, const T*, const std::vector<std::array<const T*, 3>>&, \
                                      const MoeCache<T>&, const T*, std::int64_t, const T*, T*, MoeGradients<T>&);
HALO_INSTANTIATE(float)
HALO_INSTANTIATE(double)
#undef HALO_INSTANTIATE

}  // namespace halo::model
