// The mixture-of-experts MLP of a block (Mixtral; ModelConfig::n_experts > 0):
//   p = softmax(h Wr^T) over the n_experts router logits of each token,
//   the n_experts_used largest p are kept (ties: the lower expert index), renormalised to sum 1
//   when moe_norm_topk (Mixtral; HF `routing_weights /= routing_weights.sum(...)`, llama.cpp
//   build_moe_ffn's norm_w),
//   y = sum over the kept experts e of p_e * down_e(silu(gate_e h) * up_e h).
// Each expert multiplies only the rows of the tokens routed to it (gathered, then scattered back
// weighted), so the work is top-k of E experts per token, not E.
//
// Backward (moe_ffn_backward, for the Fisher sensitivity): the top-k choice is held fixed (it is
// piecewise constant in the weights), and the gradient flows through the kept weights into the
// router's logits. With g_j = dL/dw_j = dy . o_j for the kept experts j in K (o_j: expert j's
// output) and P = sum_K p_j:
//   renormalised  w_j = p_j / P:  dL/dp_j = (g_j - sum_K w_i g_i) / P   (j in K, else 0)
//   raw           w_j = p_j:      dL/dp_j = g_j                         (j in K, else 0)
//   softmax:      dL/dz_i = p_i (dL/dp_i - sum_j p_j dL/dp_j)           (all i, so unchosen experts too)
// then dWr += dz^T h, dh += dz Wr, and each expert's gate/up/down as a dense SwiGLU on its rows
// with dL/do = w_j dy.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "halo/model/forward.hpp"
#include "halo/model/weights.hpp"

namespace halo::model {

// The router's choice for S tokens: for token t, slot j (< k): expert[t*k + j] with weight[t*k + j].
struct ExpertRouting {
    int experts_used = 0;
    std::vector<std::int32_t> expert;
    std::vector<double> weight;
};

// Routes S tokens from their router logits [S x n_experts] (softmax, top-k, renormalise).
template <class T>
ExpertRouting route_tokens(const T* logits, std::int64_t tokens, int n_experts, int experts_used, bool norm_topk);

// What moe_ffn_backward needs from the forward pass: the router logits and, per expert, its
// routed rows (token index and routing slot t*k + j), their gate/up pre-activations, the
// SwiGLU output (down's input) and down's output (before the routing weight).
template <class T>
struct MoeCache {
    std::vector<T> logits;  // [S x E]
    ExpertRouting routing;
    struct Expert {
        std::vector<std::int64_t> rows, slots;
        std::vector<T> gate, up, act, out;  // [n x F], [n x F], [n x F], [n x D]
    };
    std::vector<Expert> experts;  // [E]
};

// Gradients of one MoE block's parameters: each expert's gate/up/down (ExpertWeights::slot
// order, each the weight's shape) and the router [E x D].
template <class T>
struct MoeGradients {
    std::vector<std::array<std::vector<T>, 3>> experts;
    std::vector<T> router;
};

// Tokens routed to each expert (how many of the S x k slots name it).
std::vector<std::int64_t> tokens_per_expert(const ExpertRouting& routing, int n_experts);

// Adds the MoE MLP's output for h [S x D] (the FFN norm's output) to the residual x [S x D].
// `router` [E x D] and `experts[e][0..2]` (gate, up, down) are T arrays of block `layer`.
// Hooks: linear_input[ffn_gate/up/down] rewrite each expert's gathered input (float only);
// the observer sees it with the expert's index. `routing_out` (optional) receives the routing,
// `cache` (optional) what the backward pass needs.
template <class T>
void moe_ffn_forward(const ModelConfig& c, int layer, const T* router, const std::vector<std::array<const T*, 3>>& experts,
                     const T* h, std::int64_t tokens, T* x, const ForwardHooks* hooks,
                     const LinearInputObserver* observer, ExpertRouting* routing_out = nullptr, MoeCache<T>* cache = nullptr);

// Backward of moe_ffn_forward: given d_y = dLoss/d(MoE output) [S x D] and the cache of the
// forward on h [S x D], accumulates into `grads` (sized here when empty) and sets
// d_h [S x D] = dLoss/dh (router and experts together).
template <class T>
void moe_ffn_backward(const ModelConfig& c, const T* router, const std::vector<std::array<const T*, 3>>& experts,
                      const MoeCache<T>& cache, const T* h, std::int64_t tokens, const T* d_y, T* d_h,
                      MoeGradients<T>& grads);

}  // namespace halo::model
