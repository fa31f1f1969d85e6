// The sparse engine's DVFS level (HALO stage 3: "the sparse part picks the lowest-energy level
// that meets its timing"). The sparse part of a linear runs on its own engine beside the array;
// per layer it picks, among the ladder's levels,
//   timing:   every INT8 value of the sparse part meets the level (the sparse engine's
//             multipliers are ASSUMED to be the characterized INT8 MAC, so a value's critical
//             path must fit the level's period: Ladder::meets), and
//   deadline: the engine finishes beside the dense tiles, nnz / (P f_s) <= sum_t 1 / f_t per
//             token (a weight-stationary tile takes one cycle per token at its level's clock;
//             P = the engine's MACs per cycle),
// the one of lowest energy: energy per MAC scales with V^2, so the lowest voltage, then the
// lowest clock. When no level meets both, the fastest level the values meet (the deadline is
// missed, said in `meets_deadline`). An empty sparse part runs at L0.
#pragma once

#include <cstdint>
#include <span>

#include "halo/hwq/ladder.hpp"

namespace halo::hwq {

struct SparseLevel {
    int level = 0;
    bool meets_deadline = true;
};

// `values`: the distinct INT8 values of the sparse part; `dense_time_us_per_token`:
// sum over the layer's tiles of 1 / f_t (f in MHz); `macs_per_cycle` >= 1.
SparseLevel sparse_engine_level(const Ladder& ladder, std::span<const int> values, std::int64_t nnz,
                                double dense_time_us_per_token, int macs_per_cycle);

}  // namespace halo::hwq
