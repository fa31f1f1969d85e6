#include "halo/model/calibration.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "halo/model/blas.hpp"
#include "halo/model/forward_core.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {

struct LayerwiseCalibration::Impl {
    const ModelWeights* weights = nullptr;
    std::vector<std::vector<std::int32_t>> samples;
    std::vector<std::vector<float>> hidden;  // [sample] -> [tokens x d_model], input of block next_layer
    unsigned threads = 0;
    const ForwardHooks* hooks = nullptr;
    int next_layer = 0;
    std::int64_t max_tokens = 0;
    std::vector<ExpertInputStats> expert_stats;  // of the last capture

    void expect_layer(int layer, const char* what) const {
        if (layer != next_layer) {
            throw_bad_value("E5507", std::string("LayerwiseCalibration::") + what,
                            "layers must be visited in order, each captured (optionally) then advanced",
                            "layer " + std::to_string(next_layer), "layer " + std::to_string(layer));
        }
    }
};

void LinearStatsSums::add(const float* x, std::int64_t rows, std::int64_t cols, const StatsRequest& request) {
    if (request.gram) {
        if (stats.gram.size() == 0) stats.gram = Matrix(cols, cols);
        gram_accumulate_lower(x, rows, cols, stats.gram.data.data());  // mirrored in finish()
    }
    if (request.channel_stats) {
        if (stats.abs_max.empty()) {
            stats.abs_max.assign(static_cast<std::size_t>(cols), 0.0f);
            abs_sum.assign(static_cast<std::size_t>(cols), 0.0);
        }
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t i = 0; i < cols; ++i) {
                const float a = std::fabs(x[r * cols + i]);
                abs_sum[static_cast<std::size_t>(i)] += a;
                stats.abs_max[static_cast<std::size_t>(i)] = std::max(stats.abs_max[static_cast<std::size_t>(i)], a);
            }
    }
    stats.tokens += rows;
}

LinearInputStats LinearStatsSums::finish(const StatsRequest& request) {
    if (stats.gram.size() != 0) symmetrize_lower(stats.gram.data.data(), stats.gram.cols);
    if (request.channel_stats) {
        stats.abs_mean.resize(abs_sum.size());
        for (std::size_t i = 0; i < abs_sum.size(); ++i)
            stats.abs_mean[i] = static_cast<float>(abs_sum[i] / static_cast<double>(stats.tokens));
    }
    return std::move(stats);
}

LinearStatsAccumulator::LinearStatsAccumulator(const StatsRequest& request, int n_experts)
    : request_(request), expert_sums_(static_cast<std::size_t>(std::max(n_experts, 0))) {
    observer_ = [this](LinearKind kind, int expert, const float* x, std::int64_t rows, std::int64_t cols) {
        if (expert < 0) {
            sums_[static_cast<std::size_t>(kind)].add(x, rows, cols, request_);
            return;
        }
        // A MoE expert's input: its own statistics, from its routed tokens only.
        if (static_cast<std::size_t>(expert) >= expert_sums_.size())
            throw_internal("E5542", "expert " + std::to_string(expert) + " beyond the accumulator's " +
                                        std::to_string(expert_sums_.size()));
        expert_sums_[static_cast<std::size_t>(expert)][ExpertWeights::slot(kind)].add(x, rows, cols, request_);
    };
}

std::array<LinearInputStats, 7> LinearStatsAccumulator::finish() {
    std::array<LinearInputStats, 7> out;
    for (std::size_t k = 0; k < 7; ++k) out[k] = sums_[k].finish(request_);
    expert_stats_.clear();
    for (auto& e : expert_sums_) {
        ExpertInputStats st;
        for (std::size_t k = 0; k < 3; ++k) st[k] = e[k].finish(request_);
        expert_stats_.push_back(std::move(st));
    }
    return out;
}

LayerwiseCalibration::LayerwiseCalibration(const ModelWeights& weights, std::vector<std::vector<std::int32_t>> samples,
                                           unsigned threads, const ForwardHooks* hooks)
    : impl_(std::make_unique<Impl>()) {
    validate_weights(weights);
    if (samples.empty()) {
        throw_bad_value("E5506", "calibration samples", "calibration needs at least one sample", ">= 1 sample", "0");
    }
    impl_->weights = &weights;
    impl_->threads = threads;
    impl_->hooks = hooks;
    impl_->samples = std::move(samples);
    const auto D = static_cast<std::size_t>(weights.config.d_model);
    for (std::size_t i = 0; i < impl_->samples.size(); ++i) {
        const auto& s = impl_->samples[i];
        if (s.empty()) {
            throw_bad_value("E5506", "calibration sample " + std::to_string(i), "calibration sample is empty",
                            ">= 1 token", "0 tokens");
        }
        impl_->max_tokens = std::max<std::int64_t>(impl_->max_tokens, static_cast<std::int64_t>(s.size()));
        std::vector<float> h(s.size() * D);
        embed_tokens(weights, s, h.data());
        impl_->hidden.push_back(std::move(h));
    }
}

LayerwiseCalibration::~LayerwiseCalibration() = default;

std::array<LinearInputStats, 7> LayerwiseCalibration::capture(int layer, const StatsRequest& request) {
    impl_->expect_layer(layer, "capture");
    set_blas_threads(impl_->threads);
    const ModelWeights& w = *impl_->weights;
    const ModelView<float> view = make_view<float>(w);
    const LayerRopes ropes(w.config, impl_->max_tokens);
    LinearStatsAccumulator acc(request, w.config.n_experts);
    std::vector<float> x;
    for (const auto& h : impl_->hidden) {
        x = h;  // the block runs on a copy: capture must not move the hidden states
        block_forward(view, layer, x.data(), static_cast<std::int64_t>(h.size() / static_cast<std::size_t>(w.config.d_model)),
                      ropes.for_layer(layer), impl_->hooks, &acc.observer(), static_cast<BlockCache<float>*>(nullptr));
    }
    auto stats = acc.finish();
    impl_->expert_stats = acc.take_expert_stats();
    return stats;
}

std::vector<ExpertInputStats> LayerwiseCalibration::take_expert_stats() { return std::move(impl_->expert_stats); }

void LayerwiseCalibration::advance(int layer) {
    impl_->expect_layer(layer, "advance");
    set_blas_threads(impl_->threads);
    const ModelWeights& w = *impl_->weights;
    const ModelView<float> view = make_view<float>(w);
    const LayerRopes ropes(w.config, impl_->max_tokens);
    for (auto& h : impl_->hidden) {
        block_forward(view, layer, h.data(), static_cast<std::int64_t>(h.size() / static_cast<std::size_t>(w.config.d_model)),
                      ropes.for_layer(layer), impl_->hooks, static_cast<const LinearInputObserver*>(nullptr),
                      static_cast<BlockCache<float>*>(nullptr));
    }
    ++impl_->next_layer;
}

LinearInputStats LayerwiseCalibration::capture_head(const StatsRequest& request) {
    const ModelWeights& w = *impl_->weights;
    impl_->expect_layer(w.config.n_layers, "capture_head");
    const auto D = static_cast<std::int64_t>(w.config.d_model);
    LinearStatsSums sums;
    for (const auto& h : impl_->hidden)  // the hidden states stay as advance left them
        add_head_input(sums, h.data(), static_cast<std::int64_t>(h.size()) / D, w.config, w.output_norm.data(), request,
                       impl_->hooks);
    return sums.finish(request);
}

void add_head_input(LinearStatsSums& sums, const float* hidden, std::int64_t rows, const ModelConfig& c,
                    const float* output_norm, const StatsRequest& request, const ForwardHooks* hooks) {
    const auto D = static_cast<std::int64_t>(c.d_model);
    std::vector<float> x(static_cast<std::size_t>(rows * D));  // the final norm on a copy
    rms_norm(hidden, x.data(), rows, c.d_model, output_norm, c.norm_weight_plus_one, c.rms_norm_eps,
             static_cast<float*>(nullptr));
    if (hooks && hooks->lm_head_input) hooks->lm_head_input(x.data(), rows, D, c.n_layers);
    sums.add(x.data(), rows, D, request);
}

std::size_t LayerwiseCalibration::resident_bytes() const {
    std::size_t bytes = 0;
    for (const auto& h : impl_->hidden) bytes += h.capacity() * sizeof(float);
    return bytes;
}

}  // namespace halo::model
