#include "halo/cuda/module/act_row_kernel.hpp"

#include "halo/cuda/module/block_reduce.cuh"

namespace halo::cuda {
namespace {

constexpr unsigned kRowThreads = 128;

// The format travels as a kernel parameter (about 2.1 KB, under the 4 KB limit); __grid_constant__
// lets the group functions take it by reference without a per-thread copy.
__global__ void act_rows_kernel(float* x, std::int64_t cols, std::int64_t row_stride, std::int64_t col_stride,
                                const __grid_constant__ ActRowFormat f) {
    __shared__ float shared[kRowThreads / 32];
    const ActRow row{x + static_cast<std::int64_t>(blockIdx.x) * row_stride, col_stride};
    float amax = 0.0f;  // fmaxf leaves NaNs out, as the CPU's std::max(amax, |x|) from 0 does
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) amax = fmaxf(amax, fabsf(row[c]));
    amax = block_max(amax, shared);  // every thread has read its values before any group writes
    const std::int64_t per = act_group_cols(f, cols), groups = (cols + per - 1) / per;
    for (std::int64_t g = threadIdx.x; g < groups; g += blockDim.x) act_quantize_group(f, row, cols, g, amax);
}

}  // namespace

void act_rows(float* x, std::int64_t rows, std::int64_t cols, std::int64_t row_stride, std::int64_t col_stride,
              const ActRowFormat& format, cudaStream_t s) {
    if (rows <= 0 || cols <= 0) return;
    act_rows_kernel<<<static_cast<unsigned>(rows), kRowThreads, 0, s>>>(x, cols, row_stride, col_stride, format);
}

}  // namespace halo::cuda
