#include "halo/cuda/module/fisher_kernels.hpp"

#include <cfloat>

#include "halo/cuda/module/block_reduce.cuh"

namespace halo::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(std::int64_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

__global__ void loss_grad_kernel(float* logits, std::int64_t S, std::int64_t vocab, const std::int32_t* targets, double n,
                                 double* nll) {
    __shared__ float fshared[32];
    __shared__ double dshared[32];
    const std::int64_t t = blockIdx.x;
    float* r = logits + t * vocab;
    if (t == S - 1) {
        for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) r[j] = 0.0f;
        return;
    }
    float m = -FLT_MAX;
    for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) m = fmaxf(m, r[j]);
    m = block_max(m, fshared);
    double sum = 0;
    for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) sum += exp(static_cast<double>(r[j]) - static_cast<double>(m));
    sum = block_sum(sum, dshared);
    const std::int32_t target = targets[t];
    if (threadIdx.x == 0) nll[t] = log(sum) + static_cast<double>(m) - static_cast<double>(r[target]);
    __syncthreads();  // every thread has read r[target] before it is overwritten
    const float inv = static_cast<float>(1.0 / sum);
    for (std::int64_t j = threadIdx.x; j < vocab; j += blockDim.x) {
        const float p = expf(r[j] - m) * inv - (j == target ? 1.0f : 0.0f);
        r[j] = static_cast<float>(static_cast<double>(p) / n);
    }
}

__global__ void rms_norm_backward_kernel(const float* x, const float* w, bool plus_one, float eps, std::int64_t dim,
                                         const float* dy, float* dx, bool accumulate) {
    __shared__ double shared[32];
    const float* xr = x + blockIdx.x * dim;
    const float* dyr = dy + blockIdx.x * dim;
    float* dxr = dx + blockIdx.x * dim;
    const float one = plus_one ? 1.0f : 0.0f;
    double ss = 0, dot = 0;
    for (std::int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
        ss += static_cast<double>(xr[i]) * xr[i];
        dot += static_cast<double>((w[i] + one) * dyr[i]) * xr[i];
    }
    ss = block_sum(ss, shared);
    dot = block_sum(dot, shared);
    const float inv = static_cast<float>(1.0 / sqrt(ss / static_cast<double>(dim) + static_cast<double>(eps)));
    const float coef = static_cast<float>(static_cast<double>(inv) * inv * inv * dot / static_cast<double>(dim));
    for (std::int64_t i = threadIdx.x; i < dim; i += blockDim.x) {
        const float v = inv * (w[i] + one) * dyr[i] - xr[i] * coef;
        dxr[i] = accumulate ? dxr[i] + v : v;
    }
}

__global__ void swiglu_backward_kernel(const float* gate, const float* up, float* d, float* d_up, std::int64_t n) {
    const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    const float g = gate[i];
    const float sig = 1.0f / (1.0f + expf(-g));
    const float da = d[i];
    d_up[i] = da * g * sig;
    d[i] = da * up[i] * (sig * (1.0f + g * (1.0f - sig)));
}

__global__ void causal_softmax_backward_kernel(const float* p, float* dp, std::int64_t S, float scale) {
    __shared__ double shared[32];
    const std::int64_t row = blockIdx.x;  // over batch * S
    const std::int64_t i = row % S;       // query position
    const float* pr = p + row * S;
    float* dr = dp + row * S;
    double dot = 0;
    for (std::int64_t j = threadIdx.x; j <= i; j += blockDim.x) dot += static_cast<double>(pr[j]) * dr[j];
    dot = block_sum(dot, shared);
    const auto d = static_cast<float>(dot);
    for (std::int64_t j = threadIdx.x; j < S; j += blockDim.x) dr[j] = j <= i ? scale * pr[j] * (dr[j] - d) : 0.0f;
}

__global__ void rope_inverse_kernel(float* x, std::int64_t rows, std::int64_t heads, std::int64_t hd, const float* cos,
                                    const float* sin) {
    const std::int64_t half = hd / 2;
    const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (i >= rows * heads * half) return;
    const std::int64_t r = i / (heads * half), h = (i / half) % heads, p = i % half;
    float* v = x + r * heads * hd + h * hd;
    const float c = cos[r * half + p], s = -sin[r * half + p];
    const float a0 = v[p], b0 = v[p + half];
    v[p] = a0 * c - b0 * s;
    v[p + half] = a0 * s + b0 * c;
}

__global__ void accumulate_kernel(const float* g, float* sum, std::int64_t n, float scale, bool squared) {
    const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
    if (i >= n) return;
    const float v = g[i];
    sum[i] += squared ? v * v * scale : v * scale;
}

}  // namespace

void next_token_loss_grad(float* logits, std::int64_t S, std::int64_t vocab, const std::int32_t* targets, double* nll,
                          cudaStream_t s) {
    loss_grad_kernel<<<static_cast<unsigned>(S), kThreads, 0, s>>>(logits, S, vocab, targets, static_cast<double>(S - 1), nll);
}
void rms_norm_backward(const float* x, const float* w, bool plus_one, float eps, std::int64_t rows, std::int64_t dim,
                       const float* dy, float* dx, bool accumulate, cudaStream_t s) {
    rms_norm_backward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, s>>>(x, w, plus_one, eps, dim, dy, dx, accumulate);
}
void swiglu_backward(const float* gate, const float* up, float* d_act_to_d_gate, float* d_up, std::int64_t n, cudaStream_t s) {
    swiglu_backward_kernel<<<blocks_for(n), kThreads, 0, s>>>(gate, up, d_act_to_d_gate, d_up, n);
}
void causal_softmax_backward(const float* p, float* dp, std::int64_t batch, std::int64_t S, float scale, cudaStream_t s) {
    causal_softmax_backward_kernel<<<static_cast<unsigned>(batch * S), kThreads, 0, s>>>(p, dp, S, scale);
}
void rope_inverse(float* x, std::int64_t rows, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
                  cudaStream_t s) {
    rope_inverse_kernel<<<blocks_for(rows * heads * (head_dim / 2)), kThreads, 0, s>>>(x, rows, heads, head_dim, cos, sin);
}
void accumulate_gradient(const float* g, float* sum, std::int64_t n, float scale, bool squared, cudaStream_t s) {
    accumulate_kernel<<<blocks_for(n), kThreads, 0, s>>>(g, sum, n, scale, squared);
}

}  // namespace halo::cuda
