// Eigen's GEMM for AVX2 + FMA (this file is compiled with -mavx2 -mfma; see gemm_kernels.hpp).
#define HALO_EIGEN_NS halo_eigen_avx2
#define HALO_GEMM_FN gemm_avx2
#include "halo/model/gemm_eigen.inc"
