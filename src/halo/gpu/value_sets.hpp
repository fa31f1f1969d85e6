// Weight value sets for GPU GEMM measurements: each a row of a table, named, with a generator
// that fills an [N x K] INT8 weight matrix (row-major, output x input, as halo stores linear
// weights). Specs are "name" or "name:argument" (e.g. "single:64", "popcount:3",
// "codebook:0,8,16,32", "file:codes.bin"). Activations come from a stated distribution.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace halo::gpu {

struct ValueSetRow {
    std::string_view name;
    std::string_view argument;  // what the part after ':' means, "" when none
    std::string_view description;
};

const std::vector<ValueSetRow>& value_set_table();

// Fills N*K int8 codes for `spec`. Deterministic for a seed. Bad specs: halo::Error E8010.
std::vector<std::int8_t> make_weights(std::string_view spec, std::int64_t n, std::int64_t k, std::uint64_t seed);

// Activations [M x K]: Gaussian with sigma `sigma` rounded and clipped to [-127, 127].
std::vector<std::int8_t> make_activations(std::int64_t m, std::int64_t k, double sigma, std::uint64_t seed);

// Nearest member of a sorted codebook (ties to the lower value).
std::int8_t nearest_code(const std::vector<int>& sorted_codebook, double x);

}  // namespace halo::gpu
