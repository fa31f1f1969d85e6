// Per-tile DVFS on the systolic array. Each weight tile (one array's worth of weights, K x N
// block of tile_rows x tile_cols) carries a frequency level; the array runs a fold at the level
// its slowest tile allows, pays a switch penalty whenever the level changes, and may reorder
// the folds of a layer so tiles of one level run together (as HALO does), where the dataflow
// keeps that legal: the reordered folds' partial sums must stay on chip.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/accel/systolic.hpp"

namespace halo::accel {

struct DvfsLevel {
    std::string name;
    double freq_mhz = 0;
    double voltage_v = 0;
};

struct DvfsTable {
    std::vector<DvfsLevel> levels;  // index = level number used by TileLevels
    int nominal = 0;                // the baseline level (and the voltage energies are scaled to)
    double switch_penalty_ns = 1000;  // stall per level change (HALO: tens of ns to a few us)
    double switch_energy_nj = 10;     // assumption: regulator + clock re-lock energy per change
};
// HALO's systolic-array levels: (1.0 V, 1.9 GHz) nominal, (1.1 V, 2.4 GHz), (1.2 V, 3.7 GHz).
DvfsTable halo_systolic_levels();
// Throws E7020 when the table is empty, a level is non-positive or nominal is out of range.
void validate(const DvfsTable& table);

// The levels (and optional code histograms) of one linear layer's weight tiles.
struct TileLevels {
    std::int64_t tile_rows = 0;  // K extent of a tile (= array rows)
    std::int64_t tile_cols = 0;  // N extent of a tile (= array cols)
    std::int64_t k_tiles = 0;
    std::int64_t n_tiles = 0;
    std::vector<int> level;  // [k_tiles * n_tiles], index kt * n_tiles + nt
    // Per tile, the count of each weight code (index = code as an unsigned integer, MSB first
    // as in the MAC profile); empty = every code equally often (uniform).
    std::vector<std::vector<std::uint64_t>> code_histogram;
    std::string weight_format = "int8";
    // Tiles carry a zero point (w = s * (c - z), HALO's asymmetric codebooks): the array multiplies
    // the codes c, and an output-side unit subtracts z * sum(a) once per output and K-tile.
    bool zero_point = false;

    int at(std::int64_t kt, std::int64_t nt) const { return level[static_cast<std::size_t>(kt * n_tiles + nt)]; }
};

// Every tile of a K x N weight at one level.
TileLevels uniform_tile_levels(std::int64_t K, std::int64_t N, std::int64_t tile_rows, std::int64_t tile_cols, int level);
// Throws E7021 when the tile grid does not cover K x N with the array's tile size, a level is
// outside the table, or a histogram has the wrong count; `place` names the layer.
void validate(const TileLevels& tiles, const Gemm& gemm, const ArrayConfig& array, const DvfsTable& table,
              const std::string& place);

enum class Reorder : std::uint8_t { none, by_level };

// The levels of a layer's folds in SCALE-Sim's execution order (column fold outer, row fold
// inner) and the segments inside which folds may be reordered.
struct FoldPlan {
    std::vector<int> fold_level;        // natural order
    std::vector<std::size_t> segments;  // segment start offsets into fold_level (first is 0)
};
FoldPlan plan_folds(const TileLevels& tiles, const Gemm& gemm, const ArrayConfig& array);

struct FoldSchedule {
    std::vector<int> order_level;  // levels in execution order
    int switches = 0;              // level changes, counting one from `start_level` if it differs
    int end_level = 0;
};
// Executes the plan starting at `start_level` (the level left by the previous layer). With
// by_level, each segment's folds are grouped by level, the group at the current level first,
// then the others sweeping away from it; never more switches than the natural order.
FoldSchedule schedule_folds(const FoldPlan& plan, Reorder reorder, int start_level);
int count_switches(const std::vector<int>& levels, int start_level);

}  // namespace halo::accel
