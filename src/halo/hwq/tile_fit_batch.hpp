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

// Tile t's weights (row-major inside the tile) and mask, as every fitter reads them.
void gather_tile(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& grid, std::int64_t tile,
                 std::vector<float>& weights, std::vector<std::uint8_t>& tile_mask);

}  // namespace halo::hwq
