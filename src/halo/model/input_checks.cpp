#include "halo/model/input_checks.hpp"

#include <cmath>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

// The key under which GGUF and HF name each checked field, so the message points at the file's text.
std::string key_name(const std::string& file, const std::string& arch, const char* gguf_key, const char* hf_key) {
    const bool gguf = file.size() >= 5 && file.compare(file.size() - 5, 5, ".gguf") == 0;
    return gguf ? arch + "." + gguf_key : hf_key;
}

// `value` as the float the config holds ("-1e-05", not -9.999999747378752e-06).
void require_range(bool ok, float value, const std::string& file, const std::string& key, const char* expected) {
    if (ok) return;
    throw_bad_input_at("E5340", file, key, "model config number is outside its range", expected, fmt::format("{}", value),
                       "the file is corrupt or was edited by hand");
}

}  // namespace

void check_config_numbers(const ModelConfig& c, const std::string& file) {
    // Written as !(in range) so that NaN, which fails every comparison, is refused too.
    require_range(std::isfinite(c.rms_norm_eps) && c.rms_norm_eps > 0.0f && c.rms_norm_eps <= 0.1f, c.rms_norm_eps, file,
                  key_name(file, c.architecture, "attention.layer_norm_rms_epsilon", "rms_norm_eps"), "a finite number in (0, 0.1]");
    require_range(std::isfinite(c.rope_theta) && c.rope_theta > 1.0f, c.rope_theta, file,
                  key_name(file, c.architecture, "rope.freq_base", "rope_theta"), "a finite RoPE base > 1");
    require_range(std::isfinite(c.rope_scaling_factor) && c.rope_scaling_factor > 0.0f, c.rope_scaling_factor, file,
                  key_name(file, c.architecture, "rope.scaling.factor", "rope_scaling.factor"), "a finite factor > 0");
    require_range(c.context_length >= 0, static_cast<float>(c.context_length), file,
                  key_name(file, c.architecture, "context_length", "max_position_embeddings"), "a context length >= 0");
}

void check_ctx_fits(const ModelConfig& c, long long ctx) {
    if (c.context_length > 0 && ctx > c.context_length)
        throw_bad_flag("E5341", "--ctx", fmt::format("context longer than model {} was trained for", c.name),
                       fmt::format("at most {} tokens (its context length)", c.context_length), std::to_string(ctx),
                       "use a smaller --ctx");
}

void check_finite_result(double value, const std::string& what, const std::string& model, const std::string& text) {
    if (std::isfinite(value)) return;
    throw_bad_input_at("E5342", model, text.empty() ? "" : "on " + text, fmt::format("{} is not a finite number", what),
                       "a finite result", fmt::format("{}", value),
                       "a weight, scale or config value of the model is NaN/Inf or out of range");
}

}  // namespace halo::model
