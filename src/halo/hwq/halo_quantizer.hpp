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
#include <vector>

#include "halo/hwq/assign.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/hwq/sensitivity.hpp"
#include "halo/hwq/tile_fit.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/progress.hpp"

namespace halo::hwq {

struct HaloOptions {
    std::int64_t tile_k = 128;  // tile extent along the input dimension (array rows)
    std::int64_t tile_n = 128;  // along the output dimension (array cols)
    Objective objective = Objective::bal;
    double budget = 0.5;
    TileFitOptions fit;
    SparseSplitOptions sparse;
    SensitivitySource sensitivity = SensitivitySource::hessian;
    bool gptq = true;
    quant::GptqOptions gptq_options;
    unsigned threads = 1;
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
};

// `gram` empty -> round to nearest; `fisher` null -> Hessian proxy (needs gram, else w^2).
HaloLinearResult quantize_linear_halo(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens,
                                      const model::Matrix* fisher, const Ladder& ladder, const HaloOptions& options,
                                      CodebookRegistry& books, const std::string& place);

struct HaloModelResult {
    quant::QuantizedModel model;       // method "halo"
    CodebookRegistry books;
    std::vector<HaloLinearResult> linears;  // parallel to model.linears (tensors moved there)
    std::vector<std::int64_t> tiles_per_level;
    int switches = 0;
};

// The pieces of quantize_model_halo, shared with the block-streaming driver (halo_streaming.hpp):
// an empty result (method, spec, tile counters), and one decoder block: quantizes `layer`'s seven
// linears in place (each becomes its decoded codes), named as block `l`, and appends their
// records to `out` (codebooks, tiles per level, switches and bits carry across blocks;
// `prev_level` is the level the previous block ended on, -1 before the first). `stats` empty
// grams -> RTN rounding; `fisher` the block's seven Fisher diagonals or null.
HaloModelResult empty_halo_result(const Ladder& ladder, const HaloOptions& options);
void quantize_block_halo(model::LayerWeights& layer, int l, const std::array<model::LinearInputStats, 7>& stats,
                         const std::array<model::Matrix, 7>* fisher, const Ladder& ladder, const HaloOptions& options,
                         HaloModelResult& out, int& prev_level, Progress* progress);

// Streams block by block like quant::quantize_model; `calibration` null -> RTN rounding with
// the w^2 sensitivity (or Fisher when given).
HaloModelResult quantize_model_halo(model::ModelWeights& weights, const Ladder& ladder, const HaloOptions& options,
                                    quant::CalibrationSource* calibration,
                                    const std::vector<std::array<model::Matrix, 7>>* fisher, ProgressSink progress);

}  // namespace halo::hwq
