// Shared by the activation-quantizer tests (act_row_quant_test.cpp on the host,
// cuda_activation_test.cpp on the GPU): the CPU references, hostile rows, and how two results
// are compared.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "halo/cuda/act_row_format.hpp"
#include "halo/model/activation_quant.hpp"
#include "halo/quant/amove_activation.hpp"

namespace halo::cuda::test {

// Every --act-format name the table's rows list.
inline std::vector<std::string> row_examples(const GpuActivationRow& row) {
    std::vector<std::string> names;
    std::istringstream in{std::string(row.examples)};
    for (std::string n; in >> n;) names.push_back(n);
    return names;
}

// The CPU's quantizer of a name's linear operand: model's own table (int8_per_token, its fast
// path: what the CPU forward's hooks run) or the quant plan's operand.
inline void cpu_quantize(std::string_view name, float* data, std::int64_t rows, std::int64_t cols) {
    if (name == "int8_per_token") return model::activation_format(name).fast(data, rows, cols);
    quant::parse_activation_plan(name)->linear.apply(data, rows, cols);
}

// Rows with every case a quantizer must get right: random normals, an all-zero row, a row of
// -0, an all-equal row, exact ties of a scale 1 grid, outliers, huge (1e30 .. 3e38) and tiny
// (1e-30, subnormals) magnitudes, a row with one nonzero value, alternating signs.
inline std::vector<float> hostile_rows(std::int64_t rows, std::int64_t cols, unsigned seed) {
    const std::int64_t asked = rows;
    if (rows < 10) rows = 10;  // room for the special rows; the result is cut back to `asked`
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(rows * cols));
    for (auto& v : x) v = nd(rng);
    const auto at = [&](std::int64_t r, std::int64_t c) -> float& { return x[static_cast<std::size_t>(r * cols + c)]; };
    for (std::int64_t c = 0; c < cols; ++c) {
        at(0, c) = 0.0f;
        at(1, c) = c == 0 ? 127.0f : static_cast<float>((c % 20) - 10) + 0.5f;  // ties: k/2 steps of a scale 1
        at(2, c) = 3.0f;                                                         // all equal
        at(3, c) = -0.0f;
        at(4, c) = at(4, c) * 1e30f;
        at(5, c) = c % 7 == 0 ? 3.0e38f * (c % 2 ? -1.0f : 1.0f) : at(5, c);      // near FLT_MAX beside O(1) values
        at(6, c) = at(6, c) * 1e-30f;
        at(7, c) = at(7, c) * 1e-42f;                                            // subnormals
        at(8, c) = c == cols / 2 ? -2.5f : 0.0f;                                 // one value
        at(9, c) = (c % 2 ? -1.0f : 1.0f) * static_cast<float>(c % 9);           // small integers, alternating
    }
    for (std::int64_t r = 10; r < rows; r += 3) at(r, (r * 7) % cols) *= 60.0f;  // outliers
    x.resize(static_cast<std::size_t>(asked * cols));
    return x;
}

// Rows holding NaN and +-inf among ordinary values (a forward that overflowed).
inline std::vector<float> nonfinite_rows(std::int64_t cols, unsigned seed) {
    std::vector<float> x = hostile_rows(4, cols, seed);  // row 0: a NaN; 1: +inf; 2: -inf; 3: NaN and +inf
    for (std::int64_t c = 0; c < cols; ++c) x[static_cast<std::size_t>(c)] = static_cast<float>(c % 5) - 2.0f;
    x[static_cast<std::size_t>(3)] = std::numeric_limits<float>::quiet_NaN();
    x[static_cast<std::size_t>(cols + 5)] = std::numeric_limits<float>::infinity();
    x[static_cast<std::size_t>(2 * cols + 1)] = -std::numeric_limits<float>::infinity();
    x[static_cast<std::size_t>(3 * cols + 2)] = std::numeric_limits<float>::quiet_NaN();
    x[static_cast<std::size_t>(3 * cols + 9)] = std::numeric_limits<float>::infinity();
    return x;
}

// Values that differ: not the same bits, and not both NaN (a NaN's sign and payload are not
// the CPU's to define: x86 and the GPU make different ones).
inline std::size_t differing(const std::vector<float>& a, const std::vector<float>& b) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) && std::isnan(b[i])) continue;
        n += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
    }
    return n;
}

}  // namespace halo::cuda::test
