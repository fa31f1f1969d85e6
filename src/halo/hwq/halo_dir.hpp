// Writing a HALO result as the quant engine's quantized model directory (docs/formats.md
// "Quantized model directory") plus what the simulator reads:
//   DIR/manifest.json     the quant manifest (per-linear tiles: level, codebook_id) with a
//                         "halo" section: ladder (levels, voltage model, timing, guard band),
//                         codebooks (id -> INT8 values), objective, tile, switch and level counts
//   DIR/tile_levels.json  accel's "halo-tile-levels" (levels per K x N tile, code histograms,
//                         sparse_nnz), written by accel's writer (accel/workload.hpp)
//   DIR/sim_config.json   accel's simulator config (accel/sim_config.hpp): the array the tiles
//                         were sized for, the ladder's DVFS table, the energy constants
//   DIR/mac_profile.json  the MAC profile the ladder came from (mac/profile.hpp), when it has
//                         energies: the simulator's per-code MAC energy table
// `halo simulate --quantized DIR` reads all three, so it prices the tiles on the machine the
// quantizer meant. The whole directory is staged and renamed into place (atomic).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "halo/mac/profile.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/quant_dir.hpp"

namespace halo::hwq {

// tile_levels.json built one linear at a time (the streaming driver frees each block's codes);
// `sparse_level` is the level its sparse part runs at (HaloLinearResult::sparse_level), -1 for none.
accel::ModelTileLevels empty_tile_levels(const model::ModelConfig& config, const std::string& model_name);
void add_tile_levels(accel::ModelTileLevels& levels, const quant::LinearRecord& rec, int sparse_level, unsigned threads = 1);
// The quantized head's entry (the simulator's "output" GEMM), after every linear's.
void add_head_tile_levels(accel::ModelTileLevels& levels, const quant::HeadRecord& head, int sparse_level, unsigned threads = 1);
// With a quantized head (r.model.head) it adds the simulator's "output" GEMM.
accel::ModelTileLevels tile_levels_of(const HaloModelResult& r, const model::ModelConfig& config, const std::string& model_name);
// The ladder's levels as the simulator's DVFS table (nominal = L0; switch costs at their defaults).
accel::DvfsTable dvfs_table(const Ladder& ladder);
// Bits of information per weight (over the block linears and, when quantized, the head): per tile ceil(log2 |codebook|) per weight, plus scale (16) and
// zero (8) per tile, the sparse part (INT8 value + 32-bit index + the grid's selector bits per
// value, FP16 row scale per row with sparse entries), and the codebooks (8 bits per entry, once per model).
double information_bits_per_weight(const HaloModelResult& r);
// Those bits per GEMM, named as the simulator's workload names them (linears, and "output" for a
// quantized head): what each linear reads from DRAM when stored as per-tile codebook indices
// (--halo-storage indices). The codebooks, stored once per model, are spread over every weight
// alike, so the weight-weighted mean of these equals information_bits_per_weight(r).
std::vector<std::pair<std::string, double>> index_bits_by_gemm(const HaloModelResult& r);
// The same sum one linear at a time; per_weight adds the codebooks (registered by then).
struct InformationBits {
    double bits = 0, weights = 0;
    int sparse_selector_bits = 0;  // per sparse value: SparseGridTraits::selector_bits
    void add(const quant::QuantizedTensor& tensor, const CodebookRegistry& books);
    double per_weight(const CodebookRegistry& books) const;
};

// The pieces of write_halo_dir, shared with the streaming driver's QuantizedDirWriter:
// the quant options the manifest records, the manifest's "halo" section, and the simulator's
// files (tile_levels.json, sim_config.json, mac_profile.json when `energy_profile`).
quant::QuantizeOptions halo_quantize_options(const HaloOptions& options);
nlohmann::json halo_manifest_section(const HaloModelResult& r, double information_bits_per_weight, const Ladder& ladder,
                                     const HaloOptions& options);
std::vector<std::pair<std::string, std::string>> halo_extra_files(const accel::ModelTileLevels& tile_levels,
                                                                  const accel::SystolicOptions& machine,
                                                                  const mac::MacProfile* energy_profile);

// `machine`: the simulator options the tiles are meant for (its dvfs is the ladder's table);
// `energy_profile`: the MAC profile when it has energies, else null (flat MAC energy).
void write_halo_dir(const std::filesystem::path& dir, const HaloModelResult& r, const Ladder& ladder,
                    const HaloOptions& options, const quant::RunInfo& info, const model::ModelConfig& config,
                    const std::string& model_name, bool overwrite, const accel::SystolicOptions& machine,
                    const mac::MacProfile* energy_profile);

}  // namespace halo::hwq
