// The mixture-of-experts MLP of a block (Mixtral; ModelConfig::n_experts > 0):
//   p = softmax(h Wr^T) over the n_experts router logits of each token,
//   the n_experts_used largest p are kept (ties: the lower expert index), renormalised to sum 1
//   when moe_norm_topk (Mixtral; HF `routing_weights /= routing_weights.sum(...)`, llama.cpp
//   build_moe_ffn's norm_w),
//   y = sum over the kept experts e of p_e * down_e(silu(gate_e h) * up_e h).
// Each expert multiplies only the rows of the tokens routed to it (gathered, then scattered back
// weighted), so the work is top-k of E experts per token, not E.
#pragma once

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

// Tokens routed to each expert (how many of the S x k slots name it).
std::vector<std::int64_t> tokens_per_expert(const ExpertRouting& routing, int n_experts);

// Adds the MoE MLP's output for h [S x D] (the FFN norm's output) to the residual x [S x D].
// `router` [E x D] and `experts[e][0..2]` (gate, up, down) are T arrays of block `layer`.
// Hooks: linear_input[ffn_gate/up/down] rewrite each expert's gathered input (float only);
// the observer sees it with the expert's index. `routing_out` (optional) receives the routing.
template <class T>
void moe_ffn_forward(const ModelConfig& c, int layer, const T* router, const std::vector<std::array<const T*, 3>>& experts,
                     const T* h, std::int64_t tokens, T* x, const ForwardHooks* hooks,
                     const LinearInputObserver* observer, ExpertRouting* routing_out = nullptr);

}  // namespace halo::model
