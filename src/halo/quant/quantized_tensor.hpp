// A quantized linear weight: one code per weight, parameters per scale group, and the optional
// parts some methods add (per-row codebooks for k-means, per-input-channel scales for AWQ, a
// sparse FP16 part for outliers, per-tile metadata slots for HALO). decode() gives the FP32
// matrix the forward pass uses (fake-quant); bits() the exact storage cost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/model/weights.hpp"
#include "halo/quant/format.hpp"

namespace halo::quant {

// Entries kept in FP16 outside the codes (SqueezeLLM's dense-and-sparse split), CSR by row.
struct SparsePart {
    std::vector<std::uint32_t> row_ptr;  // [rows + 1], empty when there is no sparse part
    std::vector<std::int32_t> col;
    std::vector<float> value;           // already rounded to FP16
    std::size_t nnz() const { return value.size(); }
};

// Slots the HALO quantizer fills and the simulator reads: the array's tile shape and, per tile
// (row-major over the tile grid), a DVFS level id and a codebook id (-1: none/uniform).
struct TileMetadata {
    std::int64_t tile_rows = 0;  // 0: no tiling recorded
    std::int64_t tile_cols = 0;
    std::vector<std::int32_t> level;
    std::vector<std::int32_t> codebook_id;
};

struct BitAccount {
    std::uint64_t weights = 0;     // rows * cols
    std::uint64_t code_bits = 0;
    std::uint64_t scale_bits = 0;  // scales + zero points + tensor scale
    std::uint64_t codebook_bits = 0;
    std::uint64_t input_scale_bits = 0;
    std::uint64_t sparse_bits = 0;  // FP16 values + 32-bit column indices + 32-bit row pointers
    std::uint64_t total() const { return code_bits + scale_bits + codebook_bits + input_scale_bits + sparse_bits; }
    double bits_per_weight() const { return weights ? static_cast<double>(total()) / static_cast<double>(weights) : 0; }
    // Adds another account field by field (a model's total over its linears and blocks).
    BitAccount& operator+=(const BitAccount& b) {
        weights += b.weights, code_bits += b.code_bits, scale_bits += b.scale_bits;
        codebook_bits += b.codebook_bits, input_scale_bits += b.input_scale_bits, sparse_bits += b.sparse_bits;
        return *this;
    }
};

class QuantizedTensor {
public:
    QuantizedTensor() = default;
    QuantizedTensor(QuantSpec spec, std::int64_t rows, std::int64_t cols);

    const QuantSpec& spec() const { return spec_; }
    std::int64_t rows() const { return rows_; }
    std::int64_t cols() const { return cols_; }
    // The group grid (ceil division; the last group in each direction may be shorter).
    std::int64_t group_rows() const { return g_rows_; }  // rows per group
    std::int64_t group_cols() const { return g_cols_; }
    std::int64_t n_group_rows() const { return (rows_ + g_rows_ - 1) / g_rows_; }
    std::int64_t n_group_cols() const { return (cols_ + g_cols_ - 1) / g_cols_; }
    std::int64_t group_index(std::int64_t r, std::int64_t c) const { return (r / g_rows_) * n_group_cols() + c / g_cols_; }

    GroupParams& params(std::int64_t group) { return params_[static_cast<std::size_t>(group)]; }
    const GroupParams& params(std::int64_t group) const { return params_[static_cast<std::size_t>(group)]; }
    std::vector<GroupParams>& all_params() { return params_; }
    const std::vector<GroupParams>& all_params() const { return params_; }
    std::uint8_t& code(std::int64_t r, std::int64_t c) { return codes_[static_cast<std::size_t>(r * cols_ + c)]; }
    std::uint8_t code(std::int64_t r, std::int64_t c) const { return codes_[static_cast<std::size_t>(r * cols_ + c)]; }
    std::vector<std::uint8_t>& codes() { return codes_; }
    const std::vector<std::uint8_t>& codes() const { return codes_; }
    float tensor_scale = 1.0f;

    // Per-row codebooks (k-means): [rows x K], FP16-rounded; when set, v(code) = row_codebook[r][code]
    // and the group parameters are the identity.
    std::vector<float> row_codebooks;
    int row_codebook_size = 0;
    std::vector<float> input_scale;  // [cols] divisor per input channel (AWQ), FP16-rounded
    // Mixture formats (mixed_types.hpp): the type id of each group (its candidate value set);
    // sized to the group count for those formats, empty otherwise.
    std::vector<std::uint8_t> group_type;
    SparsePart sparse;
    TileMetadata tiles;

    // Fits the parameters of every group overlapping columns [c0, c1) from `w` (all rows).
    void fit(const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip = 1.0f);
    // Fits every group of group row `group_row` (all columns) as fit() does, from `w`, with the
    // tensor_scale already set: the unit of the row-parallel RTN (grid formats only).
    void fit_group_row(const model::Matrix& w, std::int64_t group_row, float clip = 1.0f);
    // Quantizes one weight with its group's parameters; stores the code, returns the decoded value.
    float quantize(std::int64_t r, std::int64_t c, float w);
    float decode(std::int64_t r, std::int64_t c) const;
    // Rows decoded on up to `threads` threads (0 = all cores); the same values for any count.
    model::Matrix decode(unsigned threads = 1) const;
    BitAccount bits() const;

private:
    QuantSpec spec_;
    std::int64_t rows_ = 0, cols_ = 0, g_rows_ = 1, g_cols_ = 1;
    std::vector<GroupParams> params_;
    std::vector<std::uint8_t> codes_;
};

// Round-to-nearest of a whole matrix (fit every group, quantize every weight). clip as in
// fit_group. `w` must be finite (check_finite). With `threads` != 1 (0 = all cores) the group
// rows are fitted and rounded in parallel: the same tensor for any count (each group's fit and
// each weight's code depend on that group only). Formats with their own fit (two-level, custom
// rows) keep the serial loop.
QuantizedTensor quantize_rtn(const model::Matrix& w, const QuantSpec& spec, float clip = 1.0f, unsigned threads = 1);

// Bad input E6003 naming the tensor and the first bad element when `w` holds NaN or Inf.
void check_finite(const model::Matrix& w, const std::string& tensor_name);

// ||(W - Q) X||_F^2 through the Gram G = X^T X: tr((W-Q) G (W-Q)^T). BLAS; G is [cols x cols].
double output_error(const model::Matrix& w, const model::Matrix& q, const model::Matrix& gram);

}  // namespace halo::quant
