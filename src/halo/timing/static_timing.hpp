// Static timing with case analysis, as OpenSTA computes `report_checks -unconstrained` with
// `set_case_analysis` and no parasitics:
//  * primary inputs: arrival 0, slew StaOptions::input_slew_ns (ideal 0), rise and fall;
//  * delay calculation (OpenSTA's GraphDelayCalc): a net's rise/fall slew is the MAX over every
//    arc from a non-constant input of its driver of the arc's output transition, whichever arc
//    sets the arrival; it ignores the senses case analysis derives (only constant inputs are
//    skipped);
//  * arrival search (OpenSTA's Search): arrival(net, edge) = max over arcs whose input and
//    output are not constant and whose derived sense lets (input edge -> output edge) through
//    of arrival(input, input edge) + delay(input slew, net load);
//  * the result is the latest arrival at any output port bit, rise or fall.
#pragma once

#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "halo/timing/case_analysis.hpp"
#include "halo/timing/timing_graph.hpp"

namespace halo::timing {

constexpr double kNoArrival = -std::numeric_limits<double>::infinity();

// Per-thread scratch for one evaluation; reusable across evaluations of one graph.
struct StaWorkspace {
    struct NetState {
        double arrival_ns[2];
        double slew_ns[2];
    };
    std::vector<Logic> value;        // per net
    std::vector<NetState> state;     // per net
    std::vector<std::uint8_t> gate_has_constant;
    // Optional (empty = off; the incremental sweep sizes it to the arcs): each arc's curve values
    // at its input's slews of the last evaluation. A curve at the same slew gives the same
    // number, so the figures are unchanged; a sweep over many codes mostly finds the slews of
    // the last code and skips the NLDM interpolation. Indexed [out edge][in edge].
    struct ArcMemo {
        double in_slew_ns[2];
        double delay_ns[2][2];
        double slew_ns[2][2];
        SimSense sense;  // the arc's sense under the constants of the last evaluation
    };
    std::vector<ArcMemo> arc_memo;
    // Filled only when tracing: the arc and input edge that set each (net, edge) arrival.
    bool trace = false;
    std::vector<std::uint32_t> best_arc[2];
    std::vector<std::uint8_t> best_from_edge[2];
};

struct Endpoint {
    bool reached = false;   // false: every output is constant or unreachable
    double delay_ns = 0;    // latest arrival at an output port
    OutputBit output;       // where
    int edge = kRise;
};

struct PathPoint {
    std::string pin;       // "_123_/Y", input "a[3]", or the output "y[23]"
    std::string cell;      // cell name, "(input)" or "(output)"
    int edge = kRise;
    double incr_ns = 0;
    double arrival_ns = 0;
    double slew_ns = 0;
    double load_pf = 0;    // load of the net the point drives (gates only)
};

struct StaticPath {
    Endpoint endpoint;
    std::vector<PathPoint> points;  // startpoint first
};

class StaticTimer {
public:
    StaticTimer(const netlist::Netlist& netlist, const StaOptions& options = {});

    const CompiledGraph& graph() const { return graph_; }

    // Propagates constants, slews and arrivals into `ws` and returns the latest output arrival.
    Endpoint evaluate(std::span<const NetConstant> held, StaWorkspace& ws) const;

    // The two per-gate steps of evaluate(), for incremental re-evaluation (static_sweep_engine.cpp):
    // gate `gi`'s constant flag and output value from its inputs' values (the output must start
    // as Logic::x unless held), then its output's slews and arrivals from its inputs' states.
    void evaluate_gate_constant(std::size_t gi, StaWorkspace& ws) const;
    // `same_constants`: the gate's input values are those of its last evaluation on `ws`, whose
    // arc memo (when on) then still holds each arc's case-analysis sense.
    void evaluate_gate_timing(std::size_t gi, StaWorkspace& ws, bool same_constants = false) const;
    // The latest arrival at an output port of an evaluated workspace.
    Endpoint latest_output(const StaWorkspace& ws) const;

    Endpoint analyze(std::span<const NetConstant> held) const;
    double nominal_delay_ns() const { return analyze({}).delay_ns; }

    // The critical path, startpoint to endpoint, like `report_checks -format full`.
    StaticPath critical_path(std::span<const NetConstant> held) const;

private:
    CompiledGraph graph_;
};

// `report_checks -format full`-like text of a path.
std::string format_path(const StaticPath& path, int digits = 4);

}  // namespace halo::timing
