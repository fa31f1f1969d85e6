// Assigning tiles to DVFS levels (HALO stage 3). Per tile t and level l the quantizer measured
//   err[t][l] = score_t * mse_t(l)      (sensitivity-weighted quantization error)
//   time_l    = weights_t / f_l         (a weight-stationary tile's compute time is ~ 1/f)
//   energy[t][l] = weights_t * mean_energy_fj_t(l) * (V_l / V_0)^2
// The Lagrangian  min_l err + lambda * cost  (cost = time or energy) over a lambda grid traces
// the error/cost front of the whole matrix. The objectives (a table) pick a point on it:
//   least-error  lambda = 0: least error (ties go to the faster level); with every INT8 code at
//           the nominal level this is every tile at L0, as fast as uniform INT8
//   acc     every tile at its least-error raised level (levels 1..n-1; ties to the faster
//           level): the most accurate point that runs no tile at the nominal clock, as no
//           variant of the paper does; on a nested ladder (each faster level's codes a subset of
//           the slower one's) that is every tile at L1. With one level, the least-error point.
//   perf    the fastest front point with err <= E_min + budget * (E_fast - E_min), where E_min
//           is least-error's error and E_fast the error with every tile at the fastest level
//   bal     the knee: the front point farthest below the chord from the fastest to the most
//           accurate (least-error) point (both axes normalized to [0, 1])
//   energy  like perf but minimizing energy
// These pick per linear layer (scope "layer"). Scope "model" (assign_model_wide) is HALO's split
// by the cumulative sensitivity distribution over the whole model: every tile of every linear
// is ranked (most sensitive first) and the ranked weights are cut into consecutive shares, one
// per level, slowest (most accurate) level first.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace halo::hwq {

enum class Objective : std::uint8_t { perf, acc, bal, energy, least_error };  // the order of objectives()
struct ObjectiveTraits {
    Objective id;
    std::string_view name;
    std::string_view summary;
};
std::span<const ObjectiveTraits> objectives();
const ObjectiveTraits& objective(std::string_view name);  // E9013 otherwise

struct TileCosts {
    std::size_t n_tiles = 0, n_levels = 0;
    std::vector<double> weights;   // [t]: dense + sparse weights of the tile
    std::vector<double> score;     // [t]: mean sensitivity per weight (the tile score)
    std::vector<double> err;       // [t * n_levels + l]
    std::vector<double> time;      // [t * n_levels + l]
    std::vector<double> energy;    // [t * n_levels + l]
    double at(const std::vector<double>& v, std::size_t t, std::size_t l) const { return v[t * n_levels + l]; }
};

struct Assignment {
    std::vector<int> level;  // per tile
    double err = 0, time = 0, energy = 0;
};
Assignment evaluate(const TileCosts& c, std::vector<int> level);
// One front point per lambda (cost = time, or energy when `by_energy`), deduplicated, sorted by cost.
std::vector<Assignment> front(const TileCosts& c, bool by_energy);
// E9014 when budget is outside [0, 1].
Assignment assign(const TileCosts& c, Objective objective, double budget);

// Per-layer or model-wide assignment; the model-wide ranking key.
enum class AssignScope : std::uint8_t { layer, model };
struct AssignScopeTraits {
    AssignScope id;
    std::string_view name;
    std::string_view summary;
};
std::span<const AssignScopeTraits> assign_scopes();
const AssignScopeTraits& assign_scope(std::string_view name);  // E9062 otherwise

enum class RankKey : std::uint8_t { error, sensitivity };
struct RankKeyTraits {
    RankKey id;
    std::string_view name;
    std::string_view summary;
};
std::span<const RankKeyTraits> rank_keys();
const RankKeyTraits& rank_key(std::string_view name);  // E9063 otherwise

// Checks a model-wide budget: one share per level, each in [0, 1], summing to 1 (E9064).
void check_level_shares(std::span<const double> shares, std::size_t n_levels);
// "0.2/0.5/0.3" (or with commas) -> shares; E9072 on a malformed list.
std::vector<double> parse_level_shares(std::string_view text);

// The model-wide budget: `layers[i]` are linear i's tile costs (weights and score filled).
// Tiles are ranked by `key` (sensitivity: the tile score, the paper's rule and the default;
// error: err(fastest) - err(L0) per weight, the sensitivity-weighted error a weight gains by
// leaving L0), most
// sensitive first, ties by (linear, tile) order; walking that order, a tile goes to the slowest
// level l whose cumulative share boundary sum_{j<=l} shares[j] * W is not yet passed by the
// tile's midpoint. So the weights at each level differ from shares[l] * W by at most one tile at
// each of its two boundaries. Returns levels per linear, parallel to `layers`.
std::vector<std::vector<int>> assign_model_wide(std::span<const TileCosts> layers, std::span<const double> shares,
                                                RankKey key);

// The model-wide objective point (`model@bal` in `halo run`): every linear's tiles pooled into
// one TileCosts and `objective` picked on that pooled front (assign above). The Lagrangian is
// separable per tile, so one front point of the pool is one common lambda for every linear: an
// assignment on the model's own error/time front, where per-layer picks (scope layer) put each
// linear at its own lambda, so the sum of per-layer knees is in general off the model's front
// (a cheaper assignment with the same summed error exists). The knee's chord runs from the
// model's fastest point to its most accurate one. Levels per linear, parallel to `layers`.
// Assumes the layers' errors are on one scale (the sensitivity-weighted error of
// linear_tile_costs: w^2 (X^T X)_jj / tokens times the squared rounding error).
struct ModelObjectivePlan {
    std::vector<std::vector<int>> levels;
    Assignment chosen;     // pooled totals of the picked point (level left empty)
    Assignment per_layer;  // pooled totals of each linear's own pick by the same objective, for comparison
};
ModelObjectivePlan assign_model_objective(std::span<const TileCosts> layers, Objective objective, double budget);

// Execution order of a layer's tiles grouped by level (fastest level first keeps the array at
// the top clock longest; within a level, natural order), and the level switches it needs
// starting from `start_level` (-1: the first level is free).
std::vector<std::size_t> grouped_order(std::span<const int> level);
int switches(std::span<const int> level, std::span<const std::size_t> order, int start_level);

}  // namespace halo::hwq
