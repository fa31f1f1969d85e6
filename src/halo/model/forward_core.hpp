// The block-level pieces shared by the forward pass, the backward pass and calibration,
// templated on the compute type T (float for the model; double for the gradient checks, where
// weights are converted once). Explicitly instantiated for float and double in
// forward_core.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "halo/model/forward.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/model/moe.hpp"
#include "halo/model/weights.hpp"

namespace halo::model {

// The linear weights (and LM head) as T arrays: pointers into ModelWeights for float, a copy
// for double.
template <class T>
struct ModelView {
    const ModelWeights* weights = nullptr;
    std::vector<std::array<const T*, 7>> linear;  // [layer][LinearKind], each [out x in]
    std::vector<const T*> router;                 // [layer] -> [n_experts x d_model] (MoE), else null
    std::vector<std::vector<std::array<const T*, 3>>> experts;  // [layer][expert] -> gate, up, down
    const T* lm_head = nullptr;                   // [vocab x d_model]
    std::vector<std::vector<T>> storage;          // owns the copies when T is not float

    const ModelConfig& config() const { return weights->config; }
};

template <class T>
ModelView<T> make_view(const ModelWeights& weights);

// What the backward pass needs from one block's forward pass (all row-major, S = tokens).
template <class T>
struct BlockCache {
    std::vector<T> x_in;      // [S x D] block input
    std::vector<T> inv_rms1;  // [S]
    std::vector<T> h1;        // [S x D] input of Q, K, V
    std::vector<T> q, k, v;   // after RoPE: [S x Hq*hd], [S x Hkv*hd], [S x Hkv*hd]
    std::vector<T> probs;     // [Hq x S x S]
    std::vector<T> attn;      // [S x Hq*hd] input of attn_output
    std::vector<T> x_mid;     // [S x D] after the attention residual
    std::vector<T> inv_rms2;  // [S]
    std::vector<T> h2;        // [S x D] input of gate and up
    std::vector<T> gate, up;  // [S x F] pre-activation (dense FFN)
    std::vector<T> act;       // [S x F] input of ffn_down (dense FFN)
    MoeCache<T> moe;          // a MoE block's router and experts instead (moe.hpp)
    // Gemma 3 parts (empty otherwise): Q/K before their per-head norm, with 1/rms per head row;
    // attention and MLP outputs before their post-norms, with 1/rms per token.
    std::vector<T> q_raw, k_raw, inv_rms_q, inv_rms_k;
    std::vector<T> attn_out, ffn_out, inv_rms_post_attn, inv_rms_post_ffn;
};

// x[S x D] = token embeddings (times sqrt(D) when scale_embeddings).
template <class T>
void embed_tokens(const ModelWeights& weights, std::span<const std::int32_t> tokens, T* x);

// Runs block `layer` on the residual stream x [S x D] in place. Hooks apply only for float.
template <class T>
void block_forward(const ModelView<T>& model, int layer, T* x, std::int64_t tokens, const RopeTable& rope,
                   const ForwardHooks* hooks, const LinearInputObserver* observer, BlockCache<T>* cache);

// block_forward keeps its activation buffers per thread between blocks (reused, not
// reallocated); this frees the calling thread's. Call it when a sequence's blocks are done.
void release_block_buffers();

// Gradient of the block: given d_x = dLoss/d(block output), accumulates dLoss/dW into
// grads[kind] (each [out x in]; a MoE block's FFN kinds stay empty) and, for a MoE block, into
// moe_grads (its experts and router; required then), and replaces d_x by dLoss/d(block input).
template <class T>
void block_backward(const ModelView<T>& model, int layer, const BlockCache<T>& cache, std::int64_t tokens,
                    const RopeTable& rope, T* d_x, std::array<std::vector<T>, 7>& grads, MoeGradients<T>* moe_grads);

// Final RMSNorm (in place on x) and logits [S x vocab]; inv_rms (optional) for backward.
// `hooks->lm_head_input` (float only; optional) rewrites the normed rows before the head GEMM.
template <class T>
void final_logits(const ModelView<T>& model, T* x, std::int64_t tokens, T* logits, T* inv_rms,
                  const ForwardHooks* hooks = nullptr);

}  // namespace halo::model
