// Amove (MICRO 2025): a fine-grained grouped vectorized data type with residual-approximated
// cluster scales.
//
// A group of G values (along the contracted dimension: weights' input channels, activations'
// features per token) is split into G/C clusters of C values. Each cluster would want its own
// scale d_i = max|x| / qmax (qmax = the element type's symmetric range: 7 for INT4, 3 for INT3,
// 1 for INT2, 6 for FP4 E2M1). Amove stores instead
//   S   base scale  = max_i d_i                       (FP8 E4M3 by default)
//   R   residual    shared by the group               (FP8 E4M3 by default)
//   e_i code per cluster, code_bits wide (2 => 0..3)  cluster scale s_i = S - R * e_i
//   x   the G elements in any scalar type of the element table (or a codebook)
// and decodes x_k = s_i * v(code_k). The scale decoder computes S - R * e_i in FP32 here.
//
// Second-level tensor scale (our choice; the paper is silent): S and R are stored relative to
// one FP32 scale t per tensor (weights) or per token row (activations), t = max S / 448, as in
// NVFP4, so small weights do not fall below E4M3's subnormals. It costs 32 bits per tensor /
// row and is counted in amove_bits().
//
// Packed layout of one group, byte-aligned (exact bit accounting, LSB-first inside bytes):
//   [S: bits(base)] [R: bits(residual)] [e_0 .. e_{G/C-1}: code_bits each] [x_0 .. x_{G-1}]
//   padded with zero bits to a whole byte. E.g. INT3 g32 c4: 8 + 8 + 8*2 + 32*3 = 128 bits.
//   Overhead per value = (bits(S) + bits(R)) / G + code_bits / C.
//
// Residual search (weights, offline): R = r * S for r on a grid [lo, hi] step (the paper:
// [-1, 1] step 0.01 on the scale normalized by S), e_i = round((S - d_i)/R) clamped to
// 0..2^code_bits-1 (and so that s_i > 0); the objective is, by rule:
//   scale_mse (default, the paper's): sum_i (d_i - s_i)^2
//   recon_mse: sum_k (x_k - decode(x_k))^2, the true reconstruction error
//   mean (activations, online): R = mean_i |d_i - S| / 2^code_bits (number of code levels)
// R <= 0 on the grid means every cluster uses S (plain per-group scaling).
//
// Names of format rows (resolved by find_format through find_amove_format):
//   amove-<element>-g<G>c<C>[-b<code_bits>][-s<base fmt>][-r<residual fmt>][-<rule>]
//   element: int2..int8, fp4 (= e2m1), e2m1, e3m2, e2m3, e4m3, e5m2, or "codebook";
//   fmt: e4m3, fp16, e8m0, fp32; rule: scale (default), mse, mean.
//   e.g. amove-int4-g32c4, amove-int3-g32c4, amove-fp4-g128c16, amove-int4-g32c4-mse.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/model/weights.hpp"
#include "halo/quant/format.hpp"

namespace halo::quant {

class QuantizedTensor;

enum class ResidualRule : std::uint8_t { scale_mse, recon_mse, mean };

struct ResidualGrid {
    float lo = -1.0f, hi = 1.0f, step = 0.01f;  // r = R / S
};

struct AmoveConfig {
    int group = 32;
    int cluster = 4;
    int code_bits = 2;
    ScaleFormat base = ScaleFormat::e4m3;
    ScaleFormat residual = ScaleFormat::e4m3;
    ResidualRule rule = ResidualRule::scale_mse;
    ResidualGrid grid;
    int max_code() const { return (1 << code_bits) - 1; }
    int clusters_per_group() const { return (group + cluster - 1) / cluster; }
};

// Hooks a two-level format row gives the quant engine (FormatTraits::two_level).
struct TwoLevelScales {
    // Fits the cluster scales (QuantizedTensor params, one per cluster) of every coarse group
    // that starts in [c0, c1) (groups that started before c0 keep theirs: GPTQ calls at every
    // cluster start, the group's S and R are fixed when its first column is reached).
    void (*fit)(QuantizedTensor& t, const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip);
    // Bits of all scales: per group bits(S)+bits(R), per cluster code_bits, the tensor scale.
    std::uint64_t (*scale_bits)(const QuantizedTensor& t);
};

// A parsed row: the FormatTraits the engine sees (block_cols = cluster, so the engine keeps one
// GroupParams per cluster; scale fp32 = the decoded cluster scale) and the Amove parameters.
struct AmoveFormat {
    std::string name;
    AmoveConfig config;
    FormatTraits traits;
};

// nullptr when `name` is not an amove-* name; bad input E6801 when it is one but malformed.
// Rows are interned: the pointer stays valid for the program's life.
const FormatTraits* find_amove_format(std::string_view name);
// The Amove parameters of a row (nullptr for other formats).
const AmoveConfig* amove_config(const FormatTraits& format);
// Builds the row name for a config and element name ("int4", "fp4", "codebook").
std::string amove_format_name(const AmoveConfig& c, std::string_view element);
// Checks a config (group % cluster, bits 1..4, grid), bad input E6802.
void validate_amove_config(const AmoveConfig& c, std::string_view place);

// Fitted scales of one group.
struct AmoveGroupScales {
    std::uint32_t s_code = 0, r_code = 0;  // stored bit patterns (relative to the tensor scale)
    float base = 0, residual = 0;          // decoded S and R (tensor scale applied)
    std::vector<std::uint8_t> e;           // per cluster
    std::vector<float> cluster_scale;      // s_i = S - R e_i (> 0), 1 for an all-zero group
};

// d_i of each cluster of `x` (clip * max|x| / qmax).
std::vector<float> cluster_ideal_scales(const AmoveConfig& c, std::span<const float> x, float qmax, float clip = 1.0f);
// The per-tensor (per-row) FP32 scale t: max d / max(base format) (1 for fp16/fp32/e8m0 bases).
float amove_tensor_scale(const AmoveConfig& c, float max_ideal_scale);
// Codes e_i for given S and R (round, clamp, keep s_i > 0).
std::vector<std::uint8_t> residual_codes(const AmoveConfig& c, std::span<const float> d, float base, float residual);
// Fits S, R and e for one group (all of the config's rules). `spec` gives the element type.
AmoveGroupScales fit_amove_group(const AmoveConfig& c, const QuantSpec& spec, std::span<const float> x,
                                 float tensor_scale, float clip = 1.0f);

// Quantize-dequantize one group with given scales: reference (exhaustive nearest code) and fast
// (the element table's arithmetic encode); tested equal.
void amove_qdq_group_ref(const AmoveConfig& c, const QuantSpec& spec, const AmoveGroupScales& s, std::span<float> x);
void amove_qdq_group(const AmoveConfig& c, const QuantSpec& spec, const AmoveGroupScales& s, std::span<float> x);

// Bits of a packed group of n values (n <= G; a short last group keeps all its clusters'
// codes and is padded to a byte) and of a whole row of `cols` values (+32 for the row scale
// when `row_scale`).
std::uint64_t amove_group_bits(const AmoveConfig& c, int element_bits, std::int64_t n);
std::uint64_t amove_row_bits(const AmoveConfig& c, int element_bits, std::int64_t cols);
// Overhead bits per value of full groups: (bits(S)+bits(R))/G + code_bits/C.
double amove_overhead_bits_per_value(const AmoveConfig& c);

// Packing of one row of `cols` values into bytes (groups back to back, each byte-aligned):
// reference (bit by bit) and fast (64-bit accumulator); tested to give identical bytes. The
// tensor scale is passed beside the bytes (a FP32 per tensor or row).
std::vector<std::uint8_t> amove_encode_row_ref(const AmoveConfig& c, const QuantSpec& spec, std::span<const float> x,
                                               float tensor_scale);
std::vector<std::uint8_t> amove_encode_row(const AmoveConfig& c, const QuantSpec& spec, std::span<const float> x,
                                           float tensor_scale);
std::vector<float> amove_decode_row_ref(const AmoveConfig& c, const QuantSpec& spec, std::span<const std::uint8_t> bytes,
                                        std::int64_t cols, float tensor_scale);
std::vector<float> amove_decode_row(const AmoveConfig& c, const QuantSpec& spec, std::span<const std::uint8_t> bytes,
                                    std::int64_t cols, float tensor_scale);

// Quantize-dequantize a row-major [rows x cols] matrix in place, groups along the columns,
// one tensor scale per row (activations, per token). Reference and fast, tested equal.
void amove_qdq_rows_ref(const AmoveConfig& c, const QuantSpec& spec, float* data, std::int64_t rows, std::int64_t cols);
void amove_qdq_rows(const AmoveConfig& c, const QuantSpec& spec, float* data, std::int64_t rows, std::int64_t cols);

}  // namespace halo::quant
