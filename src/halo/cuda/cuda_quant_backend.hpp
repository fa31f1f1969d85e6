// `quantize --device cuda[:N]`: the quant::DeviceBackend of the CUDA module. Calibration
// (block forwards, X^T X, channel statistics: cuda_calibration.hpp) and GPTQ's algebra
// (cuda_gptq.hpp), the Fisher diagonal's backward passes (cuda_fisher.hpp), HALO's tile
// fitting (cuda_tile_fit.hpp) and AWQ's candidate errors (row_errors) run on the GPU; RTN, AWQ's
// rounding of each candidate, k-means, SmoothQuant's fold and the per-column rounding run on
// the CPU, and placement() lists that for the manifest.
#pragma once

#include <memory>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/cuda/cuda_tile_fit.hpp"
#include "halo/quant/device_backend.hpp"

namespace halo::cuda {

class CudaQuantBackend final : public quant::DeviceBackend {
public:
    // Opens the device now: E8109 / E8101 / E8108 before any model is read.
    CudaQuantBackend(int device, bool tf32);
    ~CudaQuantBackend() override;
    std::string describe() const override;
    std::unique_ptr<quant::CalibrationSource> calibration(const model::ModelWeights& model,
                                                          const std::vector<std::vector<std::int32_t>>& samples) override;
    quant::GptqResult gptq(model::Matrix& w, const model::Matrix& gram, quant::ColumnRounder& rounder,
                           const quant::GptqOptions& options) override;
    double output_error(const model::Matrix& w, const model::Matrix& q, const model::Matrix& gram) override;
    model::FisherDiagonal fisher_diagonal(const model::ModelWeights& model, const std::vector<std::vector<std::int32_t>>& samples,
                                          ProgressSink progress, model::HeadGradient head) override;
    std::unique_ptr<quant::RowErrors> row_errors(const model::Matrix& w, const model::Matrix& gram) override;
    void time_phases(quant::PhaseSeconds* phases) override { phases_ = phases; }
    nlohmann::json placement(std::string_view method) const override;
    double peak_device_gib() const override;
    hwq::TileFitter* tile_fitter() override;

private:
    DeviceInfo device_;
    bool tf32_ = false;
    GptqEngine& gptq_engine();
    std::unique_ptr<GptqEngine> gptq_;
    std::unique_ptr<CudaTileFitter> fitter_;
    std::unique_ptr<RowErrorEngine> row_error_;  // one cuBLAS handle for every tensor's search
    quant::PhaseSeconds* phases_ = nullptr;
    std::size_t peak_bytes_ = 0;
    bool fisher_ran_ = false;  // placement() names the backward passes only when they ran
};

}  // namespace halo::cuda
