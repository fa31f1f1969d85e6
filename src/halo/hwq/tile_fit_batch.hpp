// Many tile fits per call: the seam between HALO's quantizer and whatever fits the tiles. The
// quantizer asks for a batch of (tile, level) jobs over one weight matrix, twice per linear:
// every tile at every level (the costs the assignment weighs), then, per GPTQ column block,
// the block's tiles at their assigned levels from the weights as GPTQ has updated them.
//   CpuTileFitter   the reference: per tile, tile_histogram once, then fit_histogram per job
//                   (tile_fit.hpp), tiles spread over threads.
//   cuda's fitter   (cuda/cuda_tile_fit.hpp) the same two steps in one kernel launch per batch,
//                   equal to the CPU bit for bit (tests/unit/cuda/cuda_tile_fit_test.cpp).
// HaloOptions::fitter picks one; null means a CpuTileFitter with HaloOptions::threads.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "halo/hwq/sensitivity.hpp"
#include "halo/hwq/tile_fit.hpp"
#include "halo/model/weights.hpp"

namespace halo::hwq {

// One DVFS level as the fitter sees it: its allowed codes (ascending), their MAC energies (by
// index into allowed; may be empty), and the fit options (the level's codebook budget).
struct LevelCodebook {
    std::vector<int> allowed;
    std::vector<double> energy_fj;
    TileFitOptions options;
};

// Tile `tile` (row-major index in the grid) fitted at level `level` (index into the levels).
struct TileFitJob {
    std::int64_t tile = 0;
    int level = 0;
};

class TileFitter {
public:
    virtual ~TileFitter() = default;
    virtual std::string describe() const = 0;
    // fits[i] == fit_tile(tile jobs[i].tile of w with its mask, levels[jobs[i].level]) for every
    // i, in job order. `w` is [grid.rows x grid.cols] row-major; `mask` the same size (1 = dense
    // weight, 0 = sparse, excluded from the fit).
    virtual std::vector<TileFit> fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& grid,
                                     std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels) = 0;
};

class CpuTileFitter final : public TileFitter {
public:
    explicit CpuTileFitter(unsigned threads) : threads_(threads) {}
    std::string describe() const override { return "cpu"; }
    std::vector<TileFit> fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& grid,
                             std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels) override;

private:
    unsigned threads_;
};

// Batches of fewer than `min_jobs` jobs to a CpuTileFitter, the rest to `large` (the GPU's).
// GPTQ's refits come one column block at a time (a few dozen tiles, each batch waiting for the
// last): on the GPU each paid a launch's and a copy's latency on a nearly idle device (~9 ms a
// batch on the H200, 2.6 s per Llama-2-7B block), on 16 host threads a few dozen fits take about
// a millisecond. Both fitters give the CPU's fits bit for bit, so the routing changes times only.
class RoutedTileFitter final : public TileFitter {
public:
    RoutedTileFitter(TileFitter& large, unsigned threads, std::size_t min_jobs) : large_(large), small_(threads), min_jobs_(min_jobs) {}
    std::string describe() const override;
    std::vector<TileFit> fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& grid,
                             std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels) override;

private:
    TileFitter& large_;
    CpuTileFitter small_;
    std::size_t min_jobs_;
};
// The batch size from which HALO's quantize hands tile fits to the device: a whole linear's
// costs (every tile at every level, thousands of jobs) go to the GPU, GPTQ's refits stay here.
inline constexpr std::size_t kDeviceTileFitMinJobs = 1024;
// What HALO's quantizer calls: `fitter`'s fits, then refit_exact (tile_fit.hpp) of every job
// on the CPU over `threads`, each tile gathered once, with importance column_weight[c] for
// every weight of input column c (empty: 1). The exact step is outside the fitters, so a CPU
// and a CUDA fitter that agree bit for bit still give the same result here.
std::vector<TileFit> fit_tiles_exact(TileFitter& fitter, const model::Matrix& w, std::span<const std::uint8_t> mask,
                                     const TileGrid& grid, std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels,
                                     unsigned threads, std::span<const float> column_weight = {});

// Tile t's weights (row-major inside the tile) and mask, as every fitter reads them.
void gather_tile(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& grid, std::int64_t tile,
                 std::vector<float>& weights, std::vector<std::uint8_t>& tile_mask);

}  // namespace halo::hwq
