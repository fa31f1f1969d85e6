// What `--device cuda` gives the quantize drivers: calibration (the block forwards, X^T X and
// the channel statistics) and GPTQ on an accelerator. The implementation lives in cuda/
// (cuda_quant_backend.hpp); quant only sees this interface, so the dispatch is one pointer in
// QuantizeOptions (null: everything on the CPU). HALO's tile fitter (hwq/tile_fit_batch.hpp)
// comes from here too, named by a forward declaration only (quant does not depend on hwq).
// Whatever a backend does not cover (AWQ's rounding, k-means) runs on the CPU, and `placement()`
// says so for the manifest.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "halo/model/calibration.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/phase_seconds.hpp"
#include "halo/quant/rounder.hpp"
#include "halo/util/progress.hpp"

namespace halo::hwq {
class TileFitter;
}

namespace halo::quant {

class CalibrationSource;

// The per-row output errors diag((W-Q) G (W-Q)^T) of many candidate decodes Q of one weight W
// (AWQ's scale and clip search): W and G stay resident, each candidate crosses once.
class RowErrors {
public:
    virtual ~RowErrors() = default;
    // [W.rows] errors of `q` (same shape as W); products and sums in double.
    virtual std::vector<double> of(const model::Matrix& q) = 0;
};

class DeviceBackend {
public:
    virtual ~DeviceBackend() = default;
    virtual std::string describe() const = 0;  // "cuda:0 NVIDIA H200"
    // Calibration with the hidden states on the device. `model` must outlive the source and is
    // read at every capture/advance; with one layer (a streamed block) capture(l) reads layers[0].
    // `model.token_embedding` is read here only.
    virtual std::unique_ptr<CalibrationSource> calibration(const model::ModelWeights& model,
                                                           const std::vector<std::vector<std::int32_t>>& samples) = 0;
    // quant/gptq.hpp's gptq() with the Hessian factor and the lazy updates on the device.
    virtual GptqResult gptq(model::Matrix& w, const model::Matrix& gram, ColumnRounder& rounder, const GptqOptions& options) = 0;
    // quantized_tensor.hpp's output_error(): tr((W-Q) G (W-Q)^T), the product on the device.
    virtual double output_error(const model::Matrix& w, const model::Matrix& q, const model::Matrix& gram) = 0;
    // model::fisher_diagonal (mean over samples of every linear's squared gradient) with the
    // backward passes on the device; `head`: the LM head's entries too, or none.
    virtual model::FisherDiagonal fisher_diagonal(const model::ModelWeights& model,
                                                  const std::vector<std::vector<std::int32_t>>& samples, ProgressSink progress,
                                                  model::HeadGradient head) = 0;
    // AWQ's candidate errors for W and its Gram G [cols x cols]; both must outlive the result.
    virtual std::unique_ptr<RowErrors> row_errors(const model::Matrix& w, const model::Matrix& gram) = 0;
    // Host-side phases of the backend's calibration (Gram download and copies) are added here.
    virtual void time_phases(PhaseSeconds* phases) = 0;
    // Which step ran where, for the manifest and the summary.
    virtual nlohmann::json placement(std::string_view method) const = 0;
    virtual double peak_device_gib() const = 0;
    // HALO's tile fitting on the device (owned by the backend); null: the CPU fits the tiles.
    virtual hwq::TileFitter* tile_fitter() { return nullptr; }
};

// model::fisher_diagonal with its backward passes on `device` where there is one, else on the
// CPU with `threads`: the one dispatch the quantize jobs share. `head`: the LM head's entries too.
inline model::FisherDiagonal fisher_diagonal_on(DeviceBackend* device, const model::ModelWeights& weights,
                                                const std::vector<std::vector<std::int32_t>>& samples, unsigned threads,
                                                ProgressSink progress, model::HeadGradient head) {
    return device ? device->fisher_diagonal(weights, samples, std::move(progress), head)
                  : model::fisher_diagonal(weights, samples, threads, std::move(progress), head);
}

}  // namespace halo::quant
