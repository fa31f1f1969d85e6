// Quantization formats: one row per format in formats() (name, element type, zero point or not,
// fixed block, scale format, second-level tensor scale), plus the granularity a tensor's scales
// are shared at and the QuantSpec that binds the two (and a codebook when the format is one).
//
// A weight decodes as  w = scale * (v(code) - zero)  [* tensor_scale folded into scale], where
// v is the element type's value (or codebook entry). Symmetric formats have zero = 0.
//
// Scale groups are rectangles of the [out x in] weight matrix: Granularity{group_rows,
// group_cols}, 0 meaning "all": per-tensor {0,0}, per-channel (output channel) {1,0},
// per-group g along the input dimension {1,g}, per-tile r x c {r,c}. When g (or c, r) does
// not divide the dimension, the LAST group is shorter (ceil(cols/g) groups) — nothing is padded.
//
// Scale fitting per group (clip in (0,1] shrinks the range; AWQ searches it):
//  symmetric: s = clip*max|w| / sym_range (7 for int4: [-8, 7] keeps -8 unused at the extremes), rounded to the scale format;
//  asymmetric: lo = clip*min(min w, 0), hi = clip*max(max w, 0), s = (hi-lo)/(vmax-vmin),
//    z = vmin - lo/s; integer elements round z to an integer stored in the element's bits,
//    codebooks keep z in the scale format;
//  MX (OCP MX v1.0 sec. 6.3): s = 2^(floor(log2 max|w|) - emax_elem), E8M0, elements saturate;
//  NVFP4: tensor scale t = max|W| / (448*6) in FP32, block scale e4m3(max|w| / 6 / t), s = e4m3*t.
//  custom rows (bitmod-fp4/-fp3, ant4, olive4): mixed_types.hpp.
// A group of zeros gets s = 1 (codes 0).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "halo/quant/codebook.hpp"
#include "halo/quant/element_type.hpp"
#include "halo/quant/scale_format.hpp"

namespace halo::quant {

enum class ScaleRule : std::uint8_t { absmax, mx_floor, nvfp4 };
struct TwoLevelScales;  // amove_format.hpp: formats whose per-cluster scales a coarse group fits
struct CustomCodes;     // mixed_types.hpp: per-group type mixtures (BitMoD, ANT) and OliVe pairs

struct FormatTraits {
    std::string_view name;      // "int4", "int4-asym", "fp8-e4m3", "mxfp4", "nvfp4", "codebook"
    std::optional<ElementId> element;  // nullopt: a codebook given at run time
    bool asymmetric;            // has a zero point
    int block_cols;             // fixed block along the input dim (rows 1); 0 = chosen granularity
    ScaleFormat scale;          // default scale format
    ScaleRule rule;
    bool tensor_scale;          // a second-level FP32 scale per tensor (NVFP4)
    std::string_view summary;
    const TwoLevelScales* two_level = nullptr;  // Amove rows (find_amove_format); null for the rows here
    const CustomCodes* custom = nullptr;        // bitmod-*, ant4, olive4 (element nullopt, no codebook)
    // A run-time codebook gives the values (the "codebook" rows).
    constexpr bool uses_codebook() const { return !element && !custom; }
};

std::span<const FormatTraits> formats();
const FormatTraits* find_format(std::string_view name);
// "int<bits>" / "int<bits>-asym" from --bits with no --format.
std::string int_format_name(int bits, bool asymmetric);

struct Granularity {
    std::int64_t group_rows = 1;  // 0 = all rows
    std::int64_t group_cols = 0;  // 0 = all columns
    static Granularity per_tensor() { return {0, 0}; }
    static Granularity per_channel() { return {1, 0}; }
    static Granularity per_group(std::int64_t g) { return {1, g}; }
    static Granularity per_tile(std::int64_t r, std::int64_t c) { return {r, c}; }
    std::string describe() const;  // "per-channel", "g128", "tile 128x128", "per-tensor"
    bool operator==(const Granularity&) const = default;
};

struct QuantSpec {
    const FormatTraits* format = nullptr;
    Codebook codebook;          // used when format->element is nullopt
    Granularity granularity;    // forced to {1, block_cols} for fixed-block formats
    ScaleFormat scale = ScaleFormat::fp16;

    int element_bits() const;
    // Element value v(code) and nearest code. Custom rows (mixed_types.hpp): those of their first
    // candidate (type 0; olive4: int4); the tensor's group types pick the others.
    float value(std::uint8_t code) const;
    std::uint8_t encode(float y) const;      // nearest code to y (already divided by scale)
    float vmin() const;
    float vmax() const;
    float max_abs() const;
    // Magnitude reachable on both sides of zero (7 for int4, 6 for E2M1): symmetric scales map
    // max|w| to it, so neither extreme saturates.
    float sym_range() const;
    int zero_bits() const;                   // 0 symmetric; element bits (int); scale bits (codebook)
    std::string describe() const;            // "int4 g128 (fp16 scales)"
};

// Builds and checks a spec: unknown format, a codebook format without a codebook, a group or
// tile size < 1, a granularity a fixed-block format cannot take => bad input E6001.
QuantSpec make_spec(std::string_view format_name, Granularity granularity, std::optional<ScaleFormat> scale = {},
                    Codebook codebook = {});

struct GroupParams {
    float scale = 1.0f;
    float zero = 0.0f;
};

// Fits one group's parameters from its values (see the rules above). tensor_scale is used by
// NVFP4 only.
GroupParams fit_group(const QuantSpec& spec, std::span<const float> values, float tensor_scale = 1.0f,
                      float clip = 1.0f);
float fit_tensor_scale(const QuantSpec& spec, std::span<const float> all_values);
// The two-level scale rule NVFP4 and the BitMoD rows share: the FP32 tensor scale that maps max|W|
// to E4M3's largest value times `vmax` (1 for an all-zero tensor), and a group's scale
// sf(amax / vmax / t) * t, the smallest positive scale where that rounds to zero.
float tensor_scale_for(std::span<const float> all_values, float vmax);
float scale_under_tensor_scale(const ScaleFormatTraits& sf, float amax, float vmax, float tensor_scale);

inline std::uint8_t quantize_value(const QuantSpec& spec, const GroupParams& p, float w) {
    return spec.encode(w / p.scale + p.zero);
}
inline float dequantize_value(const QuantSpec& spec, const GroupParams& p, std::uint8_t code) {
    return p.scale * (spec.value(code) - p.zero);
}

}  // namespace halo::quant
