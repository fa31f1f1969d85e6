// The fast engine for the timed ternary model (ternary_timing.hpp is its reference): 64
// transitions at once. Final values travel as two bit masks per net (lane is known 1 / known 0),
// the rise/fall bounds as 64-float arrays; each gate applies the unate rule input by input and
// the forcing rule prime implicant by prime implicant (a set of settled inputs forces the output
// exactly when their values contain a prime of F or of !F). Only gates in the fan-in cone of an
// output are evaluated. One engine per circuit (per weight); not shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "halo/timing/dynamic_circuit.hpp"

namespace halo::timing {

constexpr int kLanes = 64;

class DynamicEngine {
public:
    explicit DynamicEngine(const DynamicCircuit& circuit);

    // Sound-bound transitions a0[l] -> a1[l], accumulator free, for l < lanes (<= 64). Writes the
    // output settle time of each lane (kNever when no output can change).
    void run_block(std::span<const std::uint64_t> a0, std::span<const std::uint64_t> a1, float* settle_ns);

    // Every activation pair (2^(2 bits) transitions); returns the latest settle time and the
    // transition that reaches it. `on_block` (may be empty) is called after each 64 transitions.
    struct Worst {
        float settle_ns;
        std::uint64_t a0, a1;
    };
    Worst exhaustive();

    // Per-slot result of the last block, for tests: final value masks and bounds of one lane.
    std::uint64_t known_one(Slot s) const { return k1_[s]; }
    std::uint64_t known_zero(Slot s) const { return k0_[s]; }
    float rise_ns(Slot s, int lane) const { return rise_[std::size_t{s} * kLanes + lane]; }
    float fall_ns(Slot s, int lane) const { return fall_[std::size_t{s} * kLanes + lane]; }
    std::size_t evaluated_gates() const { return gates_.size(); }

private:
    struct Prime {
        std::uint8_t care, value, one;  // one: a prime of F (output rises to it), else of !F
    };
    struct Gate {
        Slot output;
        std::uint8_t n;
        std::array<Slot, kDynamicMaxInputs> inputs;
        std::array<std::array<std::array<float, 2>, 2>, kDynamicMaxInputs> delay_ns;  // [j][out edge][in edge]
        std::array<Unateness, kDynamicMaxInputs> unate;
        std::uint32_t prime_begin, prime_end;
    };
    void set_inputs(std::span<const std::uint64_t> a0, std::span<const std::uint64_t> a1, int lanes);
    void eval_gate(const Gate& g);

    const DynamicCircuit& circuit_;
    std::vector<Gate> gates_;
    std::vector<Prime> primes_;
    std::vector<std::uint64_t> k1_, k0_;
    std::vector<float> rise_, fall_;
};

}  // namespace halo::timing
