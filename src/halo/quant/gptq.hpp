// GPTQ (Frantar et al. 2023): quantize a linear weight column by column, spreading each
// column's rounding error over the columns not yet quantized through the inverse Hessian
// H = 2 X^T X (from the calibration Gram). Dampening adds damp * mean(diag H) to the diagonal;
// the upper Cholesky factor of H^-1 gives the update rows; updates are applied lazily per block
// of `block_size` columns (one GEMM per block). Dead inputs (H_ii = 0) get H_ii = 1 and W = 0.
//
// act_order quantizes columns in order of decreasing H_ii; its groups are then fitted once,
// up front, from the unquantized weights ("static groups"), so each group keeps a contiguous
// column range of the original matrix. Without act_order, a group's parameters are fitted when
// its first column is reached, from the weights as updated so far (as in the reference).
#pragma once

#include <cstdint>
#include <vector>

#include "halo/model/weights.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/quant/rounder.hpp"

namespace halo::quant {

struct GptqOptions {
    std::int64_t block_size = 128;
    double damp = 0.01;       // fraction of the mean Hessian diagonal
    bool act_order = false;
    unsigned threads = 1;     // row-parallel rounding; the update GEMMs use model::set_blas_threads's count
};

struct GptqResult {
    double loss = 0;          // sum over weights of (w - q)^2 / Hinv_ii^2 / 2, GPTQ's own estimate
};

// Replaces `w` by its quantized (decoded) values using `rounder`. `gram` is X^T X [cols x cols].
// E6004 when the Hessian is not positive definite even after dampening.
GptqResult gptq(model::Matrix& w, const model::Matrix& gram, ColumnRounder& rounder, const GptqOptions& options);

// GPTQ with a format spec: returns the codes and parameters.
QuantizedTensor quantize_gptq(const model::Matrix& w, const model::Matrix& gram, const QuantSpec& spec,
                              const GptqOptions& options);

}  // namespace halo::quant
