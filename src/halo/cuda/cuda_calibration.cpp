#include "halo/cuda/cuda_calibration.hpp"

#include <algorithm>
#include <string>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/forward_core.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

CudaCalibration::CudaCalibration(const model::ModelWeights& model, const std::vector<std::vector<std::int32_t>>& samples,
                                 int device, bool tf32, std::size_t* peak, quant::PhaseSeconds* phases)
    : model_(model), peak_(peak), phases_(phases) {
    const auto& c = model.config;
    check_supported(c, model.source_path);
    model::refuse_layer_patterns(c, "calibration on the GPU");
    if (samples.empty())
        throw_bad_value("E8121", "calibration samples", "calibration needs at least one sample", ">= 1 sample", "0");
    std::int64_t longest = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        if (samples[i].empty())
            throw_bad_value("E8122", "calibration sample " + std::to_string(i), "calibration sample is empty", ">= 1 token",
                            "0 tokens");
        rows_.push_back(static_cast<std::int64_t>(samples[i].size()));
        longest = std::max(longest, rows_.back());
        tokens_ += rows_.back();
    }
    open_device(device);
    engine_.reset(backend_api().make_forward(device, c, 1, longest, tf32));
    upload_rope_table(*engine_, c, longest);
    engine_->reserve_hidden(rows_);
    std::vector<float> h;
    for (std::size_t i = 0; i < samples.size(); ++i) {
        h.assign(samples[i].size() * static_cast<std::size_t>(c.d_model), 0.0f);
        model::embed_tokens(model, samples[i], h.data());
        engine_->set_hidden(i, h.data());
    }
    note_peak();
}

CudaCalibration::~CudaCalibration() = default;

const model::LayerWeights& CudaCalibration::layer(int index) const {
    return model_.layers.at(model_.layers.size() == 1 ? 0 : static_cast<std::size_t>(index));
}

void CudaCalibration::note_peak() {
    if (peak_) *peak_ = std::max(*peak_, engine_->peak_device_bytes());
}

std::array<model::LinearInputStats, 7> CudaCalibration::capture(int index, const model::StatsRequest& request) {
    engine_->upload_block(0, layer(index));
    std::vector<InputStats> inputs = engine_->block_statistics(0, request.gram, request.channel_stats);
    note_peak();
    quant::PhaseTimer timer(quant::phase_slot(phases_, &quant::PhaseSeconds::gram_host));
    const auto input_of = [](model::LinearKind k) {
        switch (k) {
            case model::LinearKind::attn_q:
            case model::LinearKind::attn_k:
            case model::LinearKind::attn_v: return BlockInput::attn_norm_out;
            case model::LinearKind::attn_output: return BlockInput::attn_out;
            case model::LinearKind::ffn_gate:
            case model::LinearKind::ffn_up: return BlockInput::ffn_norm_out;
            case model::LinearKind::ffn_down: return BlockInput::ffn_act;
        }
        return BlockInput::ffn_act;
    };
    // The engine returns the Grams symmetric (mirrored on the device).
    std::array<int, kBlockInputs> users{};
    for (auto k : model::kLinearKinds) ++users[static_cast<std::size_t>(input_of(k))];
    std::array<model::LinearInputStats, 7> out;
    for (auto k : model::kLinearKinds) {
        InputStats& in = inputs[static_cast<std::size_t>(input_of(k))];
        model::LinearInputStats& st = out[static_cast<std::size_t>(k)];
        // Shared inputs: each linear gets its own copy, as on the CPU; the last one takes the original.
        if (--users[static_cast<std::size_t>(input_of(k))] == 0) st.gram = std::move(in.gram);
        else st.gram = in.gram;
        st.tokens = in.rows;
        st.abs_max = in.abs_max;
        st.abs_mean.resize(in.abs_sum.size());
        for (std::size_t i = 0; i < in.abs_sum.size(); ++i)
            st.abs_mean[i] = static_cast<float>(in.abs_sum[i] / static_cast<double>(in.rows));
    }
    return out;
}

void CudaCalibration::advance(int index) {
    engine_->upload_block(0, layer(index));
    engine_->block_advance(0);
    ++advanced_;
    note_peak();
}

model::LinearInputStats CudaCalibration::capture_head(const model::StatsRequest& request) {
    const auto& c = model_.config;
    if (advanced_ != c.n_layers)
        throw_internal("E8170", fmt::format("the head's input is captured after the last block's advance: {} of {} blocks advanced",
                                            advanced_, c.n_layers));
    if (static_cast<std::int64_t>(model_.output_norm.size()) != c.d_model)
        throw_internal("E8171", fmt::format("output_norm has {} values, d_model is {}", model_.output_norm.size(), c.d_model));
    model::LinearStatsSums sums;
    std::vector<float> h;
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        h.resize(static_cast<std::size_t>(rows_[i] * c.d_model));
        engine_->get_hidden(i, h.data());
        model::add_head_input(sums, h.data(), rows_[i], c, model_.output_norm.data(), request);
    }
    return sums.finish(request);
}

}  // namespace halo::cuda
