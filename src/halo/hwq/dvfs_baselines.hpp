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
//   unsigned uintN (N <= 7): the embedding is chosen per ladder among shift 0 .. 8 - N with
//     offset 0 or -128 (every value inside -128..127): the one whose full code set meets the
//     fastest level, ties to the first of (7 - N, 0), then larger shifts first, offset 0 first.
//     uint4 -> 8c (0, 8, ..., 120: HALO's 16-code middle-level grid on the yosys osu018 MAC) or
//     16c - 128 (-128, -112, ..., 112: the booth4 MAC's middle level)
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
// E9051 (bad input) when the spec is not a uniform integer format of at most 8 bits. Without a
// ladder, unsigned codes of N <= 7 bits take (7 - N, 0).
MultiplierMap multiplier_map(const quant::QuantSpec& spec, const Ladder* ladder = nullptr);
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
// above and the histogram of the multiplier values its codes drive (the ladder's embedding); zero_point for asymmetric
// formats (the array then charges the z * sum(a) correction, as for HALO). A quantized head
// (qm.head, `halo run --quantize-head`) placed by place_tiles_at_fastest_levels becomes the
// simulator's "output" GEMM (E9161, internal, when it carries no tile levels).
accel::ModelTileLevels dvfs_baseline_tile_levels(const quant::QuantizedModel& qm, const model::ModelConfig& config,
                                                 const Ladder& ladder);

}  // namespace halo::hwq
