// Checks of the numbers that reach the forward pass's arithmetic and of the results it prints:
// a config value outside its physical range (a negative rms_norm_eps, a zero RoPE base) or a
// context that cannot fit would otherwise surface as "perplexity: nan" with exit 0.
//
// Error codes: E5340 a config number out of range (bad input, names the config file and key),
// E5341 --ctx beyond the model's context length (usage, exit 1), E5342 a result that is NaN or
// Inf (bad input, names the model and the text that produced it).
#pragma once

#include <string>

#include "halo/model/weights.hpp"

namespace halo::model {

// Every floating-point field of `config` finite and in range: rms_norm_eps in (0, 0.1], RoPE base
// > 1, RoPE scaling factor > 0, context length > 0. `file` is the config's source (GGUF or
// config.json), named in the diagnostic.
void check_config_numbers(const ModelConfig& config, const std::string& file);

// --ctx must not exceed the model's context length (when the config states one): past it, RoPE
// extrapolates outside training and the logits ([ctx x vocab] floats) and attention buffers grow
// until memory runs out.
void check_ctx_fits(const ModelConfig& config, long long ctx);

// A perplexity that is NaN or Inf is not a result: E5342 naming the model and the text.
void check_finite_result(double value, const std::string& what, const std::string& model, const std::string& text);

}  // namespace halo::model
