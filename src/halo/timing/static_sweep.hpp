// The per-weight static sweep: one compiled graph, every weight code held in turn on the weight
// port, evaluated in parallel (StaticSweepEngine: incremental, in a measured Gray order).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "halo/timing/static_timing.hpp"
#include "halo/util/progress.hpp"

namespace halo::timing {

// Longest path (ns) to any output with `weight_port` held at each code (bit i of the code on
// bit i of the port). A code whose outputs are all constant gets 0. Throws E3001-E3003 for a
// bad port or code (before any work).
std::vector<double> static_delay_sweep(const netlist::Netlist& netlist, std::string_view weight_port,
                                       std::span<const std::uint64_t> codes, const StaOptions& options,
                                       const ProgressSink& progress = {});

// Same on an already compiled timer.
std::vector<double> static_delay_sweep(const StaticTimer& timer, std::string_view weight_port,
                                       std::span<const std::uint64_t> codes, unsigned threads,
                                       const ProgressSink& progress = {});

// The plain reference of the sweep: every code evaluated in full (StaticTimer::evaluate), one
// workspace per code. static_delay_sweep (static_sweep_engine.hpp) must equal it exactly.
std::vector<double> reference_static_delay_sweep(const StaticTimer& timer, std::string_view weight_port,
                                                 std::span<const std::uint64_t> codes, unsigned threads);

// Every code of a `bits`-wide port, 0 .. 2^bits - 1.
std::vector<std::uint64_t> all_codes(unsigned bits);

}  // namespace halo::timing
