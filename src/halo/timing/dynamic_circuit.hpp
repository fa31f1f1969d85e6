// The circuit dynamic timing and energy work on: the MAC netlist with its weight port tied to
// one code, constants propagated through it, and what is left renumbered into dense "slots"
// (one per net that can still change). Every gate is one output pin of one instance, with its
// function restricted to the inputs that are not constant, the arc delays the static pass
// annotated, and the gate logic (primes, unateness) of that restricted function.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "halo/netlist/netlist.hpp"
#include "halo/timing/case_analysis.hpp"
#include "halo/timing/delay_annotation.hpp"
#include "halo/timing/dynamic_cell_function.hpp"

namespace halo::timing {

using Slot = std::uint32_t;

class StaticTimer;

// Edge-resolved arc delays: delay_ns[out edge][in edge], edge 0 = rise, 1 = fall.
struct EdgeArcDelay {
    int from_pin = -1;
    int to_pin = -1;
    float delay_ns[2][2] = {{0, 0}, {0, 0}};
};

// The gate-delay model dynamic timing runs on: every arc's four edge delays, every net's load
// and slews (for energy), the supply voltage.
struct DynamicDelays {
    std::vector<std::vector<EdgeArcDelay>> arcs;  // index = instance
    std::vector<NetElectrical> nets;              // index = NetId
    double voltage_v = 0;
};

// From a DelayAnnotation (one delay per output edge): both input edges get it.
DynamicDelays delays_from_annotation(const DelayAnnotation& annotation);

// The static pass under case analysis (`held`, e.g. the weight port at one code): slews as the
// static timer computes them for that case, and each arc's table delay at the slew of each
// input edge and the net's load, so the model uses exactly the static timer's numbers.
DynamicDelays delays_for_case(const StaticTimer& timer, std::span<const NetConstant> held);

struct DynamicPorts {
    std::string weight = "w";
    std::string activation = "a";
    std::string accumulator = "acc";
};

struct CircuitGate {
    Slot output = 0;
    std::uint32_t instance = 0;
    int output_pin = -1;               // cell pin index of the output
    std::vector<Slot> inputs;          // non-constant inputs only
    std::vector<int> input_pins;       // their cell pin indices
    // delay_ns[j][out edge][in edge]: arc delay input j -> output (0 = rise, 1 = fall)
    std::vector<std::array<std::array<float, 2>, 2>> delay_ns;
    GateLogic logic;                   // of the function restricted to `inputs`
    bool drives_output = false;        // in the fan-in cone of an output port bit
};

struct DynamicCircuit {
    std::uint64_t weight_code = 0;
    int activation_bits = 0;
    int accumulator_bits = 0;
    // Slots 0..activation_bits-1 are the activation bits (LSB first), then the accumulator bits.
    Slot slot_count = 0;
    std::vector<netlist::NetId> slot_net;      // index = slot
    std::vector<CircuitGate> gates;            // topological order
    std::vector<Slot> output_slots;            // output port bits that are not constant
    std::vector<std::int8_t> net_constant;     // index = NetId: 0, 1, or -1 when not constant
    std::size_t missing_arcs = 0;              // gate inputs with no annotated arc (delay 0 used)
};

// Ties the weight port to `weight_code` and builds the circuit. Errors: E3501 port missing or
// of the wrong direction, E3502 an input port other than the three, E3503 sequential cell,
// E3504 annotation does not match the netlist, E3505 port too wide, E3506 output undriven,
// E3507 cell with more than 6 inputs, E3508 output pin without a function.
DynamicCircuit build_dynamic_circuit(const netlist::Netlist& netlist, const DynamicDelays& delays,
                                     const DynamicPorts& ports, std::uint64_t weight_code);

// Plain evaluation of the circuit with concrete inputs (no timing): the value of every slot.
std::vector<std::uint8_t> evaluate_circuit(const DynamicCircuit& circuit, std::uint64_t activation,
                                           std::uint64_t accumulator);

inline bool gate_value(const GateLogic& logic, unsigned input_assignment) {
    return (logic.truth >> input_assignment) & 1u;
}

}  // namespace halo::timing
