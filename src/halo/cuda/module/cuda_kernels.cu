#include "halo/cuda/module/cuda_kernels.hpp"

#include <cfloat>

#include <cuda_fp16.h>

#include "halo/cuda/act_row_quant.hpp"
#include "halo/cuda/module/block_reduce.cuh"

namespace halo::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

__global__ void embed_kernel(const float* table, const std::int32_t* tokens, std::int64_t n, std::int64_t dim, float scale,
                             float* x) {
    const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (i >= n * dim) return;
    const std::int64_t t = i / dim, c = i % dim;
    x[i] = table[static_cast<std::int64_t>(tokens[t]) * dim + c] * scale;
}

__global__ void rms_norm_kernel(const float* x, float* y, std::int64_t dim, const float* w, bool plus_one, float eps) {
    __shared__ double shared[32];
    const float* xr = x + blockIdx.x * dim;
    float* yr = y + blockIdx.x * dim;
    double ss = 0;
    for (std::int64_t i = threadIdx.x; i < dim; i += blockDim.x) ss += static_cast<double>(xr[i]) * xr[i];
    ss = block_sum(ss, shared);
    const float inv = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    for (std::int64_t i = threadIdx.x; i < dim; i += blockDim.x) yr[i] = xr[i] * inv * (w[i] + (plus_one ? 1.0f : 0.0f));
}

__global__ void rope_kernel(float* x, std::int64_t rows, std::int64_t heads, std::int64_t hd, const float* cos,
                            const float* sin) {
    const std::int64_t half = hd / 2;
    const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (i >= rows * heads * half) return;
    const std::int64_t r = i / (heads * half), h = (i / half) % heads, p = i % half;
    float* v = x + r * heads * hd + h * hd;
    const float c = cos[r * half + p], s = sin[r * half + p];
    const float a0 = v[p], b0 = v[p + half];
    v[p] = a0 * c - b0 * s;
    v[p + half] = a0 * s + b0 * c;
}

__global__ void causal_softmax_kernel(float* scores, std::int64_t S, float scale) {
    __shared__ float fshared[32];
    __shared__ double dshared[32];
    const std::int64_t row = blockIdx.x;  // over batch * S
    const std::int64_t i = row % S;       // query position
    float* r = scores + row * S;
    float m = -FLT_MAX;
    for (std::int64_t j = threadIdx.x; j <= i; j += blockDim.x) m = fmaxf(m, r[j] * scale);
    m = block_max(m, fshared);
    double sum = 0;
    for (std::int64_t j = threadIdx.x; j <= i; j += blockDim.x) {
        const float e = expf(r[j] * scale - m);
        r[j] = e;
        sum += e;
    }
    sum = block_sum(sum, dshared);
    const float inv = static_cast<float>(1.0 / sum);
    for (std::int64_t j = threadIdx.x; j < S; j += blockDim.x) r[j] = j <= i ? r[j] * inv : 0.0f;
}

__global__ void swiglu_kernel(const float* gate, const float* up, float* act, std::int64_t n) {
    const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    const float g = gate[i];
    act[i] = g / (1.0f + expf(-g)) * up[i];
}

__global__ void row_nll_kernel(const float* logits, std::int64_t vocab, const std::int32_t* targets, double* nll) {
    __shared__ float fshared[32];
    __shared__ double dshared[32];
    const float* r = logits + blockIdx.x * vocab;
    float m = -FLT_MAX;
    for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) m = fmaxf(m, r[j]);
    m = block_max(m, fshared);
    double sum = 0;
    for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) sum += exp(static_cast<double>(r[j]) - static_cast<double>(m));
    sum = block_sum(sum, dshared);
    if (threadIdx.x == 0) nll[blockIdx.x] = log(sum) + static_cast<double>(m) - static_cast<double>(r[targets[blockIdx.x]]);
}

// One thread per column; rows in order, so the double sums add in the CPU's order
// (model::LinearStatsAccumulator) and agree with it exactly.
__global__ void column_abs_stats_kernel(const float* x, std::int64_t rows, std::int64_t cols, double* abs_sum,
                                        float* abs_max) {
    const std::int64_t c = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (c >= cols) return;
    double s = abs_sum[c];
    float m = abs_max[c];
    for (std::int64_t r = 0; r < rows; ++r) {
        const float a = fabsf(x[r * cols + c]);
        s += a;
        m = fmaxf(m, a);
    }
    abs_sum[c] = s;
    abs_max[c] = m;
}

__global__ void mirror_lower_kernel(float* g, std::int64_t n) {
    const std::int64_t j = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;  // column: coalesced writes
    for (std::int64_t i = blockIdx.y; i < j && j < n; i += gridDim.y) g[i * n + j] = g[j * n + i];
}

__global__ void dot_partials_kernel(const float* a, const float* b, std::int64_t n, double* partials) {
    __shared__ double shared[kThreads / 32];
    double v = 0;
    for (std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<std::int64_t>(gridDim.x) * blockDim.x)
        v += static_cast<double>(a[i]) * b[i];
    v = block_sum(v, shared);
    if (threadIdx.x == 0) partials[blockIdx.x] = v;
}

__global__ void subtract_kernel(const float* a, const float* b, float* out, std::int64_t n) {
    const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (i < n) out[i] = a[i] - b[i];
}

// One block per row; each thread's strided sum, then the block's fixed-shape tree: deterministic.
__global__ void row_dot_double_kernel(const float* a, const float* b, std::int64_t cols, double* out) {
    __shared__ double shared[kThreads / 32];
    const std::int64_t base = static_cast<std::int64_t>(blockIdx.x) * cols;
    double v = 0;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) v += static_cast<double>(a[base + c]) * b[base + c];
    v = block_sum(v, shared);
    if (threadIdx.x == 0) out[blockIdx.x] = v;
}

// One block per token row: model/activation_quant.cpp's int8_per_token_fast, operation for operation.
__global__ void act_int8_per_token_kernel(float* x, std::int64_t cols) {
    __shared__ float shared[kThreads / 32];
    float* row = x + static_cast<std::int64_t>(blockIdx.x) * cols;
    float amax = 0.0f;
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) amax = fmaxf(amax, fabsf(row[c]));
    amax = block_max(amax, shared);
    if (amax == 0.0f) return;
    const float scale = amax / 127.0f, inv = 127.0f / amax;  // IEEE division: no fast-math in this module
    for (std::int64_t c = threadIdx.x; c < cols; c += blockDim.x) {
        const float q = rintf(__fmul_rn(row[c], inv));  // rintf: ties to even, as std::nearbyint
        row[c] = __fmul_rn(fminf(127.0f, fmaxf(-127.0f, q)), scale);
    }
}

// One block per (row, group): the group's max |x| over the block, then act_row_quant.hpp's
// int_symmetric_scale and int_symmetric_value (quant::fit_group's symmetric absmax rule with an
// FP16 scale, encode/decode of a signed integer; the host tests run the same two functions).
// Division, addition and multiplication stay separate operations: no multiply-add to fuse.
__global__ void act_int_symmetric_kernel(float* x, std::int64_t cols, std::int64_t group, std::int64_t groups_per_row, int bits) {
    __shared__ float shared[kThreads / 32];
    const std::int64_t row = blockIdx.x / groups_per_row, g = blockIdx.x % groups_per_row;
    const std::int64_t begin = g * group, end = min(cols, begin + group);
    float* p = x + row * cols;
    float amax = 0.0f;
    for (std::int64_t c = begin + threadIdx.x; c < end; c += blockDim.x) amax = fmaxf(amax, fabsf(p[c]));
    amax = block_max(amax, shared);
    const float s = int_symmetric_scale(amax, bits);
    for (std::int64_t c = begin + threadIdx.x; c < end; c += blockDim.x) p[c] = int_symmetric_value(p[c], s, bits);
}

__global__ void sum_partials_kernel(const double* partials, unsigned count, double* out) {
    __shared__ double shared[kThreads / 32];
    double v = 0;
    for (unsigned i = threadIdx.x; i < count; i += blockDim.x) v += partials[i];
    v = block_sum(v, shared);
    if (threadIdx.x == 0) *out = v;
}

}  // namespace

void mirror_lower(float* g, std::int64_t n, cudaStream_t s) {
    if (n < 2) return;
    const auto rows = static_cast<unsigned>(n < 65535 ? n : 65535);  // the grid's y limit; the kernel strides over the rest
    mirror_lower_kernel<<<dim3(blocks_for(n), rows), kThreads, 0, s>>>(g, n);
}

void dot_double(const float* a, const float* b, std::int64_t n, double* partials, double* out, cudaStream_t s) {
    dot_partials_kernel<<<kDotBlocks, kThreads, 0, s>>>(a, b, n, partials);
    sum_partials_kernel<<<1, kThreads, 0, s>>>(partials, kDotBlocks, out);
}

void subtract(const float* a, const float* b, float* out, std::int64_t n, cudaStream_t s) {
    if (n > 0) subtract_kernel<<<blocks_for(n), kThreads, 0, s>>>(a, b, out, n);
}

void row_dot_double(const float* a, const float* b, std::int64_t rows, std::int64_t cols, double* out, cudaStream_t s) {
    if (rows > 0) row_dot_double_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(a, b, cols, out);
}

void act_int8_per_token(float* x, std::int64_t rows, std::int64_t cols, cudaStream_t s) {
    if (rows > 0 && cols > 0) act_int8_per_token_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(x, cols);
}

void act_int_symmetric(float* x, std::int64_t rows, std::int64_t cols, std::int64_t group, int bits, cudaStream_t s) {
    if (rows <= 0 || cols <= 0) return;
    const std::int64_t g = group > 0 && group < cols ? group : cols;
    const std::int64_t per_row = (cols + g - 1) / g;
    act_int_symmetric_kernel<<<static_cast<unsigned>(rows * per_row), kThreads, 0, s>>>(x, cols, g, per_row, bits);
}

void column_abs_stats(const float* x, std::int64_t rows, std::int64_t cols, double* abs_sum, float* abs_max, cudaStream_t s) {
    column_abs_stats_kernel<<<blocks_for(cols), kThreads, 0, s>>>(x, rows, cols, abs_sum, abs_max);
}

void row_nll(const float* logits, std::int64_t rows, std::int64_t vocab, const std::int32_t* targets, double* nll,
             cudaStream_t s) {
    row_nll_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(logits, vocab, targets, nll);
}

void embed_rows(const float* table, const std::int32_t* tokens, std::int64_t n, std::int64_t dim, float scale, float* x,
                cudaStream_t s) {
    embed_kernel<<<blocks_for(n * dim), kThreads, 0, s>>>(table, tokens, n, dim, scale, x);
}
void rms_norm(const float* x, float* y, std::int64_t rows, std::int64_t dim, const float* w, bool plus_one, float eps,
              cudaStream_t s) {
    rms_norm_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(x, y, dim, w, plus_one, eps);
}
void rope(float* x, std::int64_t rows, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
          cudaStream_t s) {
    rope_kernel<<<blocks_for(rows * heads * (head_dim / 2)), kThreads, 0, s>>>(x, rows, heads, head_dim, cos, sin);
}
void causal_softmax(float* scores, std::int64_t batch, std::int64_t S, float scale, cudaStream_t s) {
    causal_softmax_kernel<<<static_cast<unsigned>(batch * S), kThreads, 0, s>>>(scores, S, scale);
}
void swiglu(const float* gate, const float* up, float* act, std::int64_t n, cudaStream_t s) {
    swiglu_kernel<<<blocks_for(n), kThreads, 0, s>>>(gate, up, act, n);
}

}  // namespace halo::cuda
