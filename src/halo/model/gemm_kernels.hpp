// The fast GEMM kernels behind blas.hpp's gemm(): Eigen's packed GEMM compiled twice, once for
// AVX-512 (F/DQ/VL + FMA) and once for AVX2 + FMA, picked at run time by what the CPU reports.
// Why not OpenBLAS alone: the distribution's OpenBLAS (0.3.21, DYNAMIC_ARCH) does not recognise
// every CPU it runs on; on the 2-core Xeon VM halo is developed on it fell back to its SSE3
// "Prescott" kernels (perf: 61 % of `halo eval` in sgemm_kernel_PRESCOTT), about 4x slower than
// its own SkylakeX kernels on the same machine. Eigen compiled for the instruction set we
// detect ourselves does not depend on that detection. cblas stays the reference (and the
// fallback on CPUs without AVX2/FMA).
//
// All matrices row-major, the same contract as gemm() in blas.hpp: C[M x N] = alpha op(A) op(B)
// + beta C; with beta == 0, C is not read. Single-threaded: blas.cpp splits the work across
// threads.
#pragma once

#include <cstdint>

namespace halo::model::kernels {

enum class GemmIsa : std::uint8_t { reference, avx2, avx512 };

// The best kernel this CPU runs (reference when neither AVX2+FMA nor AVX-512 is present).
// HALO_GEMM=reference|avx2|avx512 in the environment overrides it (never above what the CPU has);
// any other value is bad input E5345 at the first GEMM.
GemmIsa detected_gemm_isa();
const char* gemm_isa_name(GemmIsa isa);

#define HALO_GEMM_DECL(suffix)                                                                                     \
    void gemm_##suffix(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,     \
                       const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,     \
                       std::int64_t ldc);                                                                            \
    void gemm_##suffix(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,    \
                       const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, \
                       std::int64_t ldc);
HALO_GEMM_DECL(avx2)
HALO_GEMM_DECL(avx512)
#undef HALO_GEMM_DECL

}  // namespace halo::model::kernels
