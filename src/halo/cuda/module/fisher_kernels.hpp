// The element-wise and row-wise kernels of the CUDA backward pass (inside libhalo_cuda.so),
// everything of fisher_engine.cpp that is not a GEMM. Each mirrors a piece of the CPU backward
// (model/backward.cpp, model/forward_core.cpp, model/attention.cpp); all row-major.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace halo::cuda {

// The head of the backward pass: logits [S x vocab] in place become dLoss/dlogits of the mean
// next-token cross-entropy, (softmax(row t) - onehot(targets[t])) / (S - 1) for rows t < S - 1,
// and 0 on row S - 1 (it predicts nothing); nll[t] = -log softmax(row t)[targets[t]] for
// t < S - 1 (model::token_nll: max in float, the exponential sum in double). One row per block.
void next_token_loss_grad(float* logits, std::int64_t S, std::int64_t vocab, const std::int32_t* targets, double* nll,
                          cudaStream_t s);

// RMSNorm's backward for y = g * x * r, r = (mean x^2 + eps)^-1/2 (r recomputed from x as the
// forward does, sum of squares in double): dx_j (+)= r g_j dy_j - x_j r^3 / D * sum_i g_i dy_i x_i.
// `accumulate`: add to dx (a block's norms: the residual's gradient is there already), else
// overwrite (the final norm). One row per block.
void rms_norm_backward(const float* x, const float* w, bool plus_one, float eps, std::int64_t rows, std::int64_t dim,
                       const float* dy, float* dx, bool accumulate, cudaStream_t s);

// SwiGLU's backward for act = silu(gate) * up: d_gate = d_act * up * silu'(gate) (written over
// d_act) and d_up = d_act * silu(gate).
void swiglu_backward(const float* gate, const float* up, float* d_act_to_d_gate, float* d_up, std::int64_t n, cudaStream_t s);

// The causal softmax's backward, in place on dp [batch x S x S] with the probabilities p of the
// forward: dp_ij = scale * p_ij (dp_ij - sum_k<=i p_ik dp_ik) (the score's 1/sqrt(hd) folded in;
// masked entries have p = 0 and become 0). One row per block.
void causal_softmax_backward(const float* p, float* dp, std::int64_t batch, std::int64_t S, float scale, cudaStream_t s);

// The transpose of rotate-half RoPE (kernels' rope with sin negated), in place.
void rope_inverse(float* x, std::int64_t rows, std::int64_t heads, std::int64_t head_dim, const float* cos, const float* sin,
                  cudaStream_t s);

// sum[i] += scale * g[i]^2 (squared) or scale * g[i] (plain: the gradient itself, for tests).
void accumulate_gradient(const float* g, float* sum, std::int64_t n, float scale, bool squared, cudaStream_t s);

}  // namespace halo::cuda
