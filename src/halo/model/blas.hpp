// The one place halo's model code touches BLAS: row-major GEMM in float (the fast path) and
// double (the gradient checks), and the BLAS thread count.
#pragma once

#include <cstdint>

namespace halo::model {

// C[M x N] = alpha * op(A) * op(B) + beta * C, all row-major. op(A) is [M x K]: A is stored
// [M x K] (lda >= K) or, with trans_a, [K x M] (lda >= M); likewise op(B) is [K x N].
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc);
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc);

// Y[rows x out] = X[rows x in] * W^T for a linear weight W stored [out x in] (beta 0, or
// accumulate with beta 1).
template <class T>
void linear_forward(const T* x, std::int64_t rows, std::int64_t in, const T* w, std::int64_t out, T* y, T beta = T(0)) {
    gemm(false, true, rows, out, in, T(1), x, in, w, in, beta, y, out);
}

// Threads OpenBLAS uses (when the linked BLAS is OpenBLAS; otherwise nothing). 0 = all cores.
void set_blas_threads(unsigned threads);

}  // namespace halo::model
