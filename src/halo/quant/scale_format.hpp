// Formats a scale (or a zero point of a codebook) is stored in: one row per format.
// fp16 (default; IEEE binary16, round to nearest even), e8m0 (OCP MX: 2^(e-127), e=255 is NaN;
// a free-standing e8m0 scale rounds UP to a power of two so no element clips; the MX formats use
// the spec's floor rule instead, see format.hpp), e4m3 (NVFP4 block scales), fp32.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace halo::quant {

enum class ScaleFormat : std::uint8_t { fp32, fp16, e8m0, e4m3 };

struct ScaleFormatTraits {
    ScaleFormat id;
    std::string_view name;
    int bits;
    float (*round)(float);              // nearest storable value (see above for e8m0)
    std::uint32_t (*encode)(float);     // bit pattern of round(x)
    float (*decode)(std::uint32_t);
};

std::span<const ScaleFormatTraits> scale_formats();
const ScaleFormatTraits& scale_format(ScaleFormat id);
const ScaleFormatTraits* find_scale_format(std::string_view name);

// IEEE half helpers (round to nearest even, saturating to +-65504).
std::uint16_t fp16_bits(float x);
float fp16_value(std::uint16_t bits);

}  // namespace halo::quant
