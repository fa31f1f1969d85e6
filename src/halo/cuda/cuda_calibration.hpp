// Calibration on the GPU for the quantize drivers (a quant::CalibrationSource): the hidden
// states of every sample stay on the device; capture(l) uploads block l as it is now and runs
// it over every sample, returning X^T X (cuBLAS SYRK) and the channel statistics of the seven
// linears' inputs; advance(l) uploads the block again (quantized by then) and moves the hidden
// states through it. The embedding runs on the host (model::embed_tokens), the rest of the
// arithmetic is the CUDA forward's, so the statistics match model::LayerwiseCalibration's to
// float rounding (the channel sums exactly). With a one-layer model (the streamed driver's
// resident block) every capture/advance reads layers[0].
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

private:
    const model::LayerWeights& layer(int index) const;
    void note_peak();
    const model::ModelWeights& model_;
    std::unique_ptr<ForwardEngine> engine_;
    std::vector<std::int64_t> rows_;
    std::int64_t tokens_ = 0;
    std::size_t* peak_ = nullptr;
    quant::PhaseSeconds* phases_ = nullptr;  // gram_host: the Grams' download and per-linear copies
};

}  // namespace halo::cuda
