// Perplexity of a model on a text file: read, tokenize with the model's tokenizer, score.
// What `halo eval` calls; a quantized model is the same call with its decoded weights and,
// for weight-activation formats, ForwardOptions::hooks.
#pragma once

#include <filesystem>

#include "halo/model/forward.hpp"
#include "halo/model/perplexity.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/model/weights.hpp"

namespace halo::model {

struct TextPerplexity {
    PerplexityResult result;
    std::int64_t text_tokens = 0;  // tokens in the whole text (before chunking)
    double seconds = 0;            // scoring time (tokenization excluded)
};

// Reads `text_file` (E0001 when unreadable; E5520 naming it when empty or shorter than one
// chunk), encodes it without BOS (options.bos adds it the llama.cpp way) and scores it.
TextPerplexity perplexity_of_text(const ModelWeights& weights, const Tokenizer& tokenizer,
                                  const std::filesystem::path& text_file, PerplexityOptions options,
                                  const ForwardOptions& forward = {});

// llama.cpp's rule for adding BOS: the GGUF key tokenizer.ggml.add_bos_token (false when the
// model is not a GGUF file or the key is absent).
bool model_adds_bos(const std::filesystem::path& model_path);

}  // namespace halo::model
