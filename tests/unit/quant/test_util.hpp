// Helpers shared by the quant tests: seeded random matrices, correlated activations, per-channel
// activation statistics, and the rendered message of an expected error.
#pragma once

#include <cmath>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "halo/model/weights.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant::testing {

inline model::Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed, float sd = 1.0f) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, sd);
    model::Matrix m(rows, cols);
    for (auto& v : m.data) v = n(rng);
    return m;
}

// X = Z * A + outlier channels: tokens x cols activations whose channels are correlated and
// unequal in scale (as in real LLM activations), and the Gram X^T X.
inline model::Matrix correlated_activations(std::int64_t tokens, std::int64_t cols, unsigned seed) {
    const model::Matrix z = random_matrix(tokens, cols, seed);
    const model::Matrix a = random_matrix(cols, cols, seed + 1, 0.3f);
    model::Matrix x(tokens, cols);
    for (std::int64_t t = 0; t < tokens; ++t)
        for (std::int64_t j = 0; j < cols; ++j) {
            float s = z.at(t, j);
            for (std::int64_t k = 0; k < cols; ++k) s += z.at(t, k) * a.at(k, j);
            x.at(t, j) = s * (j % 17 == 0 ? 8.0f : 1.0f);
        }
    return x;
}

inline model::Matrix gram_of(const model::Matrix& x) {
    model::Matrix g(x.cols, x.cols);
    for (std::int64_t t = 0; t < x.rows; ++t)
        for (std::int64_t i = 0; i < x.cols; ++i)
            for (std::int64_t j = 0; j < x.cols; ++j) g.at(i, j) += x.at(t, i) * x.at(t, j);
    return g;
}

// mean |x_j| per input channel (AWQ's statistic).
inline std::vector<float> abs_mean_of(const model::Matrix& x) {
    std::vector<float> m(static_cast<std::size_t>(x.cols), 0.0f);
    for (std::int64_t t = 0; t < x.rows; ++t)
        for (std::int64_t j = 0; j < x.cols; ++j) m[static_cast<std::size_t>(j)] += std::fabs(x.at(t, j)) / static_cast<float>(x.rows);
    return m;
}

// A 2-layer model of small shapes (d_model 16, d_ff 40) with seeded random linears.
inline model::ModelWeights tiny_model(unsigned seed) {
    model::ModelWeights w;
    w.config.n_layers = 2;
    w.config.d_model = 16;
    w.config.d_ff = 40;  // 40 = a group of 32 + a short one of 8 along ffn_down's input
    w.config.n_heads = 2;
    w.config.n_kv_heads = 1;
    w.config.head_dim = 8;
    for (int l = 0; l < 2; ++l) {
        model::LayerWeights lw;
        lw.attn_norm.assign(16, 1.0f);
        lw.ffn_norm.assign(16, 0.5f);
        const std::int64_t shapes[7][2] = {{16, 16}, {8, 16}, {8, 16}, {16, 16}, {40, 16}, {40, 16}, {16, 40}};
        for (int k = 0; k < 7; ++k)
            lw.linear[static_cast<std::size_t>(k)] = random_matrix(shapes[k][0], shapes[k][1], seed + 10 * l + k, 0.2f);
        w.layers.push_back(std::move(lw));
    }
    return w;
}

// The rendered diagnostic f throws, or "no error".
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().render();
    }
    return "no error";
}

}  // namespace halo::quant::testing
