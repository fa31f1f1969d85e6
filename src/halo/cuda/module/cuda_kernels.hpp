// The element-wise and row-wise kernels of the CUDA backend (inside libhalo_cuda.so) (everything that is not a GEMM).
// Each mirrors a CPU function of model/forward_ops.hpp or model/attention.cpp; all row-major.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace halo::cuda {

// x[t, :] = table[tokens[t], :] * scale
void embed_rows(const float* table, const std::int32_t* tokens, std::int64_t n, std::int64_t dim, float scale, float* x,
                cudaStream_t s);
// y = x * rsqrt(mean(x^2) + eps) * (w (+1)), one row per block; sum of squares in double like the CPU.
void rms_norm(const float* x, float* y, std::int64_t rows, std::int64_t dim, const float* w, bool plus_one, float eps,
              cudaStream_t s);
// rotate-half RoPE in place on x [rows x heads*head_dim]; cos/sin [rows x head_dim/2].
void rope(float* x, std::int64_t rows, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          cudaStream_t s);
// scores [batch x S x S], row i: p_j = softmax_j<=i(scale * s_ij), 0 for j > i.
void causal_softmax(float* scores, std::int64_t batch, std::int64_t S, float scale, cudaStream_t s);
// act = silu(gate) * up
void swiglu(const float* gate, const float* up, float* act, std::int64_t n, cudaStream_t s);

// nll[r] = log sum_j exp(logits[r][j] - max) + max - logits[r][targets[r]] (model::token_nll:
// max in float, the exponential sum in double), one row per block.
void row_nll(const float* logits, std::int64_t rows, std::int64_t vocab, const std::int32_t* targets, double* nll,
             cudaStream_t s);

// abs_sum[c] += sum_r |x[r, c]| (double), abs_max[c] = max(abs_max[c], max_r |x[r, c]|): the
// channel statistics of model::LinearStatsAccumulator.
void column_abs_stats(const float* x, std::int64_t rows, std::int64_t cols, double* abs_sum, float* abs_max, cudaStream_t s);

// Row-major g [n x n] with its lower triangle (i >= j) filled: copies it onto the upper one, so
// g is symmetric (what model::symmetrize_lower does on the host).
void mirror_lower(float* g, std::int64_t n, cudaStream_t s);

// *out = sum_i a[i] * b[i], products and sums in double (quant::output_error's last loop), in a
// fixed order (per-block partial sums, then one block adds them): deterministic.
// `partials` holds kDotBlocks doubles.
constexpr unsigned kDotBlocks = 1024;
void dot_double(const float* a, const float* b, std::int64_t n, double* partials, double* out, cudaStream_t s);

// Activation quantize-dequantize in place, one token per row (cuda_backend_api.hpp ActivationQuant):
// model::activation_format("int8_per_token").fast, and quant::quantize_activation_rows for a
// signed `bits`-bit integer with FP16 scales per `group` columns (0 or >= cols: the whole row).
void act_int8_per_token(float* x, std::int64_t rows, std::int64_t cols, cudaStream_t s);
void act_int_symmetric(float* x, std::int64_t rows, std::int64_t cols, std::int64_t group, int bits, cudaStream_t s);

// out = a - b, element-wise over n floats.
void subtract(const float* a, const float* b, float* out, std::int64_t n, cudaStream_t s);
// out[r] = sum_c a[r, c] * b[r, c] over row-major [rows x cols], products and sums in double
// (AWQ's per-row errors, quant/awq.cpp's row_errors), one block per row in a fixed order.
void row_dot_double(const float* a, const float* b, std::int64_t rows, std::int64_t cols, double* out, cudaStream_t s);

}  // namespace halo::cuda
