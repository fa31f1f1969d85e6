#include "halo/mac/reference_arith.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace halo::mac {

std::int64_t sign_extend(std::uint64_t v, int bits) {
    if (bits >= 64) return static_cast<std::int64_t>(v);
    const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
    v &= mask;
    const std::uint64_t sign = std::uint64_t{1} << (bits - 1);
    return static_cast<std::int64_t>(v ^ sign) - static_cast<std::int64_t>(sign);
}

bool e4m3_is_nan(std::uint32_t code) { return (code & 0x7F) == 0x7F; }

double e4m3_to_double(std::uint32_t code) {
    if (e4m3_is_nan(code)) return std::numeric_limits<double>::quiet_NaN();
    const int s = (code >> 7) & 1, e = (code >> 3) & 0xF, m = code & 7;
    const double mag = e == 0 ? std::ldexp(m, -9) : std::ldexp(8 + m, e - 7 - 3);
    return s ? -mag : mag;
}

double bf16_to_double(std::uint32_t code) { return fp32_from_bits((code & 0xFFFFu) << 16); }

double fp16_to_double(std::uint32_t code) {
    const int s = (code >> 15) & 1, e = (code >> 10) & 0x1F, m = code & 0x3FF;
    double mag;
    if (e == 0x1F)
        mag = m ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
    else if (e == 0)
        mag = std::ldexp(m, -24);
    else
        mag = std::ldexp(1024 + m, e - 15 - 10);
    return s ? -mag : mag;
}

float fp32_from_bits(std::uint32_t bits) { return std::bit_cast<float>(bits); }
std::uint32_t fp32_to_bits(float f) { return std::bit_cast<std::uint32_t>(f); }

std::uint64_t mac_ref_int(std::uint64_t w, std::uint64_t a, std::uint64_t acc, int w_bits, int a_bits,
                          bool a_signed, int acc_bits) {
    const std::int64_t wv = sign_extend(w, w_bits);
    const std::int64_t av = a_signed ? sign_extend(a, a_bits)
                                     : static_cast<std::int64_t>(a & ((std::uint64_t{1} << a_bits) - 1));
    // Unsigned arithmetic wraps modulo 2^64, and 2^acc_bits divides 2^64.
    const std::uint64_t y = static_cast<std::uint64_t>(sign_extend(acc, acc_bits)) +
                            static_cast<std::uint64_t>(wv) * static_cast<std::uint64_t>(av);
    return acc_bits >= 64 ? y : y & ((std::uint64_t{1} << acc_bits) - 1);
}

namespace {
std::uint32_t canonical_fp32(float y) { return std::isnan(y) ? kFp32CanonicalNan : fp32_to_bits(y); }
}  // namespace

std::uint32_t mac_ref_e4m3_fp32(std::uint32_t w, std::uint32_t a, std::uint32_t acc) {
    const auto wf = static_cast<float>(e4m3_to_double(w));
    const auto af = static_cast<float>(e4m3_to_double(a));
    return canonical_fp32(std::fmaf(wf, af, fp32_from_bits(acc)));
}

std::uint32_t mac_ref_bf16_fp32(std::uint32_t w, std::uint32_t a, std::uint32_t acc) {
    const auto wf = static_cast<float>(bf16_to_double(w));
    const auto af = static_cast<float>(bf16_to_double(a));
    return canonical_fp32(std::fmaf(wf, af, fp32_from_bits(acc)));
}

std::uint32_t mac_ref_e4m3_fp16(std::uint32_t w, std::uint32_t a, std::uint32_t acc) {
    // The exact sum fits a double: FP16 bits span 2^-24 .. 2^16, E4M3 products 2^-18 .. 2^18 with
    // 8 significant bits, so 43 bits in all; the one rounding is the cast to _Float16.
    const double sum = fp16_to_double(acc) + e4m3_to_double(w) * e4m3_to_double(a);
    if (std::isnan(sum)) return kFp16CanonicalNan;
    const auto h = static_cast<_Float16>(sum);
    std::uint16_t bits;
    std::memcpy(&bits, &h, sizeof bits);
    return bits;
}

}  // namespace halo::mac
