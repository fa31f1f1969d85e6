// GPTQ's inverse-Hessian factor through Eigen for AVX-512 (compiled with -mavx512f -mavx512dq
// -mavx512vl -mfma; see gptq_factor.hpp).
#define HALO_EIGEN_NS halo_eigen_factor_avx512
#define HALO_FACTOR_FN inverse_hessian_upper_factor_avx512
#include "halo/quant/gptq_factor.inc"
