#include "halo/model/vector_math.hpp"

#include <bit>
#include <cmath>

#define HALO_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

namespace halo::model::kernels {

namespace {

inline float exp_poly(float x) {
    // Outside [-87.3, 88.3] e^x is not a normal float (or 2^n would overflow); clamp.
    x = std::fmin(std::fmax(x, -87.3f), 88.3f);
    const float n = std::floor(x * 1.44269504088896341f + 0.5f);
    // r = x - n ln2 in two parts (Cody-Waite) so r keeps its low bits.
    const float r = (x - n * 0.693145751953125f) - n * 1.42860682030941723212e-6f;
    float p = 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
    return p * std::bit_cast<float>(bits);
}

}  // namespace

float fast_exp(float x) { return exp_poly(x); }

HALO_CLONES double exp_shifted_inplace(float* x, std::int64_t n, float shift) {
    for (std::int64_t i = 0; i < n; ++i) x[i] = exp_poly(x[i] - shift);
    // Four partial sums: the adds are independent, so they overlap instead of waiting on each other.
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    std::int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += x[i];
        s1 += x[i + 1];
        s2 += x[i + 2];
        s3 += x[i + 3];
    }
    for (; i < n; ++i) s0 += x[i];
    return (s0 + s1) + (s2 + s3);
}

double exp_shifted_inplace_reference(float* x, std::int64_t n, float shift) {
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        x[i] = std::exp(x[i] - shift);
        sum += x[i];
    }
    return sum;
}

HALO_CLONES double sum_exp_shifted(const float* x, std::int64_t n, float shift) {
    constexpr std::int64_t kBlock = 256;
    float buf[kBlock];
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (std::int64_t b = 0; b < n; b += kBlock) {
        const std::int64_t len = n - b < kBlock ? n - b : kBlock;
        for (std::int64_t i = 0; i < len; ++i) buf[i] = exp_poly(x[b + i] - shift);
        std::int64_t i = 0;
        for (; i + 4 <= len; i += 4) {
            s0 += buf[i];
            s1 += buf[i + 1];
            s2 += buf[i + 2];
            s3 += buf[i + 3];
        }
        for (; i < len; ++i) s0 += buf[i];
    }
    return (s0 + s1) + (s2 + s3);
}

double sum_exp_shifted_reference(const float* x, std::int64_t n, float shift) {
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - static_cast<double>(shift));
    return sum;
}

HALO_CLONES void swiglu(const float* gate, const float* up, float* out, std::int64_t n) {
    // Two simple loops (exp, then the rest): GCC vectorises each; fused, it did not.
    for (std::int64_t i = 0; i < n; ++i) out[i] = -gate[i];
    for (std::int64_t i = 0; i < n; ++i) out[i] = exp_poly(out[i]);
    for (std::int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + out[i]) * up[i];
}

void swiglu_reference(const float* gate, const float* up, float* out, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

}  // namespace halo::model::kernels
