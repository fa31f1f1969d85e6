#include "halo/hwq/halo_streaming.hpp"

#include <chrono>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/head_quantizer.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/streaming_calibration.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::hwq {

void check_streamable(const HaloOptions& o) {
    if (o.sensitivity == SensitivitySource::fisher)
        throw_bad_value("E9076", "--sensitivity", "HALO with Fisher sensitivity cannot stream (it needs whole-model gradients)",
                        "hessian, or quantize without --stream", "fisher");
    // The model-wide budget ranks every linear's tiles before assigning any (plan_model_wide's
    // first pass over the whole model); the block loop sees one block at a time.
    if (o.scope == AssignScope::model)
        throw_bad_value("E9074", "--assign", "HALO's model-wide assignment cannot stream (it plans every block before the first)",
                        "--assign layer, or quantize without --stream", "model");
}

StreamingHaloResult quantize_halo_streaming(const model::LazyModel& source, const Ladder& L, const StreamingHaloOptions& so,
                                            quant::QuantizedDirWriter& out, const quant::RunInfo& run_info,
                                            const accel::SystolicOptions& machine, const mac::MacProfile* energy_profile) {
    const auto t0 = std::chrono::steady_clock::now();
    check_streamable(so.halo);
    const model::ModelConfig& config = source.config();
    model::refuse_experts(config, "HALO quantization");  // per-expert tiles: not done (issue 14)
    StreamingHaloResult r;
    r.totals = empty_halo_result(L, so.halo);
    HaloOptions ho = so.halo;
    ho.phases = &r.phases;
    if (so.device) so.device->time_phases(&r.phases);
    struct StopTiming {  // the backend forgets r.phases when this returns or throws
        quant::DeviceBackend* device;
        ~StopTiming() {
            if (device) device->time_phases(nullptr);
        }
    } stop_timing{so.device};
    model::ModelWeights block = source.skeleton();
    block.layers.resize(1);
    std::unique_ptr<model::BlockStreamCalibration> cal;
    std::unique_ptr<quant::CalibrationSource> device_cal;  // --device: hidden states on the device instead
    if (!so.samples.empty()) {
        block.token_embedding = source.token_embedding();
        if (so.device) {
            device_cal = so.device->calibration(block, so.samples);
            r.calibration_tokens = device_cal->tokens();
            r.activation_bytes = r.calibration_tokens * config.d_model * static_cast<std::int64_t>(sizeof(float));
        } else {
            cal = std::make_unique<model::BlockStreamCalibration>(block, so.samples, so.threads, so.activation_budget_bytes,
                                                                  so.spill_dir, so.calib_hooks);
            r.activations_spilled = cal->store().spilled();
            r.activation_bytes = cal->store().total_bytes();
            r.calibration_tokens = cal->tokens();
        }
        block.token_embedding = {};  // only the embedding step needed it
    }
    accel::ModelTileLevels tile_levels = empty_tile_levels(config, config.name);
    InformationBits info_bits;
    info_bits.sparse_selector_bits = sparse_grid(so.halo.sparse_grid).selector_bits;
    Progress progress(so.block_progress ? so.block_progress : ProgressSink([](const ProgressUpdate&) {}), "halo blocks",
                      static_cast<std::size_t>(config.n_layers));
    int prev_level = -1;
    for (int l = 0; l < config.n_layers; ++l) {
        {
            quant::PhaseTimer timer(&r.phases.load);
            block.layers[0] = source.layer(l);
        }
        std::array<model::LinearInputStats, 7> stats{};
        {
            quant::PhaseTimer timer(&r.phases.capture);
            if (cal) stats = cal->capture({.gram = true, .channel_stats = false});
            if (device_cal) stats = device_cal->capture(0, {.gram = true, .channel_stats = false});  // the block is layer 0
        }
        // --calib-inputs unquantized: the next block is calibrated through this one as it was.
        std::optional<model::LayerWeights> unquantized;
        if ((cal || device_cal) && ho.calib_inputs == quant::CalibrationInputs::unquantized) unquantized = block.layers[0];
        quantize_block_halo(block.layers[0], l, stats, nullptr, L, ho, r.totals, prev_level, nullptr);
        stats = {};
        std::optional<quant::PhaseTimer> write_timer(std::in_place, &r.phases.write);
        for (std::size_t i = 0; i < r.totals.model.linears.size(); ++i) {
            const auto& rec = r.totals.model.linears[i];
            add_tile_levels(tile_levels, rec, r.totals.linears[i].sparse_level.level, ho.threads);
            info_bits.add(rec.tensor, r.totals.books);
            out.add_linear(rec);
        }
        r.totals.model.linears.clear();  // this block's codes are on disk
        r.totals.linears.clear();
        write_timer.reset();
        {
            quant::PhaseTimer timer(&r.phases.advance);
            if (unquantized) std::swap(block.layers[0], *unquantized);  // both sources read block.layers[0]
            if (cal) cal->advance();
            if (device_cal) device_cal->advance(0);
        }
        block.layers[0] = {};
        ++r.blocks;
        if (so.block_done) so.block_done(l, r.phases);
        progress.advance();
    }
    if (ho.quantize_head) {  // after the last block, from the hidden states it left (as quantize_model_halo does)
        model::Matrix head = source.output();
        const bool tied = head.size() == 0;
        if (tied) head = source.token_embedding();
        model::LinearInputStats st;
        if (cal || device_cal) {
            quant::PhaseTimer timer(&r.phases.capture);
            std::vector<float> norm = source.output_norm();
            if (static_cast<std::int64_t>(norm.size()) != config.d_model)
                throw_internal("E9162", fmt::format("output_norm has {} values, d_model is {}", norm.size(), config.d_model));
            if (cal) st = cal->capture_head({.gram = true, .channel_stats = false}, norm);
            else {
                block.output_norm = std::move(norm);  // the device source reads the resident model's
                st = device_cal->capture_head({.gram = true, .channel_stats = false});
            }
        }
        (void)quantize_head_halo(head, tied, st, L, ho, r.totals, prev_level, nullptr);
        std::optional<quant::PhaseTimer> head_write(std::in_place, &r.phases.write);
        const quant::HeadRecord& rec = *r.totals.model.head;
        add_head_tile_levels(tile_levels, rec, r.totals.head->sparse_level.level, ho.threads);
        info_bits.add(rec.tensor, r.totals.books);
        out.add_head(rec);
    }
    progress.finish();
    r.information_bits = info_bits.per_weight(r.totals.books);
    r.totals.model.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    quant::RunInfo info = run_info;
    info.sections["halo"] = halo_manifest_section(r.totals, r.information_bits, L, so.halo);
    out.finish(r.totals.model, halo_quantize_options(so.halo), info, halo_extra_files(tile_levels, machine, energy_profile));
    return r;
}

}  // namespace halo::hwq
