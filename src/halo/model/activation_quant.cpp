#include "halo/model/activation_quant.hpp"

#include <array>
#include <cmath>
#include <string>

#include "halo/util/diagnostics.hpp"

namespace halo::model {

namespace {

// Reference: divide by the scale, round half away from zero, clamp, multiply back.
void int8_per_token_ref(float* data, std::int64_t rows, std::int64_t cols) {
    for (std::int64_t r = 0; r < rows; ++r) {
        float* x = data + r * cols;
        float amax = 0;
        for (std::int64_t i = 0; i < cols; ++i) amax = std::max(amax, std::fabs(x[i]));
        if (amax == 0) continue;
        const float scale = amax / 127.0f;
        for (std::int64_t i = 0; i < cols; ++i) {
            float q = std::round(x[i] / scale);
            q = std::min(127.0f, std::max(-127.0f, q));
            x[i] = q * scale;
        }
    }
}

// Fast: multiply by the reciprocal scale (vectorizes; may differ from the reference by one
// code when x / scale sits within an ulp of a .5 tie).
void int8_per_token_fast(float* data, std::int64_t rows, std::int64_t cols) {
    for (std::int64_t r = 0; r < rows; ++r) {
        float* x = data + r * cols;
        float amax = 0;
        for (std::int64_t i = 0; i < cols; ++i) amax = std::max(amax, std::fabs(x[i]));
        if (amax == 0) continue;
        const float scale = amax / 127.0f;
        const float inv = 127.0f / amax;
        for (std::int64_t i = 0; i < cols; ++i) {
            const float q = std::nearbyint(x[i] * inv);  // round-half-even: differs only on exact ties
            x[i] = std::min(127.0f, std::max(-127.0f, q)) * scale;
        }
    }
}

constexpr std::array<ActivationFormat, 1> kFormats = {{
    {"int8_per_token", 8, int8_per_token_ref, int8_per_token_fast},
}};

}  // namespace

std::span<const ActivationFormat> activation_formats() { return kFormats; }

const ActivationFormat& activation_format(std::string_view name) {
    std::string known;
    for (const auto& f : kFormats) {
        if (f.name == name) return f;
        known += (known.empty() ? "" : ", ") + std::string(f.name);
    }
    throw_bad_value("E5510", "activation format", "unknown activation quantization format", known, std::string(name));
}

ActivationHook activation_hook(const ActivationFormat& format) {
    const ActivationQuantFn fn = format.fast;
    return [fn](float* data, std::int64_t rows, std::int64_t cols, int) { fn(data, rows, cols); };
}

ForwardHooks uniform_activation_hooks(const ActivationFormat& format, bool attention) {
    ForwardHooks hooks;
    for (auto& h : hooks.linear_input) h = activation_hook(format);
    if (attention) hooks.attn_q = hooks.attn_k = hooks.attn_p = hooks.attn_v = activation_hook(format);
    return hooks;
}

}  // namespace halo::model
