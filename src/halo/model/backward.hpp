// The backward pass: gradients of the mean next-token cross-entropy of one sequence with
// respect to every block's seven linear weights, by manual backprop through the final norm,
// each block's SwiGLU/GeGLU FFN, RMSNorms, attention (softmax, causal/sliding mask, GQA) and
// RoPE. The LM head's GEMM gets its gradient too (dlogits^T x_normed: the head as a linear,
// for quantizing it; a tied model's embedding lookup is not included). The embeddings and norms
// get no gradient (quantizers do not need them).
// Also through Gemma 3's QK-norm and post-norms and through logit soft-capping, and through a
// mixture-of-experts block's routed experts and router (moe.hpp: the top-k choice held fixed).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "halo/model/calibration.hpp"
#include "halo/model/moe.hpp"
#include "halo/model/weights.hpp"

namespace halo::model {

template <class T>
struct LossGradients {
    double loss = 0;  // mean next-token cross-entropy, nats
    // [layer][LinearKind], row-major with the weight's shape [out x in] (a MoE block's FFN
    // kinds are empty: its experts hold the FFN).
    std::vector<std::array<std::vector<T>, 7>> grads;
    // [layer]: a MoE block's experts (gate, up, down) and router; empty for a dense block.
    std::vector<MoeGradients<T>> moe;
    // [vocab x d_model], row-major: the LM head GEMM's weight (logits = x_normed W^T).
    std::vector<T> head;
};

// T = float runs on the weights as they are; T = double converts them first (gradient checks).
// HeadGradient::skip leaves `head` empty and skips its GEMM (V x D x S multiply-adds per
// sequence: the size of the head's backward GEMM into the hidden states); every other value is
// the same, bit for bit (the head's weight gradient feeds nothing else).
template <class T>
LossGradients<T> loss_and_gradients(const ModelWeights& weights, std::span<const std::int32_t> tokens,
                                    unsigned threads = 0, HeadGradient head = HeadGradient::compute);

// The same for T = float, as Matrix per linear (the experts' in FisherDiagonal's layout).
FisherDiagonal linear_gradients(const ModelWeights& weights, std::span<const std::int32_t> tokens, unsigned threads = 0,
                                double* loss = nullptr);

}  // namespace halo::model
