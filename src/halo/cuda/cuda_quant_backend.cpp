#include "halo/cuda/cuda_quant_backend.hpp"

#include <fmt/format.h>

#include "halo/cuda/cuda_backend.hpp"
#include "halo/cuda/cuda_calibration.hpp"
#include "halo/cuda/cuda_gptq.hpp"
#include "halo/cuda/cuda_model.hpp"

namespace halo::cuda {

CudaQuantBackend::CudaQuantBackend(int device, bool tf32) : device_(open_device(device)), tf32_(tf32) {}
CudaQuantBackend::~CudaQuantBackend() = default;

std::string CudaQuantBackend::describe() const { return fmt::format("cuda:{} {}", device_.index, device_.name); }

std::unique_ptr<quant::CalibrationSource> CudaQuantBackend::calibration(const model::ModelWeights& model,
                                                                        const std::vector<std::vector<std::int32_t>>& samples) {
    return std::make_unique<CudaCalibration>(model, samples, device_.index, tf32_, &peak_bytes_);
}

quant::GptqResult CudaQuantBackend::gptq(model::Matrix& w, const model::Matrix& gram, quant::ColumnRounder& rounder,
                                         const quant::GptqOptions& options) {
    if (!gptq_) gptq_.reset(backend_api().make_gptq(device_.index));
    return gptq_on_device(*gptq_, w, gram, rounder, options);
}

nlohmann::json CudaQuantBackend::placement(std::string_view method) const {
    nlohmann::json p = {{"device", describe()},
                        {"gemm_math", tf32_ ? "tf32" : "fp32"},
                        {"calibration", "cuda: block forwards, X^T X (cuBLAS SYRK), channel statistics; embedding on the cpu"}};
    if (method == "rtn") {  // nothing needs the device: say so rather than claim a calibration
        p["calibration"] = "none (rtn needs no calibration)";
        p["rtn"] = "cpu";
    } else if (method == "gptq")
        p["gptq"] = "cuda: inverse Hessian factor (cuSOLVER), lazy block updates (cuBLAS); per-column rounding on the cpu";
    else if (method == "awq")
        p["awq"] = "cpu: scale and clip search";
    else
        p[std::string(method)] = "cpu";
    return p;
}

double CudaQuantBackend::peak_device_gib() const { return static_cast<double>(peak_bytes_) / (1 << 30); }

}  // namespace halo::cuda
