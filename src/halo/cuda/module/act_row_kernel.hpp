// The activation quantizer of act_row_quant.hpp on the GPU (inside libhalo_cuda.so): one block
// per row, the row's largest |x| reduced over the block, then one thread per scale group running
// act_quantize_group, the CPU's operations in the CPU's order. Built with --fmad=false (a fused
// multiply-add rounds once where the CPU rounds twice).
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

#include "halo/cuda/act_row_quant.hpp"

namespace halo::cuda {

// Row r's element c is x[r * row_stride + c * col_stride]: (cols, 1) for row-major rows,
// (1, ld) for the columns of a row-major matrix with leading dimension ld (V, grouped along tokens).
void act_rows(float* x, std::int64_t rows, std::int64_t cols, std::int64_t row_stride, std::int64_t col_stride,
              const ActRowFormat& format, cudaStream_t s);

}  // namespace halo::cuda
