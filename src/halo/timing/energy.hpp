// Switching-energy model of dynamic timing's circuits. Every toggle of a net costs
//   - 1/2 C V^2, C = the net's load (fanout pins + port load) from the static pass, and
//   - when a gate output toggles: the output pin's internal energy from the library's
//     internal_power table whose related_pin is the input whose change caused the toggle,
//     rise_power or fall_power by the output edge, looked up at that input net's annotated slew
//     (of the input's own edge) and the output net's load. Internal energy of input pins (a
//     toggle that does not reach the output) is not modelled; OSU libraries give none.
// Primary-input toggles (activation, accumulator) pay 1/2 C V^2 of their load only; constant
// nets never toggle. Leakage is reported separately: the sum of cell_leakage_power.
#pragma once

#include <array>
#include <vector>

#include "halo/netlist/netlist.hpp"
#include "halo/timing/delay_annotation.hpp"
#include "halo/timing/dynamic_circuit.hpp"

namespace halo::timing {

struct GateEnergy {
    // Per input j: internal energy in fJ, index [output rises ? 0 : 1][input rose ? 0 : 1].
    std::vector<std::array<std::array<double, 2>, 2>> internal_fj;
};

struct EnergyModel {
    std::vector<GateEnergy> gates;    // index = gate index in DynamicCircuit::gates
    std::vector<double> toggle_fj;    // index = slot: 1/2 C V^2 of the net
    double voltage_v = 0;
    double leakage_nw = 0;
};

EnergyModel build_energy_model(const DynamicCircuit& circuit, const netlist::Netlist& netlist,
                               const DynamicDelays& delays);

// Sum of cell_leakage_power over all instances, in nW.
double leakage_power_nw(const netlist::Netlist& netlist);

// 1/2 C V^2 in fJ for C in pF.
inline double half_cv2_fj(double cap_pf, double voltage_v) { return 0.5 * cap_pf * voltage_v * voltage_v * 1000.0; }

}  // namespace halo::timing
