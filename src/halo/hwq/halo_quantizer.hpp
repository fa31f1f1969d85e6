// HALO on one linear weight and on a whole model (stages 1-3 of docs/design/halo.md):
//   sensitivity -> dense/sparse split -> per tile and level: codebook + scale + zero fit ->
//   tile-to-level assignment (objective) -> final rounding of every tile with its level's
//   codebook, by GPTQ (error compensation through X^T X) when a Gram is given, else by
//   round-to-nearest. The result is a quant::QuantizedTensor of format int8-asym with per-tile
//   groups: code = the INT8 weight the array multiplies, scale and zero per tile
//   (w = s * (code - z)), the sparse part (per-row INT8 values, FP16-stored, replacing the dense
//   value at its position) and TileMetadata (level and codebook id per tile).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "halo/hwq/assign.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/hwq/sensitivity.hpp"
#include "halo/hwq/sparse_grid.hpp"
#include "halo/hwq/sparse_level.hpp"
#include "halo/hwq/tile_fit.hpp"
#include "halo/hwq/tile_fit_batch.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/phase_seconds.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/progress.hpp"

namespace halo::hwq {

struct HaloOptions {
    std::int64_t tile_k = 128;  // tile extent along the input dimension (array rows)
    std::int64_t tile_n = 128;  // along the output dimension (array cols)
    Objective objective = Objective::bal;
    double budget = 0.5;
    // Codebook budget per level, slowest level first: at most this many of the codes the level
    // allows (0 = all of them); one value applies to every level. The default lets L0 (every
    // INT8 code meets the nominal clock) use all 256 codes, so its tiles are W8-like, while the
    // fast levels keep the codes that meet them (16 at L1, 9 at L2 on the derived ladder).
    std::vector<int> level_codes = {0};
    AssignScope scope = AssignScope::layer;  // per-layer objective, or the model-wide shares below
    std::vector<double> level_shares;        // scope model: share of the weights per level (sum 1)
    // Scope model without shares: `objective` (and `budget`) picked on the model's pooled front,
    // one common lambda for every linear (assign_model_objective; `halo run`'s model@bal).
    bool model_objective = false;
    RankKey rank = RankKey::sensitivity;     // scope model: how tiles are ranked (the paper's rule; measured better)
    int sparse_macs_per_cycle = 256;         // the sparse engine's throughput (accel's energy constants)
    TileFitOptions fit;                      // fit.max_codes: a cap on every level's budget (0 = none)
    SparseSplitOptions sparse;
    SparseGrid sparse_grid = SparseGrid::row;  // the sparse values' grid (sparse_grid.hpp)
    SensitivitySource sensitivity = SensitivitySource::hessian;
    bool gptq = true;
    // --quantize-head: the LM head (a tied model's embedding table as head) quantized and
    // assigned like any linear, after the last block (head_quantizer.hpp); off = FP32 head at L0.
    bool quantize_head = false;
    // --calib-inputs: `sequential` calibrates block l on the model with blocks 0..l-1 already
    // quantized (each block corrects the error before it); `unquantized` on the FP model's hidden
    // states, so every block's statistics are independent of how the others were rounded (what
    // makes a CPU and a GPU run comparable block by block).
    quant::CalibrationInputs calib_inputs = quant::CalibrationInputs::sequential;
    quant::GptqOptions gptq_options;
    unsigned threads = 1;
    // Who fits the tiles (tile_fit_batch.hpp): null = a CpuTileFitter on `threads`; `quantize
    // --device cuda` gives a RoutedTileFitter (large batches on the GPU, GPTQ's refits on the
    // CPU). Not owned; every fitter gives the CPU's fits bit for bit.
    TileFitter* fitter = nullptr;
    // Time by phase (halo_* fields, and GPTQ's and the decode's) is added here when set; not owned.
    quant::PhaseSeconds* phases = nullptr;
};

// Deduplicated codebooks of a model (id = index).
struct CodebookRegistry {
    std::vector<std::vector<int>> books;
    std::map<std::vector<int>, int> ids;
    int id(const std::vector<int>& codes);
};

struct HaloLinearResult {
    quant::QuantizedTensor tensor;
    Assignment assignment;             // levels per tile (row-major over [out x in] tile grid)
    std::vector<TileFit> fits;         // final per-tile fit
    std::vector<int> front_levels_used;
    int switches = 0;                  // level changes in the grouped order (first level free)
    std::int64_t sparse_nnz = 0;
    double sparse_max_error = 0;       // max |w - sparse value| over the sparse part (pre-GPTQ weights)
    std::vector<int> sparse_values;    // distinct INT8 values of the sparse part, ascending
    SparseLevel sparse_level;          // the sparse engine's level (sparse_level.hpp)
};

// "0,16,9" (or one value for every level) -> codebook budgets; E9069 on a malformed list.
std::vector<int> parse_level_codes(std::string_view text);
// Checks the options against the ladder (E9061: a level-code list that is not one value or one
// per level, or a negative budget; E9064: model-wide shares).
void check_options(const HaloOptions& options, const Ladder& ladder);
// The fit options of level l: the level's code budget, capped by fit.max_codes.
TileFitOptions fit_options_for_level(const HaloOptions& options, const Ladder& ladder, std::size_t level);

// Per tile and level of one linear: error, time, energy, tile weights and scores (the inputs of
// assign and assign_model_wide). Pure: weight and statistics in, costs out.
TileCosts linear_tile_costs(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens,
                            const model::Matrix* fisher, const Ladder& ladder, const HaloOptions& options,
                            const std::string& place);

// `gram` empty -> round to nearest; `fisher` null -> Hessian proxy (needs gram, else w^2).
// `levels` given (a model-wide plan): the tiles' levels, skipping the per-layer assignment.
HaloLinearResult quantize_linear_halo(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens,
                                      const model::Matrix* fisher, const Ladder& ladder, const HaloOptions& options,
                                      CodebookRegistry& books, const std::string& place,
                                      const std::vector<int>* levels = nullptr);

struct HaloModelResult {
    quant::QuantizedModel model;       // method "halo"
    CodebookRegistry books;
    std::vector<HaloLinearResult> linears;  // parallel to model.linears (tensors moved there)
    std::vector<std::int64_t> tiles_per_level;
    std::vector<std::int64_t> sparse_linears_per_level;  // linears whose sparse part runs at each level
    int switches = 0;
    // --quantize-head: the head's result (its tensor moved to model.head) and tiles per level;
    // not counted in tiles_per_level, which stay the block linears'.
    std::optional<HaloLinearResult> head;
    std::vector<std::int64_t> head_tiles_per_level;
    int sparse_selector_bits = 0;      // per sparse value (the grid's selector), in the information bits
};

// The model-wide budget's pass 1: every linear's tile costs with the statistics of the
// unquantized model (`fp_calibration` walks the weights as given; null -> w^2 sensitivity),
// then assign_model_wide. With options.quantize_head the head's tiles are ranked with the rest
// and its levels are the plan's last entry. Levels per linear, in quantize_model_halo's order (block-major,
// kLinearKinds order, a MoE block's experts after its attention linears, expert-major). Pass 2 is quantize_model_halo with this plan: GPTQ still refits every
// tile from the weights it has updated, only the levels are fixed.
// With options.model_objective the levels come from assign_model_objective instead of the
// shares, and `objective_plan` keeps its totals (the picked point and the per-layer picks).
struct ModelPlan {
    std::vector<std::vector<int>> levels;
    std::optional<ModelObjectivePlan> objective_plan;
};
ModelPlan plan_model_wide(const model::ModelWeights& weights, const Ladder& ladder, const HaloOptions& options,
                          quant::CalibrationSource* fp_calibration, const model::FisherDiagonal* fisher,
                          ProgressSink progress);
// Each linear shape of a block as the config gives it (a MoE block's: its attention linears and
// an expert's gate, up, down) against the tile (make_grid's errors, E9012), so that a tile that
// does not fit fails before any work: the jobs call it before the profile step (which may
// characterize a MAC for tens of seconds) with the config of the opened model (model::LazyModel).
void check_tiles_fit(const model::ModelConfig& config, const HaloOptions& options);
// Linears of the model as HALO quantizes them: seven per dense block; in a MoE block the four
// attention linears and each expert's gate, up and down.
std::size_t linear_count(const model::ModelWeights& weights);

// The pieces of quantize_model_halo, shared with the block-streaming driver (halo_streaming.hpp):
// an empty result (method, spec, tile counters), and one decoder block: quantizes `layer`'s seven
// linears in place (each becomes its decoded codes), named as block `l`, and appends their
// records to `out` (codebooks, tiles per level, switches and bits carry across blocks;
// `prev_level` is the level the previous block ended on, -1 before the first). `stats` empty
// grams -> RTN rounding; `fisher` the block's seven Fisher diagonals or null; `plan` (scope
// model) the levels of every linear, indexed by the linears `out` holds so far.
HaloModelResult empty_halo_result(const Ladder& ladder, const HaloOptions& options, const ModelPlan* plan = nullptr);
void quantize_block_halo(model::LayerWeights& layer, int l, const std::array<model::LinearInputStats, 7>& stats,
                         const std::array<model::Matrix, 7>* fisher, const Ladder& ladder, const HaloOptions& options,
                         HaloModelResult& out, int& prev_level, Progress* progress,
                         const ModelPlan* plan = nullptr);
// A MoE block's experts (issue 14): each expert's gate, up and down is one more linear, tiled,
// assigned (per layer, or by `plan`) and recorded (LinearRecord::expert) like the block's own,
// from that expert's routed-token Gram (`stats` [n_experts], empty without calibration) and its
// Fisher entries (`fisher` [n_experts] or null). With calibration, an expert no token reached
// is bad input E9081 (rounding it blind would be a silent fallback).
void quantize_experts_halo(model::LayerWeights& layer, int l, const std::vector<model::ExpertInputStats>& stats,
                           const std::vector<model::ExpertWeights>* fisher, const Ladder& ladder, const HaloOptions& options,
                           HaloModelResult& out, int& prev_level, Progress* progress, const ModelPlan* plan = nullptr);

// Streams block by block like quant::quantize_model; `calibration` null -> RTN rounding with
// the w^2 sensitivity (or Fisher when given). `plan` (scope model): the levels of every linear.
// `fisher` (optional) the model's Fisher diagonal, experts included. A MoE block's experts
// follow its own linears (quantize_experts_halo).
HaloModelResult quantize_model_halo(model::ModelWeights& weights, const Ladder& ladder, const HaloOptions& options,
                                    quant::CalibrationSource* calibration, const model::FisherDiagonal* fisher,
                                    ProgressSink progress, const ModelPlan* plan = nullptr);

}  // namespace halo::hwq
