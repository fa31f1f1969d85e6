#include "halo/model/forward_ops.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "halo/model/architecture.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {

namespace {

// Llama 3.1 scaling: high frequencies (short wavelengths) untouched, low frequencies divided
// by the factor, a smooth blend between the two wavelength thresholds.
double llama3_scale(double freq, const ModelConfig& c) {
    const double old_ctx = c.rope_original_context;
    const double low_wavelen = old_ctx / c.rope_llama3_low_freq_factor;
    const double high_wavelen = old_ctx / c.rope_llama3_high_freq_factor;
    const double wavelen = 2.0 * std::numbers::pi / freq;
    if (wavelen < high_wavelen) return freq;
    if (wavelen > low_wavelen) return freq / c.rope_scaling_factor;
    const double smooth = (old_ctx / wavelen - c.rope_llama3_low_freq_factor) /
                          (c.rope_llama3_high_freq_factor - c.rope_llama3_low_freq_factor);
    return (1.0 - smooth) * freq / c.rope_scaling_factor + smooth * freq;
}

}  // namespace

RopeTable::RopeTable(const ModelConfig& config, std::int64_t positions)
    : pairs_(config.head_dim / 2), interleaved_(config.rope_interleaved) {
    if (config.head_dim <= 0 || config.head_dim % 2 != 0) {
        throw_bad_value("E5500", "rope", "RoPE needs an even head dimension", "even head_dim > 0",
                        std::to_string(config.head_dim));
    }
    if (config.rope_scaling == RopeScaling::yarn && config.rope_scaling_factor != 1.0f) {
        throw_bad_value("E5501", "rope", "YaRN RoPE scaling is not implemented", "none, linear or llama3", "yarn",
                        "evaluate at or below the model's original context without scaling");
    }
    const double position_scale =
        config.rope_scaling == RopeScaling::linear && config.rope_scaling_factor > 0 ? 1.0 / config.rope_scaling_factor
                                                                                     : 1.0;
    freq_.resize(static_cast<std::size_t>(pairs_));
    for (std::int64_t i = 0; i < pairs_; ++i) {
        double f = std::pow(static_cast<double>(config.rope_theta), -2.0 * static_cast<double>(i) / config.head_dim);
        if (config.rope_scaling == RopeScaling::llama3) f = llama3_scale(f, config);
        freq_[static_cast<std::size_t>(i)] = f * position_scale;
    }
    cos_.resize(static_cast<std::size_t>(positions * pairs_));
    sin_.resize(cos_.size());
    for (std::int64_t p = 0; p < positions; ++p) {
        for (std::int64_t i = 0; i < pairs_; ++i) {
            const double angle = static_cast<double>(p) * freq_[static_cast<std::size_t>(i)];
            cos_[static_cast<std::size_t>(p * pairs_ + i)] = std::cos(angle);
            sin_[static_cast<std::size_t>(p * pairs_ + i)] = std::sin(angle);
        }
    }
}

namespace {
ModelConfig local_rope_config(ModelConfig c) {
    c.rope_theta = c.rope_theta_local;
    c.rope_scaling = RopeScaling::none;
    c.rope_scaling_factor = 1.0f;
    return c;
}
}  // namespace

LayerRopes::LayerRopes(const ModelConfig& config, std::int64_t positions) : config_(&config), global_(config, positions) {
    bool any_local = false;
    for (int l = 0; l < config.n_layers; ++l) any_local = any_local || is_local_layer(config, l);
    if (any_local && config.rope_theta_local > 0) local_.emplace_back(local_rope_config(config), positions);
}

const RopeTable& LayerRopes::for_layer(int layer) const {
    return !local_.empty() && is_local_layer(*config_, layer) ? local_.front() : global_;
}

}  // namespace halo::model
