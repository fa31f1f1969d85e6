// The transformer forward pass of a Llama-family decoder over a whole sequence at once
// (prefill): logits for every position. FP32 over BLAS (cblas_sgemm), causal grouped-query
// attention, RoPE, RMSNorm, SwiGLU (or Gemma's GeGLU and options from ModelConfig).
//
// Weights are pluggable (a quantized model is ModelWeights with decoded linear weights), and
// activations can be quantized through hooks: one per linear kind (called on the linear's
// input just before the matmul) and four for the attention matmuls' inputs.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>

#include "halo/model/weights.hpp"

namespace halo::model {

// Quantizes (or otherwise rewrites) an activation matrix in place: `rows` x `cols` row-major,
// one row per token for linear inputs. `layer` is the block index. Hooks are called from
// several threads at once for different heads, so they must not share mutable state.
using ActivationHook = std::function<void(float* data, std::int64_t rows, std::int64_t cols, int layer)>;

struct ForwardHooks {
    // Indexed by LinearKind: the input of that linear, [tokens x in_features]. Q, K and V share
    // one input; each hook sees its own copy, so formats may differ per kind.
    std::array<ActivationHook, 7> linear_input;
    // Attention matmuls, per query head (K and V: per query head's copy of its KV head):
    // attn_q: Q after RoPE [tokens x head_dim]; attn_k: K after RoPE [tokens x head_dim]
    // (QK^T contracts over head_dim); attn_p: softmax probabilities [tokens x tokens], row = query,
    // zeros where masked; attn_v: V [tokens x head_dim] (PV contracts over tokens).
    ActivationHook attn_q, attn_k, attn_p, attn_v;
    // The LM head's input (the final RMSNorm's output), [tokens x d_model], called once per
    // forward pass with layer = n_layers: a quantized head (HALO --quantize-head) gets INT8
    // activations like every other linear, and calibration observes the head's input here.
    ActivationHook lm_head_input;

    bool any_attention() const { return attn_q || attn_k || attn_p || attn_v; }
};

// Observes the exact input of a linear (after its hook) before the matmul: calibration.
// `expert` is -1 for the block's own linears and the expert's index for a MoE expert's
// gate/up/down (whose rows are then only the tokens routed to that expert).
using LinearInputObserver =
    std::function<void(LinearKind kind, int expert, const float* x, std::int64_t rows, std::int64_t cols)>;

struct ForwardOptions {
    unsigned threads = 0;                // BLAS threads (0 = all cores)
    const ForwardHooks* hooks = nullptr;  // none = plain FP32
    // Compute logits only for rows >= this (earlier rows are left 0): perplexity scores only
    // the tail of a window, and the LM head is ~20% of a small model's FLOPs.
    std::int64_t logits_from_row = 0;
};

// Checks that the weights match their config (shapes of every tensor); throws E5502 naming the
// tensor. forward_logits calls it; loaders and quantizers may call it too.
void validate_weights(const ModelWeights& weights);

// Logits [tokens x vocab] for every position of `tokens` (positions 0..n-1). Throws E5503 for
// a token id outside the vocabulary and E5504 for an empty sequence.
Matrix forward_logits(const ModelWeights& weights, std::span<const std::int32_t> tokens,
                      const ForwardOptions& options = {});

// Mean next-token cross-entropy (nats) of `tokens` under the model: predictions at positions
// 0..n-2 of tokens 1..n-1.
double mean_next_token_nll(const ModelWeights& weights, std::span<const std::int32_t> tokens,
                           const ForwardOptions& options = {});

}  // namespace halo::model
