// The transition sets dynamic timing is measured over, all seeded and reproducible:
//   - sound bound: every activation pair a0 -> a1 when the activation is at most
//     `exhaustive_max_bits` wide, else `samples` pairs drawn uniformly (accumulator free);
//   - data-dependent: (a0, acc0) -> (a1, acc1) with the four values drawn independently from a
//     stated distribution (uniform or Gaussian activations, Gaussian partial sums, or values
//     captured from a model run), in two's complement of the port widths.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/timing/event_sim.hpp"

namespace halo::timing {

enum class ActivationDistribution : std::uint8_t { uniform, gaussian };

struct DataDistribution {
    ActivationDistribution activation = ActivationDistribution::uniform;
    double activation_sigma = 32;     // Gaussian activations, in LSB (signed, clipped to range)
    double accumulator_sigma = 2048;  // Gaussian partial sums, in LSB (signed, clipped to range)
    // Captured values (signed integers); when non-empty they replace the draws above.
    std::vector<std::int64_t> captured_activations;
    std::vector<std::int64_t> captured_accumulators;

    std::string describe() const;
};

// A reproducible stream per (seed, weight): transitions do not depend on thread scheduling.
std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t weight_code);

std::vector<Stimulus> sample_data_transitions(std::size_t count, std::uint64_t seed, int activation_bits,
                                              int accumulator_bits, const DataDistribution& distribution);

// Every activation pair (a0, a1), a0-major (index = a0 * 2^bits + a1), 2^(2 bits) transitions;
// the partial sums acc0, acc1 of each drawn from `distribution` as sample_data_transitions does
// (captured activations are not used: the activations are enumerated). E3522 when wider than 12.
std::vector<Stimulus> exhaustive_data_transitions(std::uint64_t seed, int activation_bits, int accumulator_bits,
                                                  const DataDistribution& distribution);

// Uniform activation pairs for the sound bound of wide activations (acc fields left 0).
std::vector<Stimulus> sample_activation_pairs(std::size_t count, std::uint64_t seed, int activation_bits);

// Two's complement bits of `value` in a `bits`-wide field, after clipping to its range.
std::uint64_t to_field(std::int64_t value, int bits);

}  // namespace halo::timing
