#include "halo/model/streaming_calibration.hpp"

#include <algorithm>
#include <string>

#include "halo/model/architecture.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/forward_core.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

std::vector<std::int64_t> sample_rows(const std::vector<std::vector<std::int32_t>>& samples) {
    if (samples.empty())
        throw_bad_value("E5506", "calibration samples", "calibration needs at least one sample", ">= 1 sample", "0");
    std::vector<std::int64_t> rows;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (samples[i].empty())
            throw_bad_value("E5506", "calibration sample " + std::to_string(i), "calibration sample is empty", ">= 1 token",
                            "0 tokens");
        rows.push_back(static_cast<std::int64_t>(samples[i].size()));
    }
    return rows;
}

}  // namespace

BlockStreamCalibration::BlockStreamCalibration(const ModelWeights& block_model,
                                               const std::vector<std::vector<std::int32_t>>& samples, unsigned threads,
                                               std::int64_t budget, const std::filesystem::path& spill_dir,
                                               const ForwardHooks* hooks)
    : model_(&block_model), threads_(threads), hooks_(hooks), store_(sample_rows(samples), block_model.config.d_model, budget, spill_dir) {
    if (block_model.layers.size() != 1)
        throw_internal("E5603", "BlockStreamCalibration needs a one-block model, got " + std::to_string(block_model.layers.size()));
    refuse_layer_patterns(block_model.config, "streamed calibration");
    refuse_experts(block_model.config, "streamed calibration");
    std::vector<float> h;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        h.assign(samples[i].size() * static_cast<std::size_t>(block_model.config.d_model), 0.0f);
        embed_tokens(block_model, samples[i], h.data());
        store_.store(i, h);
        max_tokens_ = std::max<std::int64_t>(max_tokens_, static_cast<std::int64_t>(samples[i].size()));
        tokens_ += static_cast<std::int64_t>(samples[i].size());
    }
}

std::array<LinearInputStats, 7> BlockStreamCalibration::capture(const StatsRequest& request) {
    set_blas_threads(threads_);
    const ModelView<float> view = make_view<float>(*model_);
    const LayerRopes ropes(model_->config, max_tokens_);
    const RopeTable& rope = ropes.for_layer(0);  // every layer alike: refuse_layer_patterns
    LinearStatsAccumulator acc(request);
    std::vector<float> x;
    for (std::size_t i = 0; i < store_.size(); ++i) {
        store_.load(i, x);  // a copy: capture must not move the hidden states
        block_forward(view, 0, x.data(), store_.rows(i), rope, hooks_, &acc.observer(), static_cast<BlockCache<float>*>(nullptr));
    }
    return acc.finish();
}

void BlockStreamCalibration::advance() {
    set_blas_threads(threads_);
    const ModelView<float> view = make_view<float>(*model_);
    const LayerRopes ropes(model_->config, max_tokens_);
    const RopeTable& rope = ropes.for_layer(0);  // every layer alike: refuse_layer_patterns
    std::vector<float> x;
    for (std::size_t i = 0; i < store_.size(); ++i) {
        store_.load(i, x);
        block_forward(view, 0, x.data(), store_.rows(i), rope, hooks_, static_cast<const LinearInputObserver*>(nullptr),
                      static_cast<BlockCache<float>*>(nullptr));
        store_.store(i, x);
    }
}

LinearInputStats BlockStreamCalibration::capture_head(const StatsRequest& request, std::span<const float> output_norm) {
    LinearStatsSums sums;  // output_norm has d_model values (the caller checks)
    std::vector<float> h;
    for (std::size_t i = 0; i < store_.size(); ++i) {
        store_.load(i, h);
        add_head_input(sums, h.data(), store_.rows(i), model_->config, output_norm.data(), request, hooks_);
    }
    return sums.finish(request);
}

}  // namespace halo::model
