// Synthetic MAC profiles and layers for the halo tests.
#pragma once

#include <cmath>
#include <random>

#include "halo/hwq/ladder.hpp"
#include "halo/model/weights.hpp"

namespace halo::hwq::test {

// An INT8 profile shaped like osu018's: negative weights slow, non-negative multiples of 8
// fastest, multiples of 16 faster still; energy grows with the popcount of the code.
inline mac::MacProfile synthetic_int8_profile() {
    mac::MacProfile p;
    p.weight_format = "int8";
    p.weight_bits = 8;
    p.nominal_voltage_v = 1.8;
    p.netlist = "synthetic";
    for (std::uint64_t code = 0; code < 256; ++code) {
        mac::ProfileWeight w;
        w.code = code;
        const int v = code >= 128 ? static_cast<int>(code) - 256 : static_cast<int>(code);
        w.value = v;
        double d = 4.0;
        if (v < 0) d = 5.5 - 0.001 * (v + 128);
        else if (v % 16 == 0) d = 3.9 + 0.0001 * v;
        else if (v % 8 == 0) d = 3.95 + 0.0001 * v;
        else d = 4.5 + 0.001 * (v % 8);
        w.static_delay_ns = d;
        w.energy_fj = 100.0 + 10.0 * __builtin_popcountll(code);
        p.weights.push_back(w);
    }
    return p;
}

inline model::Matrix random_matrix(std::int64_t rows, std::int64_t cols, unsigned seed, double sd = 0.02) {
    model::Matrix m(rows, cols);
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, static_cast<float>(sd));
    for (auto& x : m.data) x = n(rng);
    return m;
}

}  // namespace halo::hwq::test
