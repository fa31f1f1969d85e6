// GPTQ's inverse-Hessian factor: the upper Cholesky factor U of H^-1 (H^-1 = U^T U), row-major.
//
// Reference (LAPACK, as the GPTQ paper's code): chol(H) -> H^-1 from it (potri) -> chol(H^-1),
// about 4/3 n^3 flops. Fast (Eigen compiled for AVX-512 or AVX2, picked with the GEMM kernels
// by model::kernels::detected_gemm_isa): with P the reversal permutation, P H P = W W^T (W lower)
// gives H = V V^T with V = P W P upper, so U = V^-1 = P W^-1 P: one Cholesky and one triangular
// inverse, about 2/3 n^3 flops, in kernels that do not depend on OpenBLAS recognising the CPU
// (on the 2-core Xeon VM it falls back to SSE3 kernels; see model/gemm_kernels.hpp).
// Both give the same U up to rounding; HALO_GEMM=reference selects the LAPACK path.
#pragma once

#include <cstdint>
#include <vector>

namespace halo::quant {

// `h` (n x n, symmetric, dampened) in, U out (entries below the diagonal are 0). Returns false
// when H is not positive definite (the caller reports it); `info` gets LAPACK's code or the
// failing pivot + 1.
bool inverse_hessian_upper_factor(std::vector<float>& h, std::int64_t n, int& info);
bool inverse_hessian_upper_factor_reference(std::vector<float>& h, std::int64_t n, int& info);

namespace kernels {
bool inverse_hessian_upper_factor_avx2(std::vector<float>& h, std::int64_t n, int& info);
bool inverse_hessian_upper_factor_avx512(std::vector<float>& h, std::int64_t n, int& info);
}  // namespace kernels

}  // namespace halo::quant
