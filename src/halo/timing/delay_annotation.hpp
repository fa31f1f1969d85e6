// The gate-delay model shared by static and dynamic timing and by the energy model: every
// cell arc's rise and fall delay, every net's load and slews, computed once by the static
// (NLDM) pass with the weight free. Dynamic timing and energy use these fixed numbers:
// "arc delays from the library at the slews and loads the static pass computed".
#pragma once

#include <cstdint>
#include <vector>

#include "halo/netlist/netlist.hpp"

namespace halo::timing {

struct StaOptions {
    double output_load_pf = 0.01;  // set_load on every output port
    double input_slew_ns = 0.0;    // ideal input transition on every input port
    unsigned threads = 0;          // 0 = all cores
};

// Delay of one cell arc (input pin -> output pin of one instance), by output edge.
struct ArcTiming {
    int from_pin = -1;       // input pin index in the cell
    int to_pin = -1;         // output pin index in the cell
    double rise_ns = 0;      // output rising
    double fall_ns = 0;      // output falling
    // Which input edge causes which output edge: positive (rise->rise), negative
    // (rise->fall), non_unate (either).
    std::uint8_t sense = 0;  // liberty::TimingSense as an integer
};

struct NetElectrical {
    double load_pf = 0;       // fanout pin capacitance + port load
    double slew_rise_ns = 0;  // worst rising slew the static pass found on this net
    double slew_fall_ns = 0;
};

struct DelayAnnotation {
    std::vector<std::vector<ArcTiming>> arcs;  // index = instance
    std::vector<NetElectrical> nets;           // index = NetId
    double voltage_v = 0;                      // the library's nominal voltage
};

// Computes the annotation from the library's NLDM tables (implemented by the static timer).
DelayAnnotation annotate_delays(const netlist::Netlist& netlist, const StaOptions& options);

}  // namespace halo::timing
