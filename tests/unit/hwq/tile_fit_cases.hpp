// Shared by the CPU batch fitter's test and the CUDA fitter's test (tests/unit/cuda): a weight
// matrix whose tile grid has partial tiles, a constant tile, a tile that is all sparse and
// outliers, and four levels that take every path of fit_histogram (all 256 codes; 16 codes,
// all non-negative; a 9-code budget out of 40 with energies, some NaN, and an energy weight,
// which runs the Lloyd selection; a single code).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "halo/hwq/tile_fit_batch.hpp"

namespace halo::hwq::tile_cases {

struct TileFitCase {
    model::Matrix w;
    std::vector<std::uint8_t> mask;
    TileGrid grid;
    std::vector<LevelCodebook> levels;
};

inline TileFitCase tile_fit_case(std::int64_t rows = 300, std::int64_t cols = 260, std::int64_t tile = 128, unsigned seed = 7) {
    TileFitCase c;
    c.grid = {rows, cols, tile, tile};
    c.w = model::Matrix(rows, cols);
    c.mask.assign(static_cast<std::size_t>(rows * cols), 1);
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t col = 0; col < cols; ++col) {
            float v = normal(rng) * (1.0f + static_cast<float>(col % 7));  // per-channel scales
            if (uniform(rng) < 0.002f) v *= 25.0f;                          // outliers
            c.w.at(r, col) = v;
            c.mask[static_cast<std::size_t>(r * cols + col)] = uniform(rng) < 0.01f ? 0 : 1;
        }
    // Tile (0, 1): constant. Tile (1, 0): every weight sparse.
    for (std::int64_t r = 0; r < std::min(rows, tile); ++r)
        for (std::int64_t col = tile; col < std::min(cols, 2 * tile); ++col) {
            c.w.at(r, col) = 0.0375f;
            c.mask[static_cast<std::size_t>(r * cols + col)] = 1;
        }
    for (std::int64_t r = tile; r < std::min(rows, 2 * tile); ++r)
        for (std::int64_t col = 0; col < std::min(cols, tile); ++col) c.mask[static_cast<std::size_t>(r * cols + col)] = 0;
    LevelCodebook all, fast, budget, single;
    for (int v = -128; v < 128; ++v) all.allowed.push_back(v), all.energy_fj.push_back(10.0 + std::abs(v) * 0.25);
    for (int v = 0; v < 16; ++v) fast.allowed.push_back(v * 3), fast.energy_fj.push_back(5.0 + v);
    for (int v = -20; v < 20; ++v) {
        budget.allowed.push_back(v * 2);
        budget.energy_fj.push_back(v % 5 == 0 ? std::numeric_limits<double>::quiet_NaN() : 4.0 + (v * v) % 11);
    }
    budget.options.max_codes = 9;
    budget.options.energy_weight = 0.3;
    single.allowed = {5};
    c.levels = {all, fast, budget, single};
    return c;
}

// Every tile at every level.
inline std::vector<TileFitJob> every_job(const TileFitCase& c) {
    std::vector<TileFitJob> jobs;
    for (std::int64_t t = 0; t < c.grid.count(); ++t)
        for (std::size_t l = 0; l < c.levels.size(); ++l) jobs.push_back({t, static_cast<int>(l)});
    return jobs;
}

}  // namespace halo::hwq::tile_cases
