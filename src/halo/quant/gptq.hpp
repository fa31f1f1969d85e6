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
#include "halo/quant/phase_seconds.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/quant/rounder.hpp"

namespace halo::quant {

class DeviceBackend;  // device_backend.hpp

struct GptqOptions {
    std::int64_t block_size = 128;
    double damp = 0.01;       // fraction of the mean Hessian diagonal
    bool act_order = false;
    unsigned threads = 1;     // row-parallel rounding and BLAS threads
    DeviceBackend* device = nullptr;  // --device cuda: gptq() runs there (the one dispatch); null: here
    PhaseSeconds* phases = nullptr;   // factor / columns / update times are added here when set
};

struct GptqResult {
    double loss = 0;          // sum over weights of (w - q)^2 / Hinv_ii^2 / 2, GPTQ's own estimate
};

// Replaces `w` by its quantized (decoded) values using `rounder`. `gram` is X^T X [cols x cols].
// E6004 when the Hessian is not positive definite even after dampening.
GptqResult gptq(model::Matrix& w, const model::Matrix& gram, ColumnRounder& rounder, const GptqOptions& options);

// The dense algebra of GPTQ, which may run elsewhere than the column loop (the GPU backend
// implements it over cuSOLVER/cuBLAS; cuda/cuda_gptq). gptq_with runs the one algorithm (dead
// inputs, act_order and static groups, dampening, the per-block column loop) over it.
class GptqAlgebra {
public:
    virtual ~GptqAlgebra() = default;
    // Upper Cholesky factor U of H^-1, row-major (entries j >= i of row i); `h` is the damped,
    // permuted Hessian [n x n]. E6004 when it is not positive definite.
    virtual std::vector<float> inverse_hessian_factor(std::vector<float> h, std::int64_t n) = 0;
    // The working weights, once, before the first block.
    virtual void begin(const model::Matrix& /*wp*/) {}
    // Columns [c0, c1) of `wp` as the lazy updates so far left them, before a block reads them.
    virtual void fetch_columns(model::Matrix& /*wp*/, std::int64_t /*c0*/, std::int64_t /*c1*/) {}
    // W[:, i2:] -= Err U[i1:i2, i2:] (Err: rows x (i2 - i1), row-major).
    virtual void lazy_update(model::Matrix& wp, const std::vector<float>& err, const std::vector<float>& u, std::int64_t i1,
                             std::int64_t i2) = 0;
};
GptqResult gptq_with(GptqAlgebra& algebra, model::Matrix& w, const model::Matrix& gram, ColumnRounder& rounder,
                     const GptqOptions& options);

// GPTQ with a format spec: returns the codes and parameters.
QuantizedTensor quantize_gptq(const model::Matrix& w, const model::Matrix& gram, const QuantSpec& spec,
                              const GptqOptions& options);

}  // namespace halo::quant
