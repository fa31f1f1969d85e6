// Eigen's GEMM for AVX-512 (this file is compiled with -mavx512f -mavx512dq -mavx512vl -mfma;
// see gemm_kernels.hpp).
#define HALO_EIGEN_NS halo_eigen_avx512
#define HALO_GEMM_FN gemm_avx512
#include "halo/model/gemm_eigen.inc"
