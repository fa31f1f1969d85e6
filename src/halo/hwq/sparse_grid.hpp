// The sparse part's value grid (HALO stage 1's dense-and-sparse split: the values the sparse
// engine multiplies). A sparse value is an INT8 code q in [-127, 127] times a scale, stored as
// fp16(scale * q); the engine's multipliers see q (sparse_level.hpp times them).
//
// Grid table (one row per rule, `--sparse-grid`):
//   row          scale s_r = fp16(1.1 max|w| / 127) over the row's sparse weights (10 % headroom
//                for GPTQ's updates). One large outlier puts the row's moderate sparse weights,
//                and its salient ones inside the tile's range, on a grid coarser than their
//                tile's dense grid (docs/results/halo.md, part G item 4).
//   row-or-tile  each value also tries its tile's dense scale s_t (the INT8 step every level's
//                codebook of the tile sits on) with q = round(v / s_t) where |q| <= 127; the grid
//                with the smaller |v - fp16(s q)| wins, the row's on a tie. A value within
//                ±127 s_t is then never rounded coarser than the tile's grid (error <= s_t / 2
//                plus FP16's rounding). ASSUMED hardware: one selector bit per value says which
//                scale the engine's result is multiplied by (the tile's scale is already on chip
//                for the dense array); the bit is counted in the information bits.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace halo::hwq {

enum class SparseGrid : std::uint8_t { row, row_or_tile };
struct SparseGridTraits {
    SparseGrid id;
    std::string_view name;     // as --sparse-grid takes it
    int selector_bits;         // per sparse value, in the information bits
    std::string_view summary;  // for --help
};
std::span<const SparseGridTraits> sparse_grids();
const SparseGridTraits& sparse_grid(std::string_view name);  // E9176 otherwise
const SparseGridTraits& sparse_grid(SparseGrid id);

struct SparseValue {
    int code = 0;       // the INT8 code the sparse engine multiplies, in [-127, 127]
    bool tile = false;  // true: on the tile's scale; false: on the row's
    float value = 0;    // fp16(scale * code): what decodes
};
// The rule above for weight `v` (after GPTQ's updates, when it runs). `row_scale` > 0;
// `tile_scale` is tried only by row_or_tile and only when finite and > 0.
SparseValue sparse_value(float v, float row_scale, float tile_scale, SparseGrid grid);

}  // namespace halo::hwq
