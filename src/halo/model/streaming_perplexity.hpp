// Perplexity with one decoder block resident: all chunks go through block i, then block i+1
// (the hidden states of every chunk live in an ActivationStore: memory when they fit the
// budget, else a spill file), then the final norm and the LM head score each chunk. The same
// llama.cpp chunking and scoring as model::perplexity (perplexity.hpp), and the same
// block_forward / final_logits calls as forward_logits, so the result is bit-identical to the
// in-memory path on the same weights (a test checks).
// Only the llamacpp method streams (hf windows overlap: E5604). An optional per-block hook
// replaces the block's weights before it runs (eval of a quantized directory, block by block).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>

#include "halo/model/forward.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/perplexity.hpp"

namespace halo::model {

struct StreamingEvalOptions {
    unsigned threads = 0;
    std::int64_t activation_budget_bytes = std::int64_t{2} << 30;
    std::filesystem::path spill_dir;
    ProgressSink block_progress;  // one update per block ("perplexity blocks")
    // Called with block l's weights after they are materialised (e.g. apply quantized codes).
    std::function<void(int layer, LayerWeights& weights)> transform_block;
    // Called once before scoring with the weights the head reads (output_norm, output, and a tied
    // model's token_embedding): a quantized LM head sets `output` (eval of a directory with a HALO head).
    std::function<void(ModelWeights& head)> transform_head;
    // Activation quantizers on every block's linear inputs (a weight-activation format) and,
    // with lm_head_input set, on the LM head's input; or null.
    const ForwardHooks* hooks = nullptr;
};

struct StreamingPerplexity {
    PerplexityResult result;
    bool activations_spilled = false;
    std::int64_t activation_bytes = 0;
};

StreamingPerplexity streaming_perplexity(const LazyModel& model, std::span<const std::int32_t> tokens,
                                         const PerplexityOptions& options, const StreamingEvalOptions& stream);

}  // namespace halo::model
