// The timed ternary (floating-mode) model of docs/design/dynamic_timing.md, plain reference
// implementation: one transition at a time, every gate rule evaluated by enumerating input
// assignments and subsets. The fast engine (dynamic_engine.hpp) must agree with it exactly.
//
// Every net carries its final value (0, 1 or X) and two bounds: every rising transition of the
// net happens at or before rise_ns, every falling one at or before fall_ns; -inf means "never".
// The net is stable from max(rise_ns, fall_ns) on.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <vector>

#include "halo/timing/dynamic_circuit.hpp"

namespace halo::timing {

constexpr float kNever = -std::numeric_limits<float>::infinity();

struct TimedTernary {
    std::int8_t final_value = -1;  // 0, 1, or -1 for X (unknown)
    float rise_ns = kNever;
    float fall_ns = kNever;
    float settle_ns() const { return rise_ns > fall_ns ? rise_ns : fall_ns; }
};

// One primary input bit switching at t = 0 from `before` to `after` (stable if equal).
TimedTernary switching_input(bool before, bool after);
// An input bit left free: final value X, may rise or fall at t = 0.
TimedTernary free_input();

// The inputs of the sound-bound transition a0 -> a1 with the accumulator free, in slot order.
std::vector<TimedTernary> activation_transition_inputs(const DynamicCircuit& circuit, std::uint64_t a0, std::uint64_t a1);

// Every input free (activation too): the model's static figure, classical longest-path timing
// with the senses of the weight-restricted functions on the same arc delays. The model is
// monotone, so every transition's settle time is at most this.
std::vector<TimedTernary> static_bound_inputs(const DynamicCircuit& circuit);

// Evaluates every slot; `inputs` gives the activation then the accumulator bits.
std::vector<TimedTernary> ternary_timing_reference(const DynamicCircuit& circuit, std::span<const TimedTernary> inputs);

// Latest time any output bit can change (kNever when none can).
float output_settle_ns(const DynamicCircuit& circuit, std::span<const TimedTernary> slots);

}  // namespace halo::timing
