// annotate_delays: the static pass with the weight free fixes every net's load and worst slews;
// each arc's rise/fall delay is then its table at those slews and loads (output rise from the
// input edge(s) the Liberty sense allows, the worse of two for non_unate arcs).
#include "halo/timing/delay_annotation.hpp"

#include <algorithm>

#include "halo/timing/static_timing.hpp"

namespace halo::timing {

DelayAnnotation annotate_delays(const netlist::Netlist& netlist, const StaOptions& options) {
    StaticTimer timer(netlist, options);
    StaWorkspace ws;
    timer.evaluate({}, ws);
    const CompiledGraph& g = timer.graph();

    DelayAnnotation out;
    out.voltage_v = netlist.library ? netlist.library->nominal_voltage_v : 0.0;
    out.nets.resize(g.net_count());
    for (std::size_t n = 0; n < g.net_count(); ++n) {
        out.nets[n].load_pf = g.load_pf[kRise][n];
        out.nets[n].slew_rise_ns = ws.state[n].slew_ns[kRise];
        out.nets[n].slew_fall_ns = ws.state[n].slew_ns[kFall];
    }
    out.arcs.resize(netlist.instances.size());
    for (const GateOutput& gate : g.gates) {
        for (std::uint32_t a = gate.arcs_begin; a < gate.arcs_end; ++a) {
            const GraphArc& arc = g.arcs[a];
            ArcTiming t;
            t.from_pin = arc.from_pin;
            t.to_pin = gate.out_pin;
            t.sense = static_cast<std::uint8_t>(arc.lib_sense);
            double delay[2] = {0.0, 0.0};
            for (int to = 0; to < 2; ++to) {
                if (arc.delay_curve[to] == SlewCurves::kNone) continue;
                for (int from = 0; from < 2; ++from) {
                    if (!sense_allows(arc.lib_sense, from, to)) continue;
                    delay[to] = std::max(delay[to], g.curves.eval(arc.delay_curve[to], ws.state[arc.from_net].slew_ns[from]));
                }
            }
            t.rise_ns = delay[kRise];
            t.fall_ns = delay[kFall];
            out.arcs[gate.instance].push_back(t);
        }
    }
    return out;
}

}  // namespace halo::timing
