// The compiled timing graph: a netlist bound to its library, flattened into arrays for the
// static timer's inner loop. Vertices are nets (no wire delay, so every pin of a net shares the
// driver's arrival and slew); edges are Liberty combinational arcs, grouped by the gate output
// they drive, gates in topological order. Each arc carries its delay/slew tables collapsed to
// 1-D curves at its net's load (delay_calc.hpp) and the truth-table variable of its input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/netlist/netlist.hpp"
#include "halo/timing/delay_annotation.hpp"
#include "halo/timing/delay_calc.hpp"

namespace halo::timing {

constexpr int kMaxGateInputs = 6;   // truth tables are 64 bits
constexpr std::uint8_t kNoVar = 0xFF;

struct GraphArc {
    netlist::NetId from_net = netlist::kNoNet;
    int from_pin = -1;                  // cell pin index
    std::uint8_t from_var = kNoVar;     // truth-table variable of from_pin, kNoVar if not read
    liberty::TimingSense lib_sense = liberty::TimingSense::non_unate;
    std::uint32_t delay_curve[2] = {SlewCurves::kNone, SlewCurves::kNone};  // by output edge
    std::uint32_t slew_curve[2] = {SlewCurves::kNone, SlewCurves::kNone};
    bool shared_grid[2] = {false, false};  // delay and slew curve of that edge on one slew grid
    const liberty::TimingArc* lib = nullptr;
};

// One driven output pin of one instance.
struct GateOutput {
    std::uint32_t instance = 0;
    int out_pin = -1;
    netlist::NetId out_net = netlist::kNoNet;
    bool has_table = false;            // false: the output is never constant, senses stay Liberty's
    std::uint64_t table = 0;
    std::uint8_t var_count = 0;
    netlist::NetId var_net[kMaxGateInputs] = {};  // the net of each truth-table variable
    std::uint32_t arcs_begin = 0, arcs_end = 0;   // into CompiledGraph::arcs
};

struct OutputBit {
    netlist::NetId net = netlist::kNoNet;
    std::uint32_t port = 0;
    std::uint32_t bit = 0;
};

struct CompiledGraph {
    const netlist::Netlist* netlist = nullptr;
    StaOptions options;
    std::vector<GateOutput> gates;          // topological order
    std::vector<GraphArc> arcs;
    SlewCurves curves;
    std::vector<double> load_pf[2];         // per net, by output edge (rise/fall pin caps)
    std::vector<netlist::NetId> input_nets; // nets driven by input port bits
    std::vector<OutputBit> outputs;         // output port bits
    std::vector<std::uint32_t> gate_of_net; // driving gate output, ~0 if none

    std::size_t net_count() const { return load_pf[0].size(); }
};

// Builds the graph. Throws E3010 for a sequential cell (static timing here is combinational),
// E3011 for a gate output with more than kMaxGateInputs function inputs, E3012 for a
// combinational arc without delay tables.
CompiledGraph compile_timing_graph(const netlist::Netlist& netlist, const StaOptions& options);

// "inst/PIN" or a port bit name "y[3]", for reports.
std::string net_driver_name(const CompiledGraph& graph, netlist::NetId net);

}  // namespace halo::timing
