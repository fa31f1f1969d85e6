#include "halo/quant/streaming_quantizer.hpp"

#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "halo/model/architecture.hpp"
#include "halo/model/streaming_calibration.hpp"
#include "halo/quant/device_backend.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

// quantize_model sees a one-block model: its layer 0 is the resident block.
class ResidentBlockSource final : public CalibrationSource {
public:
    explicit ResidentBlockSource(model::BlockStreamCalibration& cal) : cal_(cal) {}
    std::array<model::LinearInputStats, 7> capture(int, const model::StatsRequest& request) override {
        return cal_.capture(request);
    }
    void advance(int) override { cal_.advance(); }
    std::int64_t tokens() const override { return cal_.tokens(); }

private:
    model::BlockStreamCalibration& cal_;
};

}  // namespace

StreamingQuantizeResult quantize_streaming(const model::LazyModel& source, const StreamingQuantizeOptions& so,
                                           QuantizedDirWriter& out) {
    const auto t0 = std::chrono::steady_clock::now();
    const QuantizeOptions& opt = so.quantize;
    const MethodTraits& m = methods()[static_cast<std::size_t>(opt.method)];
    if (opt.method == Method::kmeans && opt.kmeans_fisher)
        throw_bad_value("E6140", "--sensitivity", "k-means with Fisher sensitivity cannot stream (it needs whole-model gradients)",
                        "hessian, or quantize without --stream", "fisher");
    model::refuse_experts(source.config(), "streamed quantization (--stream)");
    const bool want_stats = m.needs_gram || m.needs_channel_stats || opt.method == Method::kmeans;
    if (want_stats && so.samples.empty())
        throw_bad_value("E6008", "--calib", fmt::format("method {} needs calibration data", m.name), "a calibration text", "none");

    StreamingQuantizeResult r;
    if (opt.device) opt.device->time_phases(&r.phases);
    struct StopTiming {  // r.phases moves out with the result (or an error leaves): the backend forgets it
        DeviceBackend* device;
        ~StopTiming() {
            if (device) device->time_phases(nullptr);
        }
    } stop_timing{opt.device};
    model::ModelWeights block = source.skeleton();
    block.layers.resize(1);
    std::unique_ptr<model::BlockStreamCalibration> cal;
    std::unique_ptr<CalibrationSource> device_cal;  // --device: hidden states on the device instead
    if (want_stats) {
        block.token_embedding = source.token_embedding();
        if (opt.device) {
            device_cal = opt.device->calibration(block, so.samples);
            r.calibration_tokens = device_cal->tokens();
            r.activation_bytes = r.calibration_tokens * block.config.d_model * static_cast<std::int64_t>(sizeof(float));
        } else {
            cal = std::make_unique<model::BlockStreamCalibration>(block, so.samples, opt.threads, so.activation_budget_bytes,
                                                                  so.spill_dir, so.calib_hooks);
            r.activations_spilled = cal->store().spilled();
            r.activation_bytes = cal->store().total_bytes();
            r.calibration_tokens = cal->tokens();
        }
        block.token_embedding = {};  // only the embedding step needed it
    }
    QuantizeOptions per_block = opt;
    per_block.progress = nullptr;
    per_block.phases = &r.phases;
    const int n_layers = source.config().n_layers;
    Progress progress(so.block_progress ? so.block_progress : ProgressSink([](const ProgressUpdate&) {}), "quantize blocks",
                      static_cast<std::size_t>(n_layers));
    for (int l = 0; l < n_layers; ++l) {
        {
            PhaseTimer timer(&r.phases.load);
            block.layers[0] = source.layer(l);
        }
        std::unique_ptr<ResidentBlockSource> src;
        if (cal) src = std::make_unique<ResidentBlockSource>(*cal);
        QuantizedModel qm = quantize_model(block, per_block, device_cal ? device_cal.get() : src.get());
        if (l == 0) {
            r.totals.method = qm.method;
            r.totals.spec = qm.spec;
            r.totals.activation_format = qm.activation_format;
        }
        {
            PhaseTimer timer(&r.phases.write);
            for (auto& rec : qm.linears) {
                rec.layer = l;
                out.add_linear(rec);
            }
        }
        for (auto& v : qm.vectors) {
            v.layer = l;
            out.add_vector(v);
        }
        r.totals.bits += qm.bits;
        block.layers[0] = {};
        ++r.blocks;
        if (so.block_done) so.block_done(l, r.phases);
        progress.advance();
    }
    progress.finish();
    r.totals.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
}

}  // namespace halo::quant
