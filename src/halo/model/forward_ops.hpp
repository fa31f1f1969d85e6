// The elementwise pieces of a Llama-family block, templated on the compute type (float for
// the model, double for gradient checks): RMSNorm, RoPE, the gated activations, softmax.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "halo/model/vector_math.hpp"

#include "halo/model/weights.hpp"

namespace halo::model {

// y[r] = x[r] / rms(x[r]) * g, with g = weight (or weight + 1, Gemma). Returns 1/rms per row in
// inv_rms (when not null) for the backward pass. x and y may alias.
template <class T>
void rms_norm(const T* x, T* y, std::int64_t rows, std::int64_t dim, const float* weight, bool plus_one, float eps,
              T* inv_rms) {
    for (std::int64_t r = 0; r < rows; ++r) {
        const T* xr = x + r * dim;
        T* yr = y + r * dim;
        double ss = 0;
        for (std::int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * static_cast<double>(xr[i]);
        const T inv = static_cast<T>(1.0 / std::sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
        if (inv_rms != nullptr) inv_rms[r] = inv;
        for (std::int64_t i = 0; i < dim; ++i) {
            const T g = static_cast<T>(weight[i]) + (plus_one ? T(1) : T(0));
            yr[i] = xr[i] * inv * g;
        }
    }
}

// cos/sin of position * frequency for every position and rotated pair, after the configured
// scaling (none, linear, llama3). YaRN is refused (E5501) — no supported model needs it yet.
class RopeTable {
public:
    RopeTable(const ModelConfig& config, std::int64_t positions);
    std::int64_t pairs() const { return pairs_; }
    bool interleaved() const { return interleaved_; }
    double cos_at(std::int64_t pos, std::int64_t pair) const { return cos_[pos * pairs_ + pair]; }
    double sin_at(std::int64_t pos, std::int64_t pair) const { return sin_[pos * pairs_ + pair]; }
    // The frequency of each pair after scaling (radians per position).
    const std::vector<double>& frequencies() const { return freq_; }

private:
    std::int64_t pairs_ = 0;
    bool interleaved_ = true;
    std::vector<double> freq_;
    std::vector<double> cos_;
    std::vector<double> sin_;
};

// The RoPE tables of every layer: one for global layers (rope_theta with the configured
// scaling) and, when the config has local layers with their own base (Gemma 3: 10000), one for
// those (no scaling: llama.cpp and HF scale only the global layers).
class LayerRopes {
public:
    LayerRopes(const ModelConfig& config, std::int64_t positions);
    const RopeTable& for_layer(int layer) const;

private:
    const ModelConfig* config_;
    RopeTable global_;
    std::vector<RopeTable> local_;  // empty or one table
};

// y = c * tanh(y / c) on n values (final-logit soft-capping, Gemma 2); c <= 0 leaves y alone.
template <class T>
void softcap(T* y, std::int64_t n, float cap) {
    if (cap <= 0) return;
    const T c = static_cast<T>(cap);
    for (std::int64_t i = 0; i < n; ++i) y[i] = c * std::tanh(y[i] / c);
}

// y[r] += bias for every row of y [rows x n] (Qwen2's Q/K/V biases); an empty bias adds nothing.
template <class T>
void add_bias(T* y, std::int64_t rows, const std::vector<float>& bias) {
    const auto n = static_cast<std::int64_t>(bias.size());
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t i = 0; i < n; ++i) y[r * n + i] += static_cast<T>(bias[static_cast<std::size_t>(i)]);
}

// Rotates every head of x [rows x heads*head_dim] in place; row r is position r. inverse=true
// applies the transpose rotation (the backward pass of RoPE).
template <class T>
void apply_rope(T* x, std::int64_t rows, std::int64_t heads, std::int64_t head_dim, const RopeTable& rope,
                bool inverse = false) {
    const std::int64_t half = head_dim / 2;
    for (std::int64_t r = 0; r < rows; ++r) {
        for (std::int64_t h = 0; h < heads; ++h) {
            T* v = x + r * heads * head_dim + h * head_dim;
            for (std::int64_t i = 0; i < half; ++i) {
                const T c = static_cast<T>(rope.cos_at(r, i));
                const T s = static_cast<T>(inverse ? -rope.sin_at(r, i) : rope.sin_at(r, i));
                T& a = rope.interleaved() ? v[2 * i] : v[i];
                T& b = rope.interleaved() ? v[2 * i + 1] : v[i + half];
                const T a0 = a;
                const T b0 = b;
                a = a0 * c - b0 * s;
                b = a0 * s + b0 * c;
            }
        }
    }
}

template <class T>
T sigmoid(T x) {
    return T(1) / (T(1) + std::exp(-x));
}

// Gate activations: SiLU (SwiGLU, Llama) and GELU with the tanh approximation (GeGLU, Gemma),
// each with its derivative for the backward pass.
template <class T>
T gate_act(T g, bool gelu) {
    if (!gelu) return g * sigmoid(g);
    constexpr T k = T(0.7978845608028654);  // sqrt(2/pi)
    return T(0.5) * g * (T(1) + std::tanh(k * (g + T(0.044715) * g * g * g)));
}

template <class T>
T gate_act_grad(T g, bool gelu) {
    if (!gelu) {
        const T s = sigmoid(g);
        return s * (T(1) + g * (T(1) - s));
    }
    constexpr T k = T(0.7978845608028654);
    const T u = k * (g + T(0.044715) * g * g * g);
    const T t = std::tanh(u);
    const T du = k * (T(1) + T(3) * T(0.044715) * g * g);
    return T(0.5) * (T(1) + t) + T(0.5) * g * (T(1) - t * t) * du;
}

// out[i] = gate_act(gate[i]) * up[i]; float SwiGLU runs the vectorised kernel.
template <class T>
void gated_activation(const T* gate, const T* up, T* out, std::int64_t n, bool gelu) {
    if constexpr (std::is_same_v<T, float>) {
        if (!gelu) {
            kernels::swiglu(gate, up, out, n);
            return;
        }
    }
    for (std::int64_t i = 0; i < n; ++i) out[i] = gate_act(gate[i], gelu) * up[i];
}

// In-place softmax of one row of n values; returns log(sum exp(x - max)) + max (log partition).
// float runs the vectorised exp (vector_math.hpp); double (gradient checks) std::exp.
template <class T>
double softmax_row(T* x, std::int64_t n) {
    T mx = x[0];
    for (std::int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
    double sum = 0;
    if constexpr (std::is_same_v<T, float>) {
        sum = kernels::exp_shifted_inplace(x, n, mx);
    } else {
        for (std::int64_t i = 0; i < n; ++i) {
            x[i] = std::exp(x[i] - mx);
            sum += static_cast<double>(x[i]);
        }
    }
    const T inv = static_cast<T>(1.0 / sum);
    for (std::int64_t i = 0; i < n; ++i) x[i] *= inv;
    return std::log(sum) + static_cast<double>(mx);
}

// -log softmax(row)[target] without touching the row: log-sum-exp accumulated in double
// (float rows: terms from the vectorised float exp, relative error < 1e-6 per term).
template <class T>
double token_nll(const T* row, std::int64_t n, std::int32_t target) {
    T mx = row[0];
    for (std::int64_t i = 1; i < n; ++i) mx = row[i] > mx ? row[i] : mx;
    double sum = 0;
    if constexpr (std::is_same_v<T, float>) {
        sum = kernels::sum_exp_shifted(row, n, mx);
    } else {
        for (std::int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(row[i]) - static_cast<double>(mx));
    }
    return std::log(sum) + static_cast<double>(mx) - static_cast<double>(row[target]);
}

}  // namespace halo::model
