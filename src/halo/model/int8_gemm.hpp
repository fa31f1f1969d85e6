// INT8 x INT8 matrix product with per-32-block scales, the arithmetic of llama.cpp's Q8_0 path:
// a weight row is blocks of 32 int8 codes with one float scale each (Q8_0 / RTN W8 g32), the
// activations are quantized the same way per token on the fly (scale = max|x| / 127, codes
// round(x / scale) in [-127, 127]), and
//     y[t][o] = sum_b  sx[t][b] * sw[o][b] * sum_{i<32} qx[t][32b+i] * qw[o][32b+i]
// with the inner sums exact in int32.
//
// Two implementations, tested against each other (tests/unit/model/int8_gemm_test.cpp):
// int8_gemm_reference (plain loops) and int8_gemm (AVX-512 VNNI: the activations are shifted to
// unsigned, qx + 128, for vpdpbusd, and 128 * sum(qw) per block is subtracted back; falls back
// to the reference on CPUs without AVX-512 VNNI). int8_gemm splits output rows across the model
// threads (blas.hpp).
#pragma once

#include <cstdint>
#include <vector>

namespace halo::model {

inline constexpr std::int64_t kInt8Block = 32;

// A linear weight [rows x cols] as int8 codes and one scale per 32 inputs; cols % 32 == 0.
struct Int8Matrix {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::vector<std::int8_t> codes;    // [rows x cols], each in [-127, 127]
    std::vector<float> scales;         // [rows x cols/32]
    std::vector<std::int32_t> sums;    // [rows x cols/32]: 128 * sum of the block's codes (for VNNI)
    std::int64_t blocks() const { return cols / kInt8Block; }
};

// Builds an Int8Matrix from codes and scales (computes `sums`).
Int8Matrix make_int8_matrix(std::int64_t rows, std::int64_t cols, std::vector<std::int8_t> codes,
                            std::vector<float> scales);

// Quantizes a float matrix to Int8Matrix the Q8_0 way (the activations' rule, used for tests
// and for weights that are not already int8).
Int8Matrix quantize_int8_blocks(const float* x, std::int64_t rows, std::int64_t cols);

// Y[rows x w.rows] = X[rows x w.cols] * W^T (beta 0) or Y += ... (beta 1), X quantized per
// token and 32-block first.
void int8_gemm_reference(const float* x, std::int64_t rows, const Int8Matrix& w, float* y, float beta);
void int8_gemm(const float* x, std::int64_t rows, const Int8Matrix& w, float* y, float beta);

// Whether int8_gemm runs its VNNI kernel on this CPU (else it is the reference).
bool int8_gemm_has_fast_kernel();

}  // namespace halo::model
