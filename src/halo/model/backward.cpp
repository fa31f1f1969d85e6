#include "halo/model/backward.hpp"

#include <cmath>
#include <string>

#include "halo/model/architecture.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/forward_core.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/progress.hpp"

namespace halo::model {

namespace {
std::size_t sz(std::int64_t n) { return static_cast<std::size_t>(n); }
}  // namespace

template <class T>
LossGradients<T> loss_and_gradients(const ModelWeights& weights, std::span<const std::int32_t> tokens,
                                    unsigned threads, HeadGradient head) {
    validate_weights(weights);
    if (tokens.size() < 2) {
        throw_bad_value("E5504", "tokens", "next-token loss needs two tokens", "at least 2 tokens",
                        std::to_string(tokens.size()));
    }
    set_blas_threads(threads);
    const ModelConfig& c = weights.config;
    const auto S = static_cast<std::int64_t>(tokens.size());
    const std::int64_t D = c.d_model, V = c.vocab_size;
    const ModelView<T> view = make_view<T>(weights);
    const LayerRopes ropes(c, S);

    // Forward, keeping every block's cache (memory: n_layers x one block's activations).
    std::vector<T> x(sz(S * D));
    embed_tokens(weights, tokens, x.data());
    std::vector<BlockCache<T>> caches(sz(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l)
        block_forward(view, l, x.data(), S, ropes.for_layer(l), static_cast<const ForwardHooks*>(nullptr),
                      static_cast<const LinearInputObserver*>(nullptr), &caches[sz(l)]);
    const std::vector<T> x_final_in = x;
    std::vector<T> inv_rms(sz(S));
    std::vector<T> logits(sz(S * V));
    final_logits(view, x.data(), S, logits.data(), inv_rms.data());

    // Loss and dLoss/dlogits = (softmax - onehot) / n on positions 0..S-2; the last row is 0.
    LossGradients<T> out;
    const auto n = static_cast<double>(S - 1);
    for (std::int64_t t = 0; t < S; ++t) {
        T* row = logits.data() + t * V;
        if (t == S - 1) {
            std::fill(row, row + V, T(0));
            break;
        }
        const std::int32_t target = tokens[sz(t + 1)];
        out.loss += token_nll(row, V, target) / n;
        // Soft-capped logits l = cap tanh(z / cap): dl/dz = 1 - (l / cap)^2, taken before softmax overwrites l.
        std::vector<T> cap_grad;
        if (c.final_logit_softcap > 0) {
            const T cap = static_cast<T>(c.final_logit_softcap);
            cap_grad.resize(sz(V));
            for (std::int64_t i = 0; i < V; ++i) cap_grad[sz(i)] = T(1) - (row[i] / cap) * (row[i] / cap);
        }
        softmax_row(row, V);
        row[target] -= T(1);
        for (std::int64_t i = 0; i < V; ++i) row[i] = static_cast<T>(row[i] / n);
        if (!cap_grad.empty())
            for (std::int64_t i = 0; i < V; ++i) row[i] *= cap_grad[sz(i)];
    }
    // logits = xn W^T: dW = dlogits^T xn (final_logits left xn in x); dxn = dlogits W; then the final RMSNorm.
    if (head == HeadGradient::compute) {
        out.head.assign(sz(V * D), T(0));
        gemm(true, false, V, D, S, T(1), logits.data(), V, x.data(), D, T(0), out.head.data(), D);
    }
    std::vector<T> d_xn(sz(S * D));
    gemm(false, false, S, D, V, T(1), logits.data(), V, view.lm_head, D, T(0), d_xn.data(), D);
    std::vector<T> d_x(sz(S * D), T(0));
    for (std::int64_t r = 0; r < S; ++r) {
        const T* xr = x_final_in.data() + r * D;
        const T* dyr = d_xn.data() + r * D;
        const T inv = inv_rms[sz(r)];
        T dot = 0;
        for (std::int64_t i = 0; i < D; ++i) {
            const T g = static_cast<T>(weights.output_norm[sz(i)]) + (c.norm_weight_plus_one ? T(1) : T(0));
            dot += g * dyr[i] * xr[i];
        }
        for (std::int64_t i = 0; i < D; ++i) {
            const T g = static_cast<T>(weights.output_norm[sz(i)]) + (c.norm_weight_plus_one ? T(1) : T(0));
            d_x[sz(r * D + i)] = inv * g * dyr[i] - xr[i] * inv * inv * inv * dot / static_cast<T>(D);
        }
    }

    out.grads.resize(sz(c.n_layers));
    out.moe.resize(sz(c.n_layers));
    for (int l = c.n_layers - 1; l >= 0; --l) {
        auto& g = out.grads[sz(l)];
        for (std::size_t k = 0; k < 7; ++k) g[k].assign(weights.layers[sz(l)].linear[k].size(), T(0));
        block_backward(view, l, caches[sz(l)], S, ropes.for_layer(l), d_x.data(), g, c.moe() ? &out.moe[sz(l)] : nullptr);
        caches[sz(l)] = BlockCache<T>{};  // free as we go
    }
    return out;
}

template LossGradients<float> loss_and_gradients<float>(const ModelWeights&, std::span<const std::int32_t>, unsigned, HeadGradient);
template LossGradients<double> loss_and_gradients<double>(const ModelWeights&, std::span<const std::int32_t>, unsigned, HeadGradient);

namespace {
Matrix shaped_like(const Matrix& w, std::vector<float> values) {
    Matrix m;
    m.rows = w.rows;
    m.cols = w.cols;
    m.data = std::move(values);
    return m;
}

// A FisherDiagonal of zeros in the model's shapes.
FisherDiagonal zeros_like(const ModelWeights& weights) {
    FisherDiagonal f;
    f.linear.resize(weights.layers.size());
    f.experts.resize(weights.layers.size());
    for (std::size_t l = 0; l < weights.layers.size(); ++l) {
        const LayerWeights& lw = weights.layers[l];
        for (std::size_t k = 0; k < 7; ++k) f.linear[l][k] = Matrix(lw.linear[k].rows, lw.linear[k].cols);
        for (const auto& e : lw.experts) {
            ExpertWeights z;
            for (std::size_t s = 0; s < 3; ++s) z.linear[s] = Matrix(e.linear[s].rows, e.linear[s].cols);
            f.experts[l].push_back(std::move(z));
        }
    }
    f.head = Matrix(weights.config.vocab_size, weights.config.d_model);
    return f;
}

// Calls fn(fisher matrix, gradient values) for every linear of the model, experts included.
template <class Fn>
void for_each_gradient(FisherDiagonal& f, LossGradients<float>& lg, Fn fn) {
    for (std::size_t l = 0; l < f.linear.size(); ++l) {
        for (std::size_t k = 0; k < 7; ++k) fn(f.linear[l][k], lg.grads[l][k]);
        for (std::size_t e = 0; e < f.experts[l].size(); ++e)
            for (std::size_t s = 0; s < 3; ++s) fn(f.experts[l][e].linear[s], lg.moe[l].experts[e][s]);
    }
}
}  // namespace

const Matrix& FisherDiagonal::at(int layer, LinearKind kind, int expert) const {
    const auto l = sz(layer);
    return expert < 0 ? linear[l][static_cast<std::size_t>(kind)] : experts[l][sz(expert)][kind];
}

FisherDiagonal linear_gradients(const ModelWeights& weights, std::span<const std::int32_t> tokens, unsigned threads,
                                double* loss) {
    LossGradients<float> lg = loss_and_gradients<float>(weights, tokens, threads);
    if (loss != nullptr) *loss = lg.loss;
    FisherDiagonal out = zeros_like(weights);
    for_each_gradient(out, lg, [](Matrix& m, std::vector<float>& g) { m = shaped_like(m, std::move(g)); });
    out.head = shaped_like(out.head, std::move(lg.head));
    return out;
}

FisherDiagonal fisher_diagonal(const ModelWeights& weights, const std::vector<std::vector<std::int32_t>>& samples,
                               unsigned threads, ProgressSink progress, HeadGradient head) {
    if (samples.empty()) {
        throw_bad_value("E5506", "calibration samples", "the Fisher diagonal needs at least one sample", ">= 1 sample",
                        "0");
    }
    FisherDiagonal fisher = zeros_like(weights);
    if (head == HeadGradient::skip) fisher.head = Matrix{};
    Progress prog(progress ? progress : ProgressSink([](const ProgressUpdate&) {}), "fisher", samples.size());
    const float inv_n = 1.0f / static_cast<float>(samples.size());
    for (const auto& sample : samples) {
        LossGradients<float> lg = loss_and_gradients<float>(weights, sample, threads, head);
        auto add_squares = [&](Matrix& m, const std::vector<float>& g) {
            float* f = m.data.data();
            for (std::size_t i = 0; i < g.size(); ++i) f[i] += g[i] * g[i] * inv_n;
        };
        for_each_gradient(fisher, lg, add_squares);
        add_squares(fisher.head, lg.head);
        prog.advance();
    }
    prog.finish();
    return fisher;
}

}  // namespace halo::model
