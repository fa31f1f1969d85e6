// Row- and element-parallel forms of the serial forward pieces that dominate once the GEMMs run
// on every thread: the gated activation (SwiGLU/GeGLU) and the per-token negative
// log-likelihood over the vocabulary. Each element or token is computed exactly as the serial
// form computes it (forward_ops.hpp), so results are identical for every thread count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "halo/model/weights.hpp"

namespace halo::model {

// Elements per work item: a multiple of every vector width, so each block starts where the
// serial loop would be in its vectorised body (same alignment, no extra tail).
inline constexpr std::int64_t kActivationBlock = 16384;
// Tokens per work item: one token's NLL over a 49k vocabulary is ~50 us.
inline constexpr std::int64_t kNllTokensPerItem = 8;

// out[i] = act(gate[i]) * up[i] on the model's threads (gated_activation per block).
void gated_activation_parallel(const float* gate, const float* up, float* out, std::int64_t n, bool gelu,
                               std::int64_t block = kActivationBlock);

// nll[i] = -log softmax(logits row first_row + i)[targets[i]] for every target, on the model's
// threads.
std::vector<double> token_nlls(const Matrix& logits, std::int64_t first_row, std::span<const std::int32_t> targets);

}  // namespace halo::model
