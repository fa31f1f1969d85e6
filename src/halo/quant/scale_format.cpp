#include "halo/quant/scale_format.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>

#include "halo/quant/element_type.hpp"

namespace halo::quant {

std::uint16_t fp16_bits(float x) {
    const auto h = static_cast<_Float16>(std::clamp(x, -65504.0f, 65504.0f));
    return std::bit_cast<std::uint16_t>(h);
}
float fp16_value(std::uint16_t bits) { return static_cast<float>(std::bit_cast<_Float16>(bits)); }

namespace {

float round_fp32(float x) { return x; }
std::uint32_t enc_fp32(float x) { return std::bit_cast<std::uint32_t>(x); }
float dec_fp32(std::uint32_t b) { return std::bit_cast<float>(b); }

float round_fp16(float x) { return fp16_value(fp16_bits(x)); }
std::uint32_t enc_fp16(float x) { return fp16_bits(x); }
float dec_fp16(std::uint32_t b) { return fp16_value(static_cast<std::uint16_t>(b)); }

std::uint32_t enc_e8m0(float x) {
    if (!(x > 0)) return 0;  // 2^-127, the smallest
    const int e = static_cast<int>(std::ceil(std::log2(static_cast<double>(x))));
    return static_cast<std::uint32_t>(std::clamp(e + 127, 0, 254));
}
float dec_e8m0(std::uint32_t b) {
    if (b == 255) return std::numeric_limits<float>::quiet_NaN();
    return std::ldexp(1.0f, static_cast<int>(b) - 127);
}
float round_e8m0(float x) { return dec_e8m0(enc_e8m0(x)); }

std::uint32_t enc_e4m3(float x) { return encode(element_type(ElementId::e4m3), x); }
float dec_e4m3(std::uint32_t b) { return decode(element_type(ElementId::e4m3), static_cast<std::uint8_t>(b)); }
float round_e4m3(float x) { return dec_e4m3(enc_e4m3(x)); }

constexpr std::array<ScaleFormatTraits, 4> kScaleFormats = {{
    {ScaleFormat::fp32, "fp32", 32, round_fp32, enc_fp32, dec_fp32},
    {ScaleFormat::fp16, "fp16", 16, round_fp16, enc_fp16, dec_fp16},
    {ScaleFormat::e8m0, "e8m0", 8, round_e8m0, enc_e8m0, dec_e8m0},
    {ScaleFormat::e4m3, "e4m3", 8, round_e4m3, enc_e4m3, dec_e4m3},
}};
static_assert(kScaleFormats[static_cast<int>(ScaleFormat::e4m3)].bits == 8);

}  // namespace

std::span<const ScaleFormatTraits> scale_formats() { return kScaleFormats; }
const ScaleFormatTraits& scale_format(ScaleFormat id) { return kScaleFormats[static_cast<std::size_t>(id)]; }
const ScaleFormatTraits* find_scale_format(std::string_view name) {
    for (const auto& f : kScaleFormats)
        if (f.name == name) return &f;
    return nullptr;
}

}  // namespace halo::quant
