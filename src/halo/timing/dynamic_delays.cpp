// delays_for_case: the per-weight static pass's slews turned into the four edge delays of every
// arc, so that dynamic timing and static timing use the same numbers for the same weight.
#include "halo/timing/dynamic_circuit.hpp"
#include "halo/timing/static_timing.hpp"

namespace halo::timing {

DynamicDelays delays_for_case(const StaticTimer& timer, std::span<const NetConstant> held) {
    StaWorkspace ws;
    timer.evaluate(held, ws);
    const CompiledGraph& g = timer.graph();
    DynamicDelays d;
    d.voltage_v = g.netlist && g.netlist->library ? g.netlist->library->nominal_voltage_v : 0.0;
    d.nets.resize(g.net_count());
    for (std::size_t n = 0; n < g.net_count(); ++n) {
        d.nets[n].load_pf = g.load_pf[kRise][n];
        d.nets[n].slew_rise_ns = ws.state[n].slew_ns[kRise];
        d.nets[n].slew_fall_ns = ws.state[n].slew_ns[kFall];
    }
    d.arcs.resize(g.netlist->instances.size());
    for (const GateOutput& gate : g.gates) {
        for (std::uint32_t a = gate.arcs_begin; a < gate.arcs_end; ++a) {
            const GraphArc& arc = g.arcs[a];
            EdgeArcDelay e;
            e.from_pin = arc.from_pin;
            e.to_pin = gate.out_pin;
            for (int to = 0; to < 2; ++to) {
                if (arc.delay_curve[to] == SlewCurves::kNone) continue;
                for (int from = 0; from < 2; ++from)
                    e.delay_ns[to][from] =
                        static_cast<float>(g.curves.eval(arc.delay_curve[to], ws.state[arc.from_net].slew_ns[from]));
            }
            d.arcs[gate.instance].push_back(e);
        }
    }
    return d;
}

}  // namespace halo::timing
