// Formats whose value set is not one element type for the whole tensor (docs/formats.md,
// "Mixture-of-datatype and OliVe formats"). Each is a row of the format table with a
// CustomCodes hook (FormatTraits::custom) the quant engine calls instead of the element rules:
//
//  mixture formats: each scale group picks one value set (a "type") among candidates; its
//    symmetric scale is s = clip*max|w| / max|v| of that candidate (rounded to the scale format,
//    under the FP32 tensor scale when the row has one); the candidate with the least squared
//    error wins (ties: the lower type id); the type id is stored per group (type_bits), the code
//    indexes the chosen candidate's sorted values; w = s * v_type(code).
//    bitmod-fp4  BitMoD (Chen et al., HPCA 2025): g128 by default; FP4 E2M1 x2 (0, +-1, +-2,
//                +-3, +-4, +-6, +-8, +-12) plus ONE special value: +5, -5, +16 or -16 (types
//                0..3, 16 codes each, 2 type bits). BitMoD's 8-bit group scale: FP8 E4M3 group
//                scales under an FP32 per-tensor scale t = max|W| / (448 * 12), as NVFP4.
//    bitmod-fp3  the same with FP3 {0, +-1, +-2, +-4} plus +3, -3, +6 or -6 (8 codes, 2 type bits).
//    ant4        ANT (Guo et al., MICRO 2022) weight side: per output channel by default, int4 /
//                flint4 / PoT4 (amove_baselines.hpp's ant4_types(), 15 values each, 4-bit codes),
//                FP16 scale, 2 type bits.
//  olive4: OliVe's outlier-victim pairs (amove_baselines.hpp) per output-channel row, pairs
//    along the input dim: codes are the pair codes there (4 bits a value), one FP16 scale per
//    row; decode reproduces olive4_row exactly. RTN only: the pair rule fixes codes from whole
//    rows, so GPTQ / AWQ (error feedback column by column) are refused (E6030); the input
//    dimension must be even.
//
// Rounding within a type: the nearest value of the candidate (Codebook: ties to the even index,
// saturating). Reference: exhaustive scan of every code of every candidate
// (fit_mixture_group_ref); fast: binary search (fit_mixture_group); tested to agree.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "halo/model/weights.hpp"
#include "halo/quant/codebook.hpp"

namespace halo::quant {

class QuantizedTensor;
struct QuantSpec;

struct CodeFault {
    std::int64_t row = 0, col = 0;
    std::string what;
};

struct CustomCodes {
    std::string_view family;       // "mixture" or "olive"
    int code_bits;
    int type_bits;                 // per scale group (0: no type ids)
    std::int64_t default_group_cols;  // the granularity when none is named (0 = per channel)
    bool error_feedback;           // GPTQ / AWQ may round through it
    std::span<const Codebook> (*candidates)();  // value set per type id (empty for olive)
    // Fits every group overlapping columns [c0, c1) (mixture: scale and type; olive: the row
    // scales and all codes, c0 = 0 and c1 = cols only).
    void (*fit)(QuantizedTensor& t, const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip);
    // Rounds one weight within its group's fitted type, stores the code, returns the value.
    float (*round)(QuantizedTensor& t, std::int64_t r, std::int64_t c, float w);
    float (*decode)(const QuantizedTensor& t, std::int64_t r, std::int64_t c);
    // Codes read from a file that the fit never writes (a code beyond its group's value set, an
    // OliVe pair of two victims): the first one's row and column and what is wrong, or nullopt.
    std::optional<CodeFault> (*find_bad_code)(const QuantizedTensor& t);
};

extern const CustomCodes kBitmodFp4Codes, kBitmodFp3Codes, kAnt4Codes, kOlive4Codes;

// Bad input E6030 naming the method and format when `spec` cannot round under error feedback
// (olive4 with GPTQ or AWQ).
void check_error_feedback(const QuantSpec& spec, std::string_view method);

// One group's choice.
struct MixtureChoice {
    int type = 0;
    float scale = 1.0f;
    double sq_error = 0;
};
// The scale of a group of absolute maximum `amax` for a candidate of largest magnitude `vmax`:
// amax / vmax rounded to the spec's scale format (relative to tensor_scale when the row has one).
float mixture_scale(const QuantSpec& spec, float amax, float vmax, float tensor_scale);
// Fast and reference choice for one group (spec.format->custom must be a mixture).
MixtureChoice fit_mixture_group(const QuantSpec& spec, std::span<const float> x, float tensor_scale, float clip = 1.0f);
MixtureChoice fit_mixture_group_ref(const QuantSpec& spec, std::span<const float> x, float tensor_scale, float clip = 1.0f);
// The FP32 tensor scale of a mixture row with tensor_scale: max|W| / (448 * min_type max|v|),
// so no group's E4M3 scale saturates.
float mixture_tensor_scale(const QuantSpec& spec, std::span<const float> all_values);

}  // namespace halo::quant
