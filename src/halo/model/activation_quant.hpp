// Activation quantizers for the forward pass's hooks: a table of formats, each with a plain
// reference implementation and a fast one (tested to agree). Here: per-token symmetric INT8
// (one scale per row = max|x| / 127, round to nearest, ties away from zero). Other formats come
// from the quant module and plug into ForwardHooks the same way.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "halo/model/forward.hpp"

namespace halo::model {

using ActivationQuantFn = void (*)(float* data, std::int64_t rows, std::int64_t cols);

struct ActivationFormat {
    std::string_view name;        // "int8_per_token"
    int bits;
    ActivationQuantFn reference;  // scalar, obviously right
    ActivationQuantFn fast;       // what the hooks use
};

std::span<const ActivationFormat> activation_formats();
// Throws E5510 (bad input) listing the known names when `name` is not one.
const ActivationFormat& activation_format(std::string_view name);

// A hook applying `format` (fast path) — ready for ForwardHooks::linear_input[...] etc.
ActivationHook activation_hook(const ActivationFormat& format);

// Hooks quantizing the inputs of all seven linears with `format` (attention matmuls untouched
// unless `attention` is true, then Q, K, P and V too).
ForwardHooks uniform_activation_hooks(const ActivationFormat& format, bool attention = false);

}  // namespace halo::model
