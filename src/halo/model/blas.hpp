// The one place halo's model code touches BLAS: row-major GEMM in float (the fast path) and
// double (the gradient checks), and the thread count the model's kernels use.
//
// gemm() runs the fast kernels of gemm_kernels.hpp (Eigen, AVX-512 or AVX2 by CPU) and splits
// large products across `set_blas_threads` threads itself (halo::parallel_for over blocks of
// the longer output dimension). OpenBLAS's own threads are not used for it: their spin-wait
// (sched_yield) was 14-17 s of system time in a 20-chunk `halo eval` on the shared 2-core VM.
// gemm_reference() is cblas, the reference the fast path is tested against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace halo::model {

// C[M x N] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is [M x K]: A is stored
// [M x K] (lda >= K) or, with trans_a, [K x M] (lda >= M); likewise op(B) is [K x N].
// With beta == 0, C is not read.
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc);

// The kernel gemm() runs on this CPU: "avx512", "avx2" or "reference" (HALO_GEMM may lower it).
// Outputs that hold CPU-computed figures record it: the kernels sum in different orders, and
// per-token INT8 activations turn those last bits into other codes (docs/design/transformer.md).
const char* gemm_kernel_name();

// The same product through cblas (one OpenBLAS call, its own threading): the reference.
void gemm_reference(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                    const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                    std::int64_t ldc);
void gemm_reference(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
                    const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
                    std::int64_t ldc);

// Y[rows x out] = X[rows x in] * W^T for a linear weight W stored [out x in] (beta 0, or
// accumulate with beta 1).
template <class T>
void linear_forward(const T* x, std::int64_t rows, std::int64_t in, const T* w, std::int64_t out, T* y, T beta = T(0)) {
    gemm(false, true, rows, out, in, T(1), x, in, w, in, beta, y, out);
}

// Gram accumulation for calibration (GPTQ's Hessian is 2 X^T X): adds X^T X of x [rows x cols]
// into the LOWER triangle (and diagonal) of gram [cols x cols] only, in blocks of 128 x 128 on
// the model threads (about 55-60 % of a full X^T X at d_model / d_ff sizes).
// symmetrize_lower() copies the lower triangle to the upper one when accumulation is done.
void gram_accumulate_lower(const float* x, std::int64_t rows, std::int64_t cols, float* gram);
void symmetrize_lower(float* gram, std::int64_t cols);

// Threads the model's kernels use (gemm's split, attention heads), and OpenBLAS's thread count
// for code that calls cblas directly. 0 = all cores.
void set_blas_threads(unsigned threads);
unsigned blas_threads();

// Runs body(i, worker) for i in [0, n) on model_parallel_workers() threads (worker <
// model_parallel_workers(), for per-worker scratch); inside it, gemm() and nested
// model_parallel_for() calls run on the calling thread only (no oversubscription).
void model_parallel_for(std::size_t n, const std::function<void(std::size_t index, unsigned worker)>& body);
unsigned model_parallel_workers();

}  // namespace halo::model
