// Writing a HALO result as the quant engine's quantized model directory (docs/formats.md
// "Quantized model directory") plus what the simulator reads:
//   DIR/manifest.json     the quant manifest (per-linear tiles: level, codebook_id) with a
//                         "halo" section: ladder (levels, voltage model, timing, guard band),
//                         codebooks (id -> INT8 values), objective, tile, switch and level counts
//   DIR/tile_levels.json  accel's "halo-tile-levels" (levels per K x N tile, code histograms,
//                         sparse_nnz)
//   DIR/sim_config.json   accel's simulator config with the ladder's DVFS table, so
//                         `halo simulate --quantized DIR --config-file DIR/sim_config.json`
//                         simulates the levels the quantizer meant
// The whole directory is staged and renamed into place (atomic).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "halo/halo/halo_quantizer.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/quant_dir.hpp"

namespace halo::halo {

nlohmann::json tile_levels_json(const HaloModelResult& r, const model::ModelConfig& config, const std::string& model_name,
                                const HaloOptions& options);
nlohmann::json sim_config_json(const Ladder& ladder);
// Bits of information per weight: per tile ceil(log2 |codebook|) per weight, plus scale (16) and
// zero (8) per tile, the sparse part (INT8 value + 32-bit index + FP16 row scale per row with
// sparse entries), and the codebooks (8 bits per entry, once per model).
double information_bits_per_weight(const HaloModelResult& r);

void write_halo_dir(const std::filesystem::path& dir, const HaloModelResult& r, const Ladder& ladder,
                    const HaloOptions& options, const quant::RunInfo& info, const model::ModelConfig& config,
                    const std::string& model_name, bool overwrite);

}  // namespace halo::halo
