// GPTQ's inverse-Hessian factor through Eigen for AVX2 + FMA (compiled with -mavx2 -mfma; see
// gptq_factor.hpp).
#define HALO_EIGEN_NS halo_eigen_factor_avx2
#define HALO_FACTOR_FN inverse_hessian_upper_factor_avx2
#include "halo/quant/gptq_factor.inc"
