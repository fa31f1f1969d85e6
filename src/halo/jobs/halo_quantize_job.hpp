// `halo quantize --method halo`: HALO as one row of the quantizer table, writing ONE quantized
// model directory with the same layout and manifest schema as every other method (plus the
// HALO files: tile_levels.json, sim_config.json, mac_profile.json; hwq/halo_dir.hpp):
//   profile (given, or the INT8 MAC characterized on osu018) -> ladder -> calibration ->
//   hwq::quantize_model_halo -> optional perplexity (INT8 activations per token) -> directory.
// The sweep over objectives, the baselines and the report stay in `halo run` (run_job.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/util/progress.hpp"

namespace halo::jobs {

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
    // One decoder block resident (hwq/halo_streaming.hpp); no Fisher sensitivity, no eval.
    bool stream = false;
    std::int64_t activation_budget_bytes = std::int64_t{2} << 30;
    std::filesystem::path spill_dir;   // "" = system temp
};

struct HaloQuantizeResult {
    std::string model_name;
    double bits_per_weight = 0;
    double info_bits = 0;
    std::optional<double> perplexity;
    std::vector<std::int64_t> tiles_per_level;
    double seconds = 0;
    struct Streamed {
        int blocks = 0;
        std::int64_t block_fp32_bytes = 0, activation_bytes = 0, calibration_tokens = 0;
        bool activations_spilled = false;
    };
    std::optional<Streamed> streamed;  // set by --stream
};

HaloQuantizeResult run_halo_quantize(const HaloQuantizeOptions& options, ProgressSink progress,
                                     const std::function<void(const std::string&)>& stage);

}  // namespace halo::jobs
