// Vectorised elementwise kernels for the forward pass's float path: exp (softmax, the
// log-sum-exp of perplexity) and SwiGLU. Each has a plain reference (std::exp) beside the fast
// one; tests/unit/model/vector_math_test.cpp checks that they agree.
//
// fast exp: x = n ln2 + r with n = round(x / ln2), |r| <= ln2/2, e^r by its degree-6 Taylor
// polynomial (Horner), times 2^n built in the exponent bits. Relative error < 4e-7 over
// [-87, 88] (measured by the test against std::exp); inputs are clamped to [-87.3, 88.3], so
// the result is always finite and positive (tiny below -87.3, ~2e38 above 88.3).
// Compiled with -O3 and GCC target_clones (AVX-512, AVX2, baseline) so the loops vectorise on
// whatever CPU runs them.
#pragma once

#include <cstdint>

namespace halo::model::kernels {

// x[i] = exp(x[i] - shift) for i < n; returns the sum of the new x[i] (in double).
double exp_shifted_inplace(float* x, std::int64_t n, float shift);
double exp_shifted_inplace_reference(float* x, std::int64_t n, float shift);

// sum of exp(x[i] - shift), x untouched (double accumulation).
double sum_exp_shifted(const float* x, std::int64_t n, float shift);
double sum_exp_shifted_reference(const float* x, std::int64_t n, float shift);

// out[i] = silu(gate[i]) * up[i], silu(g) = g / (1 + exp(-g)).
void swiglu(const float* gate, const float* up, float* out, std::int64_t n);
void swiglu_reference(const float* gate, const float* up, float* out, std::int64_t n);

// The scalar fast exp itself (what the loops use), exposed for the accuracy test.
float fast_exp(float x);

}  // namespace halo::model::kernels
