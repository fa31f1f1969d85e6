// Weight sensitivity and the dense/sparse split (HALO stage 1).
//
// Sensitivity table (one row per source):
//   fisher   the Fisher diagonal: mean over calibration samples of the squared gradient of the
//            loss w.r.t. each weight (model::fisher_diagonal), HALO's choice;
//   hessian  a proxy needing no backward pass: s_ij = w_ij^2 * (X^T X)_jj / tokens, the loss
//            increase of zeroing w_ij under the layer-wise quadratic model (OBD saliency with the
//            GPTQ Hessian's diagonal). Rows = output channels, cols = input channels.
// Tile score = mean sensitivity over the tile's weights (HALO: sum / tile area).
//
// Sparse part: the `salient_fraction` most sensitive weights of a matrix, plus the outliers
// |w - mean| > outlier_sigma * std (matrix statistics), run on the sparse engine.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "halo/model/weights.hpp"

namespace halo::hwq {

enum class SensitivitySource : std::uint8_t { fisher, hessian };
struct SensitivityTraits {
    SensitivitySource id;
    std::string_view name;
    bool needs_backward;
    std::string_view summary;
};
std::span<const SensitivityTraits> sensitivity_sources();
const SensitivityTraits& sensitivity_source(std::string_view name);  // E9011 otherwise

// w^2 * gram_jj / tokens; gram empty -> w^2.
// Element by element, so `threads` (rows split among them) changes nothing in the result.
model::Matrix hessian_sensitivity(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens, unsigned threads = 1);

struct TileGrid {
    std::int64_t rows = 0, cols = 0;            // matrix
    std::int64_t tile_rows = 0, tile_cols = 0;  // tile (rows = outputs, cols = inputs)
    std::int64_t n_row_tiles() const { return (rows + tile_rows - 1) / tile_rows; }
    std::int64_t n_col_tiles() const { return (cols + tile_cols - 1) / tile_cols; }
    std::int64_t count() const { return n_row_tiles() * n_col_tiles(); }
    std::int64_t index(std::int64_t r, std::int64_t c) const { return (r / tile_rows) * n_col_tiles() + c / tile_cols; }
    // Tile t's rows [r0, r1) and columns [c0, c1) (tiles row-major; the last ones may be partial).
    struct Bounds {
        std::int64_t r0, r1, c0, c1;
        std::int64_t weights() const { return (r1 - r0) * (c1 - c0); }
    };
    Bounds bounds(std::int64_t t) const {
        const std::int64_t r0 = (t / n_col_tiles()) * tile_rows, c0 = (t % n_col_tiles()) * tile_cols;
        return {r0, r0 + tile_rows < rows ? r0 + tile_rows : rows, c0, c0 + tile_cols < cols ? c0 + tile_cols : cols};
    }
};
// E9012 when a tile dimension is < 1 or larger than the matrix (the last tile may be partial).
TileGrid make_grid(std::int64_t rows, std::int64_t cols, std::int64_t tile_rows, std::int64_t tile_cols,
                   std::string_view place);

// Each tile's mean sensitivity, summed in double row by row, column by column inside the tile.
// The fast version splits row tiles among `threads` (a tile's sum keeps its order, so the result
// is the reference's bit for bit); tile_scores_ref is the plain loop over every weight.
std::vector<double> tile_scores(const model::Matrix& sensitivity, const TileGrid& grid, unsigned threads = 1);
std::vector<double> tile_scores_ref(const model::Matrix& sensitivity, const TileGrid& grid);

struct SparseSplitOptions {
    double salient_fraction = 0.0005;  // 0.05 %
    double outlier_sigma = 3.0;
};
// Mask: 1 = dense, 0 = sparse. Reference (a stable sort of every index) and fast versions agree
// exactly, ties included. The fast one finds the k-th largest sensitivity by a two-pass radix
// select over the values' ordered bit patterns, its passes split among `threads` (integer counts:
// the thread count changes nothing); the matrix moments stay one sequential double sum.
std::vector<std::uint8_t> sparse_mask(const model::Matrix& w, const model::Matrix& sensitivity,
                                      const SparseSplitOptions& options, unsigned threads = 1);
std::vector<std::uint8_t> sparse_mask_ref(const model::Matrix& w, const model::Matrix& sensitivity,
                                          const SparseSplitOptions& options);

}  // namespace halo::hwq
