#include "halo/quant/format.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "halo/quant/amove_format.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

using E = ElementId;
constexpr FormatTraits row_int(std::string_view name, E e, bool asym) {
    return {name, e, asym, 0, ScaleFormat::fp16, ScaleRule::absmax, false, asym ? "asymmetric integer, scale + zero point" : "symmetric integer, scale"};
}
constexpr FormatTraits row_fp(std::string_view name, E e) {
    return {name, e, false, 0, ScaleFormat::fp16, ScaleRule::absmax, false, "minifloat with a scale"};
}
constexpr FormatTraits row_mx(std::string_view name, E e) {
    return {name, e, false, 32, ScaleFormat::e8m0, ScaleRule::mx_floor, false, "OCP MX v1.0: 32 elements, shared E8M0 scale"};
}

constexpr FormatTraits row_custom(std::string_view name, const CustomCodes& c, ScaleFormat sf, bool tensor_scale,
                                 std::string_view summary) {
    return {name, std::nullopt, false, 0, sf, ScaleRule::absmax, tensor_scale, summary, nullptr, &c};
}

constexpr std::array<FormatTraits, 37> kFormats = {{
    row_int("int2", E::int2, false), row_int("int3", E::int3, false), row_int("int4", E::int4, false),
    row_int("int5", E::int5, false), row_int("int6", E::int6, false), row_int("int7", E::int7, false),
    row_int("int8", E::int8, false),
    row_int("int2-asym", E::uint2, true), row_int("int3-asym", E::uint3, true), row_int("int4-asym", E::uint4, true),
    row_int("int5-asym", E::uint5, true), row_int("int6-asym", E::uint6, true), row_int("int7-asym", E::uint7, true),
    row_int("int8-asym", E::uint8, true),
    row_fp("fp8-e4m3", E::e4m3), row_fp("fp8-e5m2", E::e5m2), row_fp("fp6-e3m2", E::e3m2), row_fp("fp6-e2m3", E::e2m3),
    row_fp("fp4-e2m1", E::e2m1),
    row_mx("mxint8", E::mxint8), row_mx("mxfp8", E::e4m3), row_mx("mxfp8-e5m2", E::e5m2), row_mx("mxfp6", E::e3m2),
    row_mx("mxfp6-e2m3", E::e2m3), row_mx("mxfp4", E::e2m1),
    row_mx("mxfp3", E::e2m0), row_mx("mxfp3-e1m1", E::e1m1),
    {"nvfp4", E::e2m1, false, 16, ScaleFormat::e4m3, ScaleRule::nvfp4, true, "16 E2M1 values, E4M3 block scale, FP32 tensor scale"},
    {"codebook", std::nullopt, false, 0, ScaleFormat::fp16, ScaleRule::absmax, false, "nearest value of a given codebook, scale"},
    {"codebook-asym", std::nullopt, true, 0, ScaleFormat::fp16, ScaleRule::absmax, false, "codebook, w = s*(c - z)"},
    // Unscaled element formats: the codes are the values (scale 1), e.g. weights already in range.
    {"e4m3-raw", E::e4m3, false, 0, ScaleFormat::fp16, ScaleRule::absmax, false, "raw E4M3 (no scaling)"},
    {"int8-raw", E::int8, false, 0, ScaleFormat::fp16, ScaleRule::absmax, false, "raw INT8 (no scaling)"},
    {"e2m1-raw", E::e2m1, false, 0, ScaleFormat::fp16, ScaleRule::absmax, false, "raw E2M1 (no scaling)"},
    row_custom("bitmod-fp4", kBitmodFp4Codes, ScaleFormat::e4m3, true,
               "BitMoD: per group (g128) FP4 E2M1 + one special value (+-5, +-16), E4M3 group scale, FP32 tensor scale"),
    row_custom("bitmod-fp3", kBitmodFp3Codes, ScaleFormat::e4m3, true,
               "BitMoD: per group (g128) FP3 {0,+-1,+-2,+-4} + one special value (+-3, +-6), E4M3 group scale, FP32 tensor scale"),
    row_custom("ant4", kAnt4Codes, ScaleFormat::fp16, false, "ANT: per channel int4 / flint4 / PoT4, FP16 scale"),
    row_custom("olive4", kOlive4Codes, ScaleFormat::fp16, false, "OliVe: int4 pairs, outlier in abfloat, victim zeroed, FP16 row scale (RTN only)"),
}};
static_assert(kFormats[27].name == "nvfp4" && kFormats[27].block_cols == 16);
static_assert(kFormats[24].name == "mxfp4" && kFormats[24].block_cols == 32);
static_assert(kFormats[25].name == "mxfp3" && kFormats[27].name == "nvfp4");

bool is_raw(const FormatTraits& f) { return f.name.ends_with("-raw"); }

float round_scale(const QuantSpec& spec, float s) {
    float r = scale_format(spec.scale).round(s);
    if (!(r > 0)) r = scale_format(spec.scale).round(std::numeric_limits<float>::min());
    if (!(r > 0)) r = 1.0f;
    return r;
}

}  // namespace

std::span<const FormatTraits> formats() { return kFormats; }
const FormatTraits* find_format(std::string_view name) {
    for (const auto& f : kFormats)
        if (f.name == name) return &f;
    return find_amove_format(name);  // amove-* rows, parsed on demand
}
std::string int_format_name(int bits, bool asymmetric) { return fmt::format("int{}{}", bits, asymmetric ? "-asym" : ""); }

std::string Granularity::describe() const {
    if (group_rows == 0 && group_cols == 0) return "per-tensor";
    if (group_rows == 1 && group_cols == 0) return "per-channel";
    if (group_rows == 1) return fmt::format("g{}", group_cols);
    return fmt::format("tile {}x{}", group_rows, group_cols);
}

namespace {
// The value set a custom row's QuantSpec stands for (its first candidate; olive4: int4).
const Codebook* custom_first(const FormatTraits& f) {
    if (!f.custom || f.custom->candidates().empty()) return nullptr;
    return &f.custom->candidates()[0];
}
ElementId element_or_int4(const FormatTraits& f) { return f.element.value_or(ElementId::int4); }
}  // namespace

int QuantSpec::element_bits() const {
    if (format->custom) return format->custom->code_bits;
    return format->element ? element_type(*format->element).bits : codebook.bits();
}
float QuantSpec::value(std::uint8_t code) const {
    if (const auto* cb = custom_first(*format)) return cb->value(code);
    return format->uses_codebook() ? codebook.value(code) : decode(element_type(element_or_int4(*format)), code);
}
std::uint8_t QuantSpec::encode(float y) const {
    if (const auto* cb = custom_first(*format)) return cb->encode(y);
    return format->uses_codebook() ? codebook.encode(y) : quant::encode(element_type(element_or_int4(*format)), y);
}
float QuantSpec::vmin() const {
    if (const auto* cb = custom_first(*format)) return cb->min();
    return format->uses_codebook() ? codebook.min() : min_value(element_type(element_or_int4(*format)));
}
float QuantSpec::vmax() const {
    if (const auto* cb = custom_first(*format)) return cb->max();
    return format->uses_codebook() ? codebook.max() : max_finite(element_type(element_or_int4(*format)));
}
float QuantSpec::max_abs() const { return std::max(std::fabs(vmin()), std::fabs(vmax())); }
float QuantSpec::sym_range() const {
    const float lo = vmin(), hi = vmax();
    return (lo < 0 && hi > 0) ? std::min(-lo, hi) : max_abs();
}
int QuantSpec::zero_bits() const {
    if (!format->asymmetric) return 0;
    return format->element ? element_bits() : scale_format(scale).bits;
}
std::string QuantSpec::describe() const {
    return fmt::format("{} {} ({} scales{})", format->name, granularity.describe(), scale_format(scale).name,
                       format->tensor_scale ? " + fp32 tensor scale" : "");
}

QuantSpec make_spec(std::string_view format_name, Granularity g, std::optional<ScaleFormat> scale, Codebook codebook) {
    QuantSpec spec;
    spec.format = find_format(format_name);
    if (!spec.format) {
        std::string names;
        for (const auto& f : kFormats) names += fmt::format("{}{}", names.empty() ? "" : ", ", f.name);
        throw_bad_value("E6001", "--format", "unknown quantization format", names, std::string(format_name));
    }
    if (spec.format->uses_codebook() && codebook.size() == 0)
        throw_bad_value("E6001", "--format", "a codebook format needs a codebook", "a codebook of 1..256 values",
                        "none", "pass the values with --codebook v1,v2,...");
    if (g.group_rows < 0 || g.group_cols < 0)
        throw_bad_value("E6001", "--group", "group and tile sizes must be positive", ">= 1",
                        fmt::format("{}x{}", g.group_rows, g.group_cols));
    if (spec.format->block_cols > 0) {
        const Granularity want{1, spec.format->block_cols};
        // Per-channel is what a caller says when it names no group: take the format's block.
        if (!(g == want) && !(g == Granularity::per_channel()))
            throw_bad_value("E6001", "--group", fmt::format("{} has a fixed block", spec.format->name),
                            fmt::format("no --group or --group {}", spec.format->block_cols), g.describe(),
                            "MX and NVFP4 blocks are fixed by their specifications");
        g = want;
        if (scale && *scale != spec.format->scale)
            throw_bad_value("E6001", "--scale-format", fmt::format("{} fixes its scale format", spec.format->name),
                            std::string(scale_format(spec.format->scale).name), std::string(scale_format(*scale).name));
    }
    if (const auto* cc = spec.format->custom) {
        if (g == Granularity::per_channel() && cc->default_group_cols > 0) g = Granularity::per_group(cc->default_group_cols);
        if (cc->family == "olive" && !(g == Granularity::per_channel()))
            throw_bad_value("E6001", "--group", "olive4 pairs values along whole output-channel rows", "no --group / --tile",
                            g.describe(), "olive4 has one FP16 scale per row");
        if (cc->family == "olive" && scale && *scale != ScaleFormat::fp16)  // the pair rule's scale search is in FP16
            throw_bad_value("E6001", "--scale-format", "olive4 fixes its scale format", "fp16",
                            std::string(scale_format(*scale).name));
    }
    spec.granularity = g;
    spec.scale = scale.value_or(spec.format->scale);
    if (spec.format->uses_codebook() && spec.format->asymmetric && spec.scale == ScaleFormat::e8m0)
        throw_bad_value("E6001", "--scale-format", "codebook zero points are stored in the scale format, which e8m0 cannot hold",
                        "fp16, e4m3 or fp32", "e8m0");
    spec.codebook = std::move(codebook);
    return spec;
}

float tensor_scale_for(std::span<const float> all, float vmax) {
    float amax = 0;
    for (float v : all) amax = std::max(amax, std::fabs(v));
    const float t = amax / (max_finite(element_type(ElementId::e4m3)) * vmax);
    return t > 0 ? t : 1.0f;
}

float scale_under_tensor_scale(const ScaleFormatTraits& sf, float amax, float vmax, float tensor_scale) {
    const float s = sf.round(amax / vmax / tensor_scale);
    return (s > 0 ? s : sf.decode(1)) * tensor_scale;
}

float fit_tensor_scale(const QuantSpec& spec, std::span<const float> all) {
    return spec.format->tensor_scale ? tensor_scale_for(all, spec.max_abs()) : 1.0f;
}

GroupParams fit_group(const QuantSpec& spec, std::span<const float> values, float tensor_scale, float clip) {
    GroupParams p;
    if (is_raw(*spec.format)) return p;
    float lo = 0, hi = 0, amax = 0;
    for (float v : values) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    amax = std::max(-lo, hi) * clip;
    lo *= clip;
    hi *= clip;
    if (amax == 0) return p;
    switch (spec.format->rule) {
        case ScaleRule::mx_floor: {
            const auto& et = element_type(*spec.format->element);
            const int emax_elem = static_cast<int>(std::floor(std::log2(max_finite(et))));
            const int e = static_cast<int>(std::floor(std::log2(static_cast<double>(amax)))) - emax_elem;
            p.scale = std::ldexp(1.0f, std::clamp(e, -127, 127));
            return p;
        }
        case ScaleRule::nvfp4:
            p.scale = scale_under_tensor_scale(scale_format(ScaleFormat::e4m3), amax, spec.max_abs(), tensor_scale);
            return p;
        case ScaleRule::absmax: break;
    }
    if (!spec.format->asymmetric) {
        p.scale = round_scale(spec, amax / spec.sym_range());
        return p;
    }
    const float vmin = spec.vmin(), vmax = spec.vmax();
    p.scale = round_scale(spec, (hi - lo) / (vmax - vmin));
    float z = vmin - lo / p.scale;
    if (spec.format->element) z = std::clamp(std::nearbyint(z), vmin, vmax);
    else z = scale_format(spec.scale).round(z);
    p.zero = z;
    return p;
}

}  // namespace halo::quant
