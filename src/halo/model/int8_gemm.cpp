#include "halo/model/int8_gemm.hpp"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "halo/model/blas.hpp"

namespace halo::model {

namespace {

// One row of x -> codes and per-block scales (scale = max|x| / 127; an all-zero block has scale
// 0 and codes 0).
void quantize_row(const float* x, std::int64_t cols, std::int8_t* q, float* s) {
    for (std::int64_t b = 0; b < cols / kInt8Block; ++b) {
        const float* xb = x + b * kInt8Block;
        float amax = 0;
        for (std::int64_t i = 0; i < kInt8Block; ++i) amax = std::max(amax, std::fabs(xb[i]));
        const float scale = amax / 127.0f;
        const float inv = scale > 0 ? 1.0f / scale : 0.0f;
        s[b] = scale;
        for (std::int64_t i = 0; i < kInt8Block; ++i)
            q[b * kInt8Block + i] = static_cast<std::int8_t>(std::lround(std::clamp(xb[i] * inv, -127.0f, 127.0f)));
    }
}

struct QuantizedActivations {
    std::vector<std::int8_t> q;
    std::vector<float> s;
};

QuantizedActivations quantize_activations(const float* x, std::int64_t rows, std::int64_t cols) {
    QuantizedActivations a;
    a.q.resize(static_cast<std::size_t>(rows * cols));
    a.s.resize(static_cast<std::size_t>(rows * (cols / kInt8Block)));
    for (std::int64_t r = 0; r < rows; ++r)
        quantize_row(x + r * cols, cols, a.q.data() + r * cols, a.s.data() + r * (cols / kInt8Block));
    return a;
}

bool cpu_has_vnni() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vnni");
}

// Output rows [o0, o1) for all tokens. Tokens are taken 4 at a time so each weight register
// is used four times. Activations arrive shifted to unsigned (qx + 128).
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vnni,fma"))) void vnni_rows(
    const std::uint8_t* xu, const float* sx, std::int64_t rows, const Int8Matrix& w, std::int64_t o0,
    std::int64_t o1, float* y, float beta) {
    const std::int64_t K = w.cols, nb = w.blocks(), out = w.rows;
    for (std::int64_t o = o0; o < o1; ++o) {
        const std::int8_t* wq = w.codes.data() + o * K;
        const float* ws = w.scales.data() + o * nb;
        const std::int32_t* wsum = w.sums.data() + o * nb;
        std::int64_t t = 0;
        for (; t < rows; t += 4) {
            const std::int64_t tn = std::min<std::int64_t>(4, rows - t);
            __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps()};
            for (std::int64_t b = 0; b + 2 <= nb; b += 2) {
                const __m512i wv = _mm512_loadu_si512(wq + b * kInt8Block);
                // [sw_b x8 | sw_b+1 x8] and the int32 corrections 128*sum(qw) likewise.
                const __m512 swv = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(ws[b])),
                                                      _mm256_set1_ps(ws[b + 1]), 1);
                const __m512i cv = _mm512_inserti32x8(_mm512_castsi256_si512(_mm256_set1_epi32(wsum[b] / 8)),
                                                      _mm256_set1_epi32(wsum[b + 1] / 8), 1);
                for (std::int64_t j = 0; j < tn; ++j) {
                    const std::int64_t tt = t + j;
                    const __m512i xv = _mm512_loadu_si512(xu + tt * K + b * kInt8Block);
                    __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), xv, wv);
                    d = _mm512_sub_epi32(d, cv);
                    const float* sxt = sx + tt * nb + b;
                    const __m512 sxv = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_set1_ps(sxt[0])),
                                                          _mm256_set1_ps(sxt[1]), 1);
                    acc[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(swv, sxv), acc[j]);
                }
            }
            for (std::int64_t j = 0; j < tn; ++j) {
                const std::int64_t tt = t + j;
                float sum = _mm512_reduce_add_ps(acc[j]);
                if (nb % 2) {  // an odd last block: scalar
                    const std::int64_t b = nb - 1;
                    std::int32_t dot = 0;
                    for (std::int64_t i = 0; i < kInt8Block; ++i)
                        dot += (static_cast<std::int32_t>(xu[tt * K + b * kInt8Block + i]) - 128) * wq[b * kInt8Block + i];
                    sum += sx[tt * nb + b] * ws[b] * static_cast<float>(dot);
                }
                float& dst = y[tt * out + o];
                dst = beta == 0.0f ? sum : beta * dst + sum;
            }
        }
    }
}

}  // namespace

Int8Matrix make_int8_matrix(std::int64_t rows, std::int64_t cols, std::vector<std::int8_t> codes,
                            std::vector<float> scales) {
    Int8Matrix m;
    m.rows = rows;
    m.cols = cols;
    m.codes = std::move(codes);
    m.scales = std::move(scales);
    const std::int64_t nb = cols / kInt8Block;
    m.sums.resize(static_cast<std::size_t>(rows * nb));
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t b = 0; b < nb; ++b) {
            std::int32_t s = 0;
            for (std::int64_t i = 0; i < kInt8Block; ++i) s += m.codes[static_cast<std::size_t>(r * cols + b * kInt8Block + i)];
            m.sums[static_cast<std::size_t>(r * nb + b)] = 128 * s;
        }
    return m;
}

Int8Matrix quantize_int8_blocks(const float* x, std::int64_t rows, std::int64_t cols) {
    QuantizedActivations a = quantize_activations(x, rows, cols);
    return make_int8_matrix(rows, cols, std::move(a.q), std::move(a.s));
}

void int8_gemm_reference(const float* x, std::int64_t rows, const Int8Matrix& w, float* y, float beta) {
    const std::int64_t K = w.cols, nb = w.blocks();
    const QuantizedActivations a = quantize_activations(x, rows, K);
    for (std::int64_t t = 0; t < rows; ++t)
        for (std::int64_t o = 0; o < w.rows; ++o) {
            double sum = 0;
            for (std::int64_t b = 0; b < nb; ++b) {
                std::int32_t dot = 0;
                for (std::int64_t i = 0; i < kInt8Block; ++i)
                    dot += static_cast<std::int32_t>(a.q[static_cast<std::size_t>(t * K + b * kInt8Block + i)]) *
                           static_cast<std::int32_t>(w.codes[static_cast<std::size_t>(o * K + b * kInt8Block + i)]);
                sum += static_cast<double>(a.s[static_cast<std::size_t>(t * nb + b)]) *
                       static_cast<double>(w.scales[static_cast<std::size_t>(o * nb + b)]) * dot;
            }
            float& dst = y[t * w.rows + o];
            dst = static_cast<float>(beta == 0.0f ? sum : beta * dst + sum);
        }
}

bool int8_gemm_has_fast_kernel() {
    static const bool has = cpu_has_vnni();
    return has;
}

void int8_gemm(const float* x, std::int64_t rows, const Int8Matrix& w, float* y, float beta) {
    if (!int8_gemm_has_fast_kernel()) {
        int8_gemm_reference(x, rows, w, y, beta);
        return;
    }
    const std::int64_t K = w.cols;
    QuantizedActivations a = quantize_activations(x, rows, K);
    std::vector<std::uint8_t> xu(a.q.size());
    for (std::size_t i = 0; i < xu.size(); ++i) xu[i] = static_cast<std::uint8_t>(a.q[i] + 128);
    constexpr std::int64_t kRowsPerItem = 32;
    const std::int64_t items = (w.rows + kRowsPerItem - 1) / kRowsPerItem;
    model_parallel_for(static_cast<std::size_t>(items), [&](std::size_t i, unsigned) {
        const std::int64_t o0 = static_cast<std::int64_t>(i) * kRowsPerItem;
        vnni_rows(xu.data(), a.s.data(), rows, w, o0, std::min(w.rows, o0 + kRowsPerItem), y, beta);
    });
}

}  // namespace halo::model
