#include "halo/cuda/cuda_quant_backend.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend.hpp"
#include "halo/cuda/cuda_calibration.hpp"
#include "halo/cuda/cuda_fisher.hpp"
#include "halo/cuda/cuda_gptq.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

CudaQuantBackend::CudaQuantBackend(int device, bool tf32) : device_(open_device(device)), tf32_(tf32) {}
CudaQuantBackend::~CudaQuantBackend() = default;

std::string CudaQuantBackend::describe() const { return fmt::format("cuda:{} {}", device_.index, device_.name); }

std::unique_ptr<quant::CalibrationSource> CudaQuantBackend::calibration(const model::ModelWeights& model,
                                                                        const std::vector<std::vector<std::int32_t>>& samples) {
    return std::make_unique<CudaCalibration>(model, samples, device_.index, tf32_, &peak_bytes_, phases_);
}

GptqEngine& CudaQuantBackend::gptq_engine() {
    if (!gptq_) gptq_.reset(backend_api().make_gptq(device_.index));
    return *gptq_;
}

quant::GptqResult CudaQuantBackend::gptq(model::Matrix& w, const model::Matrix& gram, quant::ColumnRounder& rounder,
                                         const quant::GptqOptions& options) {
    return gptq_on_device(gptq_engine(), w, gram, rounder, options);
}

double CudaQuantBackend::output_error(const model::Matrix& w, const model::Matrix& q, const model::Matrix& gram) {
    if (q.rows != w.rows || q.cols != w.cols || gram.rows != w.cols || gram.cols != w.cols)
        throw_internal("E8125", fmt::format("output error of a {}x{} weight with a {}x{} decode and a {}x{} Gram", w.rows, w.cols,
                                            q.rows, q.cols, gram.rows, gram.cols));
    std::vector<float> d(w.data.size());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = w.data[i] - q.data[i];
    return gptq_engine().output_error(d.data(), w.rows, w.cols, gram.data.data());
}

model::FisherDiagonal CudaQuantBackend::fisher_diagonal(const model::ModelWeights& model,
                                                        const std::vector<std::vector<std::int32_t>>& samples,
                                                        ProgressSink progress) {
    FisherRun run;
    model::FisherDiagonal f = fisher_diagonal_on_device(model, samples, device_.index, tf32_, std::move(progress), &run);
    peak_bytes_ = std::max(peak_bytes_, run.peak_device_bytes);
    fisher_ran_ = true;
    return f;
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
    if (method == "gptq" || method == "awq" || method == "kmeans") p["output_error"] = "cuda: (W-Q) G by cuBLAS SGEMM, the trace summed in double";
    else if (method == "awq")
        p["awq"] = "cpu: scale and clip search";
    else if (method == "halo")
        p["halo"] = "cuda: tile histograms and codebook/scale/zero fits (bit-identical to the cpu), GPTQ's inverse Hessian "
                    "factor and lazy block updates; sensitivity, assignment and per-column rounding on the cpu";
    else
        p[std::string(method)] = "cpu";
    if (fisher_ran_) p["fisher"] = "cuda: backward passes (cuBLAS, kernels), squared gradients summed on the device";
    return p;
}

double CudaQuantBackend::peak_device_gib() const {
    const std::size_t fit = fitter_ ? fitter_->peak_device_bytes() : 0;
    return static_cast<double>(std::max(peak_bytes_, fit)) / (1 << 30);
}

hwq::TileFitter* CudaQuantBackend::tile_fitter() {
    if (!fitter_) fitter_ = std::make_unique<CudaTileFitter>(device_.index);
    return fitter_.get();
}

}  // namespace halo::cuda
