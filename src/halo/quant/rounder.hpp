// The rounding callback GPTQ (and any error-feedback quantizer) calls: fit the parameters of the
// groups that start at a column, then round single weights. TensorRounder implements it for any
// QuantSpec (formats, codebooks, groups, tiles); a custom quantizer (HALO's tile-wise fast-code
// codebooks) implements ColumnRounder itself and gets GPTQ's error compensation for free.
#pragma once

#include <cstdint>

#include "halo/model/weights.hpp"
#include "halo/quant/quantized_tensor.hpp"

namespace halo::quant {

class ColumnRounder {
public:
    virtual ~ColumnRounder() = default;
    // Width of a parameter group along the input dimension; fit() is called at every multiple
    // of it (with the weights updated so far). 0: parameters span all columns (one fit at 0).
    virtual std::int64_t group_cols() const = 0;
    // Fit the parameters of the groups covering columns [c0, c1) from `w` (original column
    // order, all rows; columns < c0 are already quantized, columns >= c0 carry GPTQ's updates).
    virtual void fit(const model::Matrix& w, std::int64_t c0, std::int64_t c1) = 0;
    // Round weight (row, col) and return its decoded value. Called concurrently for distinct rows.
    virtual float round(std::int64_t row, std::int64_t col, float value) = 0;
};

class TensorRounder final : public ColumnRounder {
public:
    explicit TensorRounder(QuantizedTensor& out) : out_(out) {}
    std::int64_t group_cols() const override { return out_.group_cols() >= out_.cols() ? 0 : out_.group_cols(); }
    void fit(const model::Matrix& w, std::int64_t c0, std::int64_t c1) override { out_.fit(w, c0, c1); }
    float round(std::int64_t row, std::int64_t col, float value) override { return out_.quantize(row, col, value); }

private:
    QuantizedTensor& out_;
};

}  // namespace halo::quant
