// The plain reference for the static timer (static_timing.hpp): the same OpenSTA rules written
// directly over the netlist, with the Liberty tables' own 2-D lookup and the cell function's
// ternary evaluation and sensitization, no compiled graph, no truth-table tricks. Slow; tests
// check that the fast timer agrees with it.
#pragma once

#include <span>

#include "halo/timing/case_analysis.hpp"
#include "halo/timing/delay_annotation.hpp"

namespace halo::timing {

// Latest arrival at any output port (ns); 0 when every output is constant.
double reference_longest_delay_ns(const netlist::Netlist& netlist, std::span<const NetConstant> held,
                                  const StaOptions& options);

}  // namespace halo::timing
