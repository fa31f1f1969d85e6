#include "halo/model/moe.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <type_traits>

#include "halo/model/blas.hpp"
#include "halo/model/forward_ops.hpp"

namespace halo::model {

namespace {
std::size_t sz(std::int64_t n) { return static_cast<std::size_t>(n); }

// The input an expert's linear sees: the gathered rows, or a hooked copy (float only), shown to
// the observer with the expert's index.
template <class T>
const T* expert_input(LinearKind kind, int expert, const T* in, std::int64_t rows, std::int64_t cols,
                      const ForwardHooks* hooks, const LinearInputObserver* observer, int layer, std::vector<T>& scratch) {
    if constexpr (std::is_same_v<T, float>) {
        const auto& hook = hooks != nullptr ? hooks->linear_input[static_cast<std::size_t>(kind)] : ActivationHook{};
        if (hook) {
            scratch.assign(in, in + rows * cols);
            hook(scratch.data(), rows, cols, layer);
            in = scratch.data();
        }
        if (observer != nullptr && *observer) (*observer)(kind, expert, in, rows, cols);
    }
    return in;
}
}  // namespace

template <class T>
ExpertRouting route_tokens(const T* logits, std::int64_t S, int E, int k, bool norm_topk) {
    ExpertRouting r;
    r.experts_used = k;
    r.expert.resize(sz(S * k));
    r.weight.resize(sz(S * k));
    std::vector<double> p(sz(E));
    std::vector<std::int32_t> order(sz(E));
    for (std::int64_t t = 0; t < S; ++t) {
        const T* l = logits + t * E;
        const double mx = static_cast<double>(*std::max_element(l, l + E));
        double sum = 0;
        for (int e = 0; e < E; ++e) sum += p[sz(e)] = std::exp(static_cast<double>(l[e]) - mx);
        for (auto& v : p) v /= sum;
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::int32_t a, std::int32_t b) { return p[sz(a)] > p[sz(b)]; });
        double kept = 0;
        for (int j = 0; j < k; ++j) kept += p[sz(order[sz(j)])];
        for (int j = 0; j < k; ++j) {
            r.expert[sz(t * k + j)] = order[sz(j)];
            r.weight[sz(t * k + j)] = p[sz(order[sz(j)])] / (norm_topk ? kept : 1.0);
        }
    }
    return r;
}

std::vector<std::int64_t> tokens_per_expert(const ExpertRouting& r, int n_experts) {
    std::vector<std::int64_t> n(sz(n_experts), 0);
    for (auto e : r.expert) ++n[sz(e)];
    return n;
}

template <class T>
void moe_ffn_forward(const ModelConfig& c, int layer, const T* router, const std::vector<std::array<const T*, 3>>& experts,
                     const T* h, std::int64_t S, T* x, const ForwardHooks* hooks, const LinearInputObserver* observer,
                     ExpertRouting* routing_out, MoeCache<T>* cache) {
    const std::int64_t D = c.d_model, F = c.d_ff;
    const int E = c.n_experts, k = c.n_experts_used;
    std::vector<T> logits(sz(S * E));
    linear_forward(h, S, D, router, E, logits.data());
    ExpertRouting routing = route_tokens(logits.data(), S, E, k, c.moe_norm_topk);

    // Rows routed to each expert, in token order, with their routing slots (t*k + j).
    std::vector<std::vector<std::int64_t>> rows(sz(E)), slots(sz(E));
    for (std::int64_t t = 0; t < S; ++t)
        for (int j = 0; j < k; ++j) {
            const auto e = sz(routing.expert[sz(t * k + j)]);
            rows[e].push_back(t);
            slots[e].push_back(t * k + j);
        }
    if (cache != nullptr) {
        cache->logits = logits;
        cache->experts.assign(sz(E), {});
    }
    std::vector<T> in, gate, up, act, out, scratch;
    for (int e = 0; e < E; ++e) {
        const auto n = static_cast<std::int64_t>(rows[sz(e)].size());
        if (n == 0) continue;
        in.resize(sz(n * D));
        for (std::int64_t i = 0; i < n; ++i) std::copy_n(h + rows[sz(e)][sz(i)] * D, D, in.data() + i * D);
        gate.resize(sz(n * F));
        up.resize(sz(n * F));
        act.resize(sz(n * F));
        out.resize(sz(n * D));
        const auto& w = experts[sz(e)];
        linear_forward(expert_input(LinearKind::ffn_gate, e, in.data(), n, D, hooks, observer, layer, scratch), n, D, w[0], F,
                       gate.data());
        linear_forward(expert_input(LinearKind::ffn_up, e, in.data(), n, D, hooks, observer, layer, scratch), n, D, w[1], F,
                       up.data());
        gated_activation(gate.data(), up.data(), act.data(), n * F, c.gelu_gate);
        linear_forward(expert_input(LinearKind::ffn_down, e, act.data(), n, F, hooks, observer, layer, scratch), n, F, w[2], D,
                       out.data());
        if (cache != nullptr) {
            auto& ce = cache->experts[sz(e)];
            ce.rows = rows[sz(e)];
            ce.slots = slots[sz(e)];
            ce.gate = gate;
            ce.up = up;
            ce.act = act;
            ce.out = out;
        }
        for (std::int64_t i = 0; i < n; ++i) {
            const T wt = static_cast<T>(routing.weight[sz(slots[sz(e)][sz(i)])]);
            T* xr = x + rows[sz(e)][sz(i)] * D;
            const T* o = out.data() + i * D;
            for (std::int64_t d = 0; d < D; ++d) xr[d] += wt * o[d];
        }
    }
    if (cache != nullptr) cache->routing = routing;
    if (routing_out != nullptr) *routing_out = std::move(routing);
}

#define HALO_INSTANTIATE(T)                                                                                             \
    template ExpertRouting route_tokens<T>(const T*, std::int64_t, int, int, bool);                                    \
    template void moe_ffn_forward<T>(const ModelConfig&, int, const T*, const std::vector<std::array<const T*, 3>>&, \
                                     const T*, std::int64_t, T*, const ForwardHooks*, const LinearInputObserver*,      \
                                     ExpertRouting*, MoeCache<T>*);
HALO_INSTANTIATE(float)
HALO_INSTANTIATE(double)
#undef HALO_INSTANTIATE

}  // namespace halo::model
