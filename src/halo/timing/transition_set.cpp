#include "halo/timing/transition_set.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::timing {

std::string DataDistribution::describe() const {
    std::string a = !captured_activations.empty() ? fmt::format("captured activations ({} values)", captured_activations.size())
                    : activation == ActivationDistribution::uniform ? std::string("uniform activations")
                                                                    : fmt::format("Gaussian activations (sigma {} LSB)", activation_sigma);
    std::string s = !captured_accumulators.empty() ? fmt::format("captured partial sums ({} values)", captured_accumulators.size())
                                                   : fmt::format("Gaussian partial sums (sigma {} LSB)", accumulator_sigma);
    return a + ", " + s + ", all four values of a transition independent";
}

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t weight_code) {
    // splitmix64 of the pair, so neighbouring weights get unrelated streams.
    std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + weight_code + 0x632BE59BD9B4E019ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::uint64_t to_field(std::int64_t value, int bits) {
    if (bits >= 64) return static_cast<std::uint64_t>(value);
    const std::int64_t lo = -(std::int64_t{1} << (bits - 1)), hi = (std::int64_t{1} << (bits - 1)) - 1;
    value = std::clamp(value, lo, hi);
    return static_cast<std::uint64_t>(value) & ((std::uint64_t{1} << bits) - 1);
}

std::vector<Stimulus> sample_data_transitions(std::size_t count, std::uint64_t seed, int activation_bits,
                                              int accumulator_bits, const DataDistribution& d) {
    if (d.activation == ActivationDistribution::gaussian && !(d.activation_sigma > 0))
        throw_bad_value("E3520", "activation_sigma", "Gaussian activation spread must be positive", "> 0",
                        fmt::format("{}", d.activation_sigma), "");
    if (!(d.accumulator_sigma > 0) && d.captured_accumulators.empty())
        throw_bad_value("E3521", "accumulator_sigma", "partial-sum spread must be positive", "> 0",
                        fmt::format("{}", d.accumulator_sigma), "");
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> act_normal(0.0, d.activation_sigma > 0 ? d.activation_sigma : 1.0);
    std::normal_distribution<double> acc_normal(0.0, d.accumulator_sigma > 0 ? d.accumulator_sigma : 1.0);
    const std::uint64_t act_mask = activation_bits >= 64 ? ~0ull : (std::uint64_t{1} << activation_bits) - 1;
    auto activation = [&]() -> std::uint64_t {
        if (!d.captured_activations.empty())
            return to_field(d.captured_activations[rng() % d.captured_activations.size()], activation_bits);
        if (d.activation == ActivationDistribution::uniform) return rng() & act_mask;
        return to_field(std::llround(act_normal(rng)), activation_bits);
    };
    auto accumulator = [&]() -> std::uint64_t {
        if (!d.captured_accumulators.empty())
            return to_field(d.captured_accumulators[rng() % d.captured_accumulators.size()], accumulator_bits);
        return to_field(std::llround(acc_normal(rng)), accumulator_bits);
    };
    std::vector<Stimulus> out(count);
    for (auto& s : out) {
        s.a0 = activation();
        s.acc0 = accumulator();
        s.a1 = activation();
        s.acc1 = accumulator();
    }
    return out;
}

std::vector<Stimulus> exhaustive_data_transitions(std::uint64_t seed, int activation_bits, int accumulator_bits,
                                                  const DataDistribution& d) {
    if (activation_bits < 0 || activation_bits > 12)
        throw_bad_value("E3522", "activation", "activation too wide for every transition", "at most 12 bits",
                        std::to_string(activation_bits), "sample transitions instead (a transition count)");
    std::vector<Stimulus> out = sample_data_transitions(std::size_t{1} << (2 * activation_bits), seed, activation_bits,
                                                        accumulator_bits, d);
    const std::uint64_t n = std::uint64_t{1} << activation_bits;
    for (std::uint64_t i = 0; i < out.size(); ++i) {
        out[i].a0 = i / n;
        out[i].a1 = i % n;
    }
    return out;
}

std::vector<Stimulus> sample_activation_pairs(std::size_t count, std::uint64_t seed, int activation_bits) {
    std::mt19937_64 rng(seed ^ 0x5bd1e995ull);
    const std::uint64_t mask = activation_bits >= 64 ? ~0ull : (std::uint64_t{1} << activation_bits) - 1;
    std::vector<Stimulus> out(count);
    for (auto& s : out) {
        s.a0 = rng() & mask;
        s.a1 = rng() & mask;
    }
    return out;
}

}  // namespace halo::timing
