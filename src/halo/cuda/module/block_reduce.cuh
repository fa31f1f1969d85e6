// Block-wide reductions shared by the module's kernel files. Inline in a header because the
// module is built without relocatable device code: device functions are not linked across
// translation units. Both assume blockDim.x is a multiple of 32 and `shared` holds one slot per warp.
#pragma once

#include <cfloat>

namespace halo::cuda {

// Sum over the block, in double; every thread gets the total.
__device__ inline double block_sum(double v, double* shared) {
    for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? shared[lane] : 0.0;
        for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffffu, v, o);
        if (lane == 0) shared[0] = v;
    }
    __syncthreads();
    const double total = shared[0];
    __syncthreads();
    return total;
}

// Maximum over the block; every thread gets it.
__device__ inline float block_max(float v, float* shared) {
    for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    if (lane == 0) shared[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < blockDim.x / 32 ? shared[lane] : -FLT_MAX;
        for (int o = 16; o > 0; o /= 2) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
        if (lane == 0) shared[0] = v;
    }
    __syncthreads();
    const float m = shared[0];
    __syncthreads();
    return m;
}

}  // namespace halo::cuda
