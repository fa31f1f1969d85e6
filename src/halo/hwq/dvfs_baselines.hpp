// DVFS-aware uniform baselines (issue #15): RTN and GPTQ rows quantized with a uniform integer
// grid and a scale (and, asymmetric, a zero point) per array tile, every tile then placed at
// the fastest DVFS level of the ladder its codes allow. They get the same per-tile freedom HALO
// has, only not its fast-code codebooks, so the comparison is not won by construction.
//
// The array multiplies signed INT8 values. A code c of a uniform format drives the multiplier
// with  m(c) = (v(c) << shift) + offset  and the tile's zero point becomes
// z_m = (z << shift) + offset, its scale s_m = s / 2^shift, so  s_m * (m(c) - z_m) = s * (v(c) - z)
// exactly (a power-of-two rescale). Per element type:
//   signed intN (N <= 8): shift 0, offset 0   (values -2^(N-1) .. 2^(N-1)-1; negatives are slow)
//   unsigned uintN (N <= 7): shift 7 - N, offset 0: the code sits in the top magnitude bits,
//     below the sign bit (uint4 -> 0, 8, ..., 120: HALO's 16-code middle-level grid on osu018)
//   uint8: shift 0, offset -128 (the full signed range)
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "halo/accel/workload.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/quant/model_quantizer.hpp"

namespace halo::hwq {

struct MultiplierMap {
    int shift = 0;
    int offset = 0;
    int value(int element_value) const { return element_value * (1 << shift) + offset; }
};
// E9051 (bad input) when the spec is not a uniform integer format of at most 8 bits.
MultiplierMap multiplier_map(const quant::QuantSpec& spec);
// The multiplier input of one code.
int multiplier_value(const quant::QuantSpec& spec, const MultiplierMap& map, std::uint8_t code);

// The fastest level (highest index) every value meets; 0 when some value meets only level 0.
// The plain definition: a level is allowed iff every value meets it (Ladder::meets).
std::size_t fastest_level(const Ladder& ladder, std::span<const int> values);

// Fills `t.tiles` (tile_rows x tile_cols over the weight's [out x in] grid, row-major, as HALO's
// quantizer does) with each tile's fastest level and codebook id -1. E9052 on a tile size < 1.
void place_tiles_at_fastest_levels(quant::QuantizedTensor& t, const Ladder& ladder, std::int64_t tile_rows,
                                   std::int64_t tile_cols);

// The simulator's tile levels of a model whose linears carry tiles: per tile the level placed
// above and the histogram of the multiplier values its codes drive; zero_point for asymmetric
// formats (the array then charges the z * sum(a) correction, as for HALO).
accel::ModelTileLevels dvfs_baseline_tile_levels(const quant::QuantizedModel& qm, const model::ModelConfig& config);

}  // namespace halo::hwq
