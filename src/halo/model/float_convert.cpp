#include "halo/model/float_convert.hpp"

#include <array>
#include <bit>
#include <cmath>
#include <limits>

namespace halo::model {

float fp16_to_fp32_ref(std::uint16_t h) {
    const int sign = (h >> 15) & 1;
    const int exponent = (h >> 10) & 0x1f;
    const int mantissa = h & 0x3ff;
    float magnitude;
    if (exponent == 0) {
        magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // subnormal: m * 2^-24
    } else if (exponent == 31) {
        magnitude = mantissa == 0 ? std::numeric_limits<float>::infinity() : std::numeric_limits<float>::quiet_NaN();
    } else {
        magnitude = std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
    }
    return sign ? -magnitude : magnitude;
}

namespace {
const std::array<float, 65536>& fp16_table() {
    static const std::array<float, 65536> table = [] {
        std::array<float, 65536> t{};
        for (std::uint32_t i = 0; i < 65536; ++i) t[i] = fp16_to_fp32_ref(static_cast<std::uint16_t>(i));
        return t;
    }();
    return table;
}
}  // namespace

float fp16_to_fp32(std::uint16_t h) { return fp16_table()[h]; }

std::uint16_t fp32_to_fp16(float f) {
    const std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000);
    const std::uint32_t abs = x & 0x7fffffffu;
    if (abs > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00);  // NaN
    if (abs >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00);  // rounds to >= 65520: inf
    if (abs < 0x38800000u) {
        // Result is subnormal (or zero) in FP16: value / 2^-24 rounded to nearest even.
        const float scaled = std::bit_cast<float>(abs) * 16777216.0f;  // exact: power of two
        const float rounded = std::nearbyint(scaled);                  // default mode: nearest even
        return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(rounded));
    }
    // Normal: rebias the exponent, round the 13 dropped mantissa bits to nearest even.
    std::uint32_t v = abs - ((127u - 15u) << 23);
    const std::uint32_t dropped = v & 0x1fffu;
    v >>= 13;
    if (dropped > 0x1000u || (dropped == 0x1000u && (v & 1u))) ++v;  // may carry into the exponent: fine
    return static_cast<std::uint16_t>(sign | v);
}

float bf16_to_fp32(std::uint16_t b) { return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16); }

std::uint16_t fp32_to_bf16(float f) {
    std::uint32_t x = std::bit_cast<std::uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((x >> 16) | 0x40);  // quiet NaN
    x += 0x7fffu + ((x >> 16) & 1u);
    return static_cast<std::uint16_t>(x >> 16);
}

}  // namespace halo::model
