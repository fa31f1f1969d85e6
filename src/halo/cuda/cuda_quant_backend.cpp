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
                                                        ProgressSink progress, model::HeadGradient head) {
    FisherRun run;
    model::FisherDiagonal f = fisher_diagonal_on_device(model, samples, device_.index, tf32_, std::move(progress), &run, head);
    peak_bytes_ = std::max(peak_bytes_, run.peak_device_bytes);
    fisher_ran_ = true;
    return f;
}

namespace {

// One tensor's search: W and G uploaded at construction, freed at the end.
class CudaRowErrors final : public quant::RowErrors {
public:
    CudaRowErrors(RowErrorEngine& engine, const model::Matrix& w, const model::Matrix& gram, std::size_t* peak_bytes)
        : engine_(engine), rows_(w.rows), cols_(w.cols) {
        if (gram.rows != w.cols || gram.cols != w.cols)
            throw_internal("E8150", fmt::format("AWQ row errors of a {}x{} weight with a {}x{} Gram", w.rows, w.cols, gram.rows,
                                                gram.cols));
        engine_.upload(w.data.data(), w.rows, w.cols, gram.data.data());
        *peak_bytes = std::max(*peak_bytes, engine_.peak_device_bytes());
    }
    ~CudaRowErrors() override { engine_.release(); }
    std::vector<double> of(const model::Matrix& q) override {
        if (q.rows != rows_ || q.cols != cols_)
            throw_internal("E8151", fmt::format("AWQ candidate {}x{} for a {}x{} weight", q.rows, q.cols, rows_, cols_));
        std::vector<double> out(static_cast<std::size_t>(rows_));
        engine_.row_errors(q.data.data(), out.data());
        return out;
    }

private:
    RowErrorEngine& engine_;
    std::int64_t rows_, cols_;
};

}  // namespace

std::unique_ptr<quant::RowErrors> CudaQuantBackend::row_errors(const model::Matrix& w, const model::Matrix& gram) {
    if (!row_error_) row_error_.reset(backend_api().make_row_error(device_.index));
    return std::make_unique<CudaRowErrors>(*row_error_, w, gram, &peak_bytes_);
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
        p["awq"] = "cuda: each candidate's per-row errors ((W-Q) G by cuBLAS SGEMM, row sums in double); rounding of the candidates on the cpu";
    else if (method == "halo")
        p["halo"] = "cuda: the tile costs' histograms and codebook/scale/zero fits (every tile at every level, bit-identical to "
                    "the cpu), GPTQ's inverse Hessian factor and lazy block updates; GPTQ's refits per column block (batches under "
                    "1024 tiles: hwq::RoutedTileFitter), sensitivity, sparse split, assignment and per-column rounding on the cpu";
    else
        p[std::string(method)] = "cpu";
    if (fisher_ran_) p["fisher"] = "cuda: backward passes (cuBLAS, kernels), squared gradients summed on the device";
    if (method == "gptq" || method == "awq" || method == "kmeans" || method == "halo") p["output_error"] = "cuda: (W-Q) G by cuBLAS SGEMM, the trace summed in double";
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
