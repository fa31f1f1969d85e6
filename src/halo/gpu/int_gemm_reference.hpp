// Plain CPU references for the GPU GEMMs: C[M x N] = A[M x K] * W[N x K]^T.
#pragma once

#include <cstdint>
#include <vector>

namespace halo::gpu {

std::vector<std::int32_t> int8_gemm_reference(const std::vector<std::int8_t>& a, const std::vector<std::int8_t>& w,
                                              std::int64_t m, std::int64_t n, std::int64_t k);

}  // namespace halo::gpu
