// Perplexity of a token stream under a model, by one of two documented methods.
//
// llamacpp (llama.cpp's `perplexity` tool): cut the stream into n = floor(N / ctx)
// non-overlapping chunks of ctx tokens (the tail is dropped). When the model uses a BOS token,
// the stream starts with BOS and each chunk's first token is replaced by BOS. Only the second
// half of each chunk is scored: the logits at positions ctx/2 .. ctx-2 predict the tokens at
// ctx/2+1 .. ctx-1, i.e. ctx - 1 - ctx/2 tokens per chunk (255 at ctx 512).
//
// hf (Hugging Face's "perplexity of fixed-length models", sliding window): windows of up to ctx
// tokens starting every `stride` tokens; each window scores only the tokens that earlier
// windows did not (the last `stride` of a full window; the first window scores all but its
// first token), stopping at the window that reaches the end. Scored in all: N - 1 tokens.
//
// Perplexity = exp(nll_sum / tokens_scored). Errors: E5520 (stream shorter than one chunk /
// empty text), E5521 (bad ctx/stride).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/model/forward.hpp"
#include "halo/model/weights.hpp"
#include "halo/util/progress.hpp"

namespace halo::model {

enum class PerplexityMethod : std::uint8_t { llamacpp, hf };
std::string_view method_name(PerplexityMethod m);
// "llamacpp" or "hf"; anything else is E5521.
PerplexityMethod parse_method(std::string_view name);

struct PerplexityOptions {
    PerplexityMethod method = PerplexityMethod::llamacpp;
    int ctx = 512;
    int stride = 0;          // hf only; 0 = ctx / 2
    int max_chunks = -1;     // chunks (llamacpp) or windows (hf) to evaluate; -1 = all
    std::int32_t bos = -1;   // BOS token id to add as llama.cpp does; -1 = none
    std::string text_name;   // for messages: the file the tokens came from
    ProgressSink progress;   // one update per chunk/window
};

struct PerplexityResult {
    double perplexity = 0;
    double nll_sum = 0;          // nats
    std::int64_t tokens_scored = 0;
    PerplexityMethod method = PerplexityMethod::llamacpp;
    int ctx = 0;
    int stride = 0;              // hf; 0 for llamacpp
    int chunks = 0;              // chunks / windows evaluated
    std::int64_t tokens_evaluated = 0;  // tokens run through the model (for throughput)
};

// Logits [n x vocab] for a window of tokens: the model, or a stand-in in tests. Only rows
// >= first_row are read.
using LogitsFn = std::function<Matrix(std::span<const std::int32_t> window, std::int64_t first_row)>;

PerplexityResult perplexity(const LogitsFn& logits, std::span<const std::int32_t> tokens,
                            const PerplexityOptions& options);

// The next-token NLLs (nats) of window[t] for t in [first_target, end_target), each from the
// logits at row t - 1: a backend that computes the log-softmax itself (the CUDA forward), so the
// logits never leave its device. The LogitsFn overload is this one with token_nll on the host.
using NllFn = std::function<std::vector<double>(std::span<const std::int32_t> window, std::int64_t first_target,
                                                std::int64_t end_target)>;
PerplexityResult perplexity(const NllFn& nll, std::span<const std::int32_t> tokens, const PerplexityOptions& options);

// The model's forward pass (with options.hooks for a weight-activation quantized model).
PerplexityResult perplexity(const ModelWeights& weights, std::span<const std::int32_t> tokens,
                            const PerplexityOptions& options, const ForwardOptions& forward = {});

}  // namespace halo::model
