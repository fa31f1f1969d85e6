// Causal grouped-query attention over a whole sequence, per head over BLAS, with an optional
// sliding window and hooks on the inputs of QK^T and PV; and its backward pass.
#pragma once

#include <cstdint>

#include "halo/model/forward.hpp"

namespace halo::model {

struct AttentionShape {
    std::int64_t tokens = 0;
    std::int64_t q_heads = 0;
    std::int64_t kv_heads = 0;
    std::int64_t head_dim = 0;
    std::int64_t window = 0;  // attend to the last `window` positions (self included); 0 = all
};

// q [S x Hq*hd], k and v [S x Hkv*hd] (RoPE already applied) -> out [S x Hq*hd]. probs, when
// not null, receives the softmax probabilities [Hq x S x S] (zeros where masked). Hooks (float
// only) see per-head copies.
template <class T>
void attention_forward(const AttentionShape& shape, const T* q, const T* k, const T* v, T* out, T* probs,
                       const ForwardHooks* hooks, int layer);

// attention_forward keeps its per-head buffers (scores [S x S] per worker) on the calling
// thread between calls; this frees them (the forward pass calls it before the LM head, whose
// logits are the peak of memory).
void release_attention_scratch();

// Given probs from the forward pass and d_out [S x Hq*hd], writes d_q [S x Hq*hd] and
// d_k, d_v [S x Hkv*hd] (overwritten).
template <class T>
void attention_backward(const AttentionShape& shape, const T* q, const T* k, const T* v, const T* probs,
                        const T* d_out, T* d_q, T* d_k, T* d_v);

}  // namespace halo::model
