// Calibration on the GPU for the quantize drivers (a quant::CalibrationSource): the hidden
// states of every sample stay on the device; capture(l) uploads block l as it is now and runs
// it over every sample, returning X^T X (cuBLAS SYRK) and the channel statistics of the seven
// linears' inputs; advance(l) uploads the block again (quantized by then) and moves the hidden
// states through it. The embedding runs on the host (model::embed_tokens), the rest of the
// arithmetic is the CUDA forward's, so the statistics match model::LayerwiseCalibration's to
// float rounding (the channel sums exactly). With a one-layer model (the streamed driver's
// resident block) every capture/advance reads layers[0]; capture_head then reads the
// model's output_norm, which the streamed driver sets before it asks.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/quant/model_quantizer.hpp"

namespace halo::cuda {

class CudaCalibration final : public quant::CalibrationSource {
public:
    // `phases` (optional) gets the host side of capture() in gram_host.
    // `peak_device_bytes` (optional) is raised to the engine's peak after every step.
    CudaCalibration(const model::ModelWeights& model, const std::vector<std::vector<std::int32_t>>& samples, int device, bool tf32,
                    std::size_t* peak_device_bytes = nullptr, quant::PhaseSeconds* phases = nullptr);
    ~CudaCalibration() override;
    std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest& request) override;
    void advance(int layer) override;
    std::int64_t tokens() const override { return tokens_; }
    // After every block's advance: the LM head's input statistics from the hidden states on the
    // device, downloaded one sample at a time and normed with the model's output_norm on the
    // host (model::add_head_input, the CPU sources' arithmetic). E8170 before the last advance.
    model::LinearInputStats capture_head(const model::StatsRequest& request) override;

private:
    const model::LayerWeights& layer(int index) const;
    void note_peak();
    const model::ModelWeights& model_;
    std::unique_ptr<ForwardEngine> engine_;
    std::vector<std::int64_t> rows_;
    std::int64_t tokens_ = 0;
    int advanced_ = 0;  // blocks the hidden states have gone through
    std::size_t* peak_ = nullptr;
    quant::PhaseSeconds* phases_ = nullptr;  // gram_host: the Grams' download and per-linear copies
};

}  // namespace halo::cuda
