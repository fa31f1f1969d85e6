// `halo quantize --method halo`: HALO as one row of the quantizer table, writing ONE quantized
// model directory with the same layout and manifest schema as every other method (plus the
// HALO files: tile_levels.json, sim_config.json, mac_profile.json; hwq/halo_dir.hpp):
//   profile (given, or the INT8 MAC characterized on osu018) -> ladder -> calibration ->
//   hwq::quantize_model_halo -> optional perplexity (INT8 activations per token) -> directory.
// The sweep over objectives, the baselines and the report stay in `halo run` (run_job.hpp).
#pragma once

#include <filesystem>

#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/jobs/quantize_job.hpp"
#include "halo/quant/device_backend.hpp"

namespace halo::jobs {

// The typed options of the HALO steps (from QuantizeJobOptions by halo_quantize_options).
struct HaloQuantizeOptions {
    std::filesystem::path model;       // "" = installed default
    std::filesystem::path calib_text;  // "" = installed calibration text
    std::filesystem::path eval_text;   // "" = no perplexity
    std::filesystem::path out_dir;
    bool force = false;
    std::filesystem::path profile;     // "" = characterize the INT8 MAC (yosys) on osu018, static + energy
    std::filesystem::path work_dir = "halo-work";
    hwq::LadderOptions ladder;
    hwq::HaloOptions halo;
    int samples = 32, seq_len = 256;   // calibration
    int ctx = 512, max_chunks = 8;     // perplexity
    unsigned threads = 0;              // 0 = all cores
    // --stream: one decoder block resident (hwq/halo_streaming.hpp); no Fisher sensitivity, no eval.
    bool stream = false;
    std::int64_t activation_budget_bytes = std::int64_t{2} << 30;
    std::filesystem::path spill_dir;   // "" = system temp
    // --min-expert-tokens was given: it applies only to a mixture-of-experts model quantized in
    // memory (usage E9083 otherwise); a negative threshold is E9084.
    bool min_expert_tokens_given = false;
    // --device cuda: calibration, GPTQ's algebra and the tile costs' fits on the GPU (not owned).
    quant::DeviceBackend* device = nullptr;
    // --calib-int8-inputs: the calibration's activation hooks INT8 per token (the head's input
    // too with --quantize-head), in memory and streamed; CPU only (run_quantize_job refuses
    // --device, E6197).
    bool calib_int8_inputs = false;
};

// The HALO options of `options` (its tile, sensitivity, GPTQ settings and HaloJobOptions),
// checked: E0010 (bad --tile), E9001 (timing), E9003 (levels), E9011 (sensitivity), E9013
// (objective), E9014 (budget outside [0, 1]).
HaloQuantizeOptions halo_quantize_options(const QuantizeJobOptions& options);

// The HALO row's job (methods.hpp): halo_quantize_options, then the steps above.
QuantizeJobResult run_halo_quantize(const QuantizeJobOptions& options, const JobCallbacks& callbacks);

}  // namespace halo::jobs
