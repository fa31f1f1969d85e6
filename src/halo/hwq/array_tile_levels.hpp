// A quantized tensor's tile levels in the simulator's layout (accel::TileLevels), shared by the
// HALO directory writer (halo_dir.cpp) and the DVFS-aware baselines (dvfs_baselines.cpp).
// The weight is rows x cols (outputs x inputs); the array sees it as K x N (inputs x outputs),
// so the tile grid and the level table are transposed; each tile's code histogram counts the
// INT8 value the array multiplies for every weight, `multiplier_code(row, col)` as a byte.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "halo/accel/dvfs.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/parallel.hpp"

namespace halo::hwq {

template <class MultiplierCode>
accel::TileLevels array_tile_levels(const quant::QuantizedTensor& t, bool zero_point, MultiplierCode multiplier_code,
                                    unsigned threads = 1) {
    accel::TileLevels tl;
    tl.tile_rows = t.tiles.tile_cols;  // the array's K extent: the weight's input columns
    tl.tile_cols = t.tiles.tile_rows;  // N extent: its output rows
    tl.n_tiles = (t.rows() + t.tiles.tile_rows - 1) / t.tiles.tile_rows;  // N tiles (outputs)
    tl.k_tiles = (t.cols() + t.tiles.tile_cols - 1) / t.tiles.tile_cols;  // K tiles (inputs)
    tl.weight_format = "int8";
    tl.zero_point = zero_point;
    const std::int64_t nrt = tl.n_tiles, nct = tl.k_tiles, tr = t.tiles.tile_rows, tc = t.tiles.tile_cols;
    tl.level.assign(static_cast<std::size_t>(nrt * nct), 0);
    tl.code_histogram.assign(tl.level.size(), std::vector<std::uint64_t>(256, 0));
    for (std::int64_t rt = 0; rt < nrt; ++rt)
        for (std::int64_t ct = 0; ct < nct; ++ct)
            tl.level[static_cast<std::size_t>(ct * nrt + rt)] = t.tiles.level[static_cast<std::size_t>(rt * nct + ct)];
    // A row of weight tiles fills its own histograms (entries ct * nrt + rt), so row tiles split
    // among threads; integer counts, the same for any split.
    parallel_for(static_cast<std::size_t>(nrt), threads, [&](std::size_t row_tile, unsigned) {
        const auto rt = static_cast<std::int64_t>(row_tile);
        for (std::int64_t rr = rt * tr; rr < std::min(t.rows(), (rt + 1) * tr); ++rr)
            for (std::int64_t ct = 0; ct < nct; ++ct) {
                auto& h = tl.code_histogram[static_cast<std::size_t>(ct * nrt + rt)];
                for (std::int64_t cc = ct * tc; cc < std::min(t.cols(), (ct + 1) * tc); ++cc)
                    ++h[static_cast<std::uint8_t>(multiplier_code(rr, cc))];
            }
    });
    return tl;
}

}  // namespace halo::hwq
