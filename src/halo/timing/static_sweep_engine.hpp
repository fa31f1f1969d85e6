// The fast per-weight static sweep behind static_delay_sweep (docs/design/timing.md, "How it
// is fast"). One workspace per run of codes; the first code of a run is evaluated in full, each
// next one incrementally: only gates downstream of a changed weight bit are evaluated again, in
// topological order, and a gate's readers only when its output's value, slews or arrivals
// changed. Each gate is evaluated by the same two steps as the full evaluation
// (StaticTimer::evaluate_gate_*), on final inputs, so every figure equals the full evaluation's.
//
// Order of the codes: a Gray order (consecutive codes differ in one weight bit) in which the
// weight bit flipped most often is the one whose flips re-evaluate the fewest gates. The cost of
// each bit is measured on the graph itself (gates re-evaluated per flip, mean over a few codes),
// because it differs by orders of magnitude: on the BF16 MAC a mantissa bit reaches most of the
// multiplier while the sign bit reaches a few gates.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/timing/static_timing.hpp"
#include "halo/util/progress.hpp"

namespace halo::timing {

// Which gates read each net (a gate once per net), flat: gates[begin[n] .. begin[n + 1]).
struct NetReaders {
    std::vector<std::uint32_t> begin;
    std::vector<std::uint32_t> gates;
};
NetReaders net_readers(const CompiledGraph& graph);

class StaticSweepEngine {
public:
    // Validates the port (E3001, E3002) and measures each weight bit's cost.
    StaticSweepEngine(const StaticTimer& timer, std::string_view weight_port);

    // Longest path to any output for each code (0 when every output is constant), as
    // static_delay_sweep. Codes must fit the port (E3003, checked before any work).
    std::vector<double> sweep(std::span<const std::uint64_t> codes, unsigned threads,
                              const ProgressSink& progress = {}) const;

    // Measured mean gates evaluated again per flip of each weight bit (index = port bit).
    const std::vector<double>& bit_cost() const { return bit_cost_; }
    // Port bit at each Gray position, position 0 (flipped every other code) first.
    const std::vector<unsigned>& bit_order() const { return bit_order_; }
    // Position of `code` in the sweep's visiting order.
    std::uint64_t visit_rank(std::uint64_t code) const;

private:
    const StaticTimer& timer_;
    std::string port_name_;
    std::vector<netlist::NetId> port_nets_;   // bit i of a code on port_nets_[i]
    NetReaders readers_;
    std::vector<std::uint8_t> pinned_;        // per net: a port bit or a constant net
    std::vector<double> bit_cost_;
    std::vector<unsigned> bit_order_;
};

}  // namespace halo::timing
