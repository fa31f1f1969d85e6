// Test helper: stimulus for the MACs. Integer MACs: all (w, a) pairs for a few accumulators,
// including the extremes so the wrap-around is exercised. Floating-point MACs: an accumulator
// drawn near the product (cancellation, ties, carries), subnormal, zero, huge or special, so
// the rounding paths are hit far more often than with uniform random bits.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "halo/mac/mac_table.hpp"
#include "halo/mac/reference_arith.hpp"
#include "mac_sim_harness.hpp"

namespace halo::mac::test {

inline std::uint64_t mask_bits(int bits) { return bits >= 64 ? ~0ull : (1ull << bits) - 1; }

inline std::vector<Vector> exhaustive_int(const MacSpec& s, const std::vector<std::uint64_t>& accs) {
    std::vector<Vector> v;
    for (std::uint64_t acc : accs)
        for (std::uint64_t w = 0; w <= mask_bits(s.weight_bits); ++w)
            for (std::uint64_t a = 0; a <= mask_bits(s.activation_bits); ++a) {
                const std::uint64_t c = acc & mask_bits(s.accumulator_bits);
                v.push_back({w, a, c, reference_y(s, w, a, c)});
            }
    return v;
}

// The accumulator's bit pattern for a double (FP32 or FP16 by width), rounded by the host.
inline std::uint64_t acc_bits_of(double x, int acc_bits) {
    if (acc_bits == 32) return fp32_to_bits(static_cast<float>(x));
    const auto h = static_cast<_Float16>(x);
    std::uint16_t b;
    std::memcpy(&b, &h, 2);
    return b;
}

inline double input_value(const MacSpec& s, std::uint64_t code) {
    return s.weight_format == WeightFormat::bf16 ? bf16_to_double(code) : e4m3_to_double(code);
}

inline std::vector<Vector> random_fp(const MacSpec& s, int count, std::uint32_t seed) {
    std::mt19937_64 rng(seed);
    const int ab = s.accumulator_bits;
    std::vector<Vector> v;
    v.reserve(count);
    for (int i = 0; i < count; ++i) {
        std::uint64_t w = rng() & mask_bits(s.weight_bits), a = rng() & mask_bits(s.activation_bits);
        if (s.weight_bits == 16 && rng() % 4 == 0) {  // bf16 products near FP32's underflow
            w = (w & 0x807F) | ((rng() % 64) << 7);
            a = (a & 0x807F) | ((rng() % 64) << 7);
        }
        const double p = input_value(s, w) * input_value(s, a);
        std::uint64_t acc = 0;
        switch (rng() % 8) {
        case 0: acc = rng() & mask_bits(ab); break;                                    // anything
        case 1: acc = acc_bits_of(-p, ab) ^ (rng() % 8); break;                        // cancellation
        case 2: acc = acc_bits_of(p * std::ldexp(1.0, int(rng() % 60) - 30), ab) ^ (rng() % 4); break;
        case 3: acc = acc_bits_of(-p * std::ldexp(1.0, int(rng() % 60) - 30), ab) ^ (rng() % 4); break;
        case 4: acc = rng() & (ab == 32 ? 0x807FFFFFull : 0x83FFull); break;            // subnormal
        case 5: acc = (rng() & 1) << (ab - 1); break;                                  // +-0
        case 6: acc = ((rng() & 1) << (ab - 1)) | (ab == 32 ? 0x7F800000ull : 0x7C00ull) |
                      ((rng() % 3 == 0) ? 1 : 0); break;                               // Inf / NaN
        default: acc = acc_bits_of(p * (1 + std::ldexp(double(rng() % 16), -int(rng() % 30))), ab); break;
        }
        acc &= mask_bits(ab);
        v.push_back({w, a, acc, reference_y(s, w, a, acc)});
    }
    return v;
}

}  // namespace halo::mac::test
