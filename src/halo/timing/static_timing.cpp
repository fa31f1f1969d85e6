#include "halo/timing/static_timing.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace halo::timing {

using netlist::NetId;

StaticTimer::StaticTimer(const netlist::Netlist& netlist, const StaOptions& options)
    : graph_(compile_timing_graph(netlist, options)) {}

Endpoint StaticTimer::evaluate(std::span<const NetConstant> held, StaWorkspace& ws) const {
    const CompiledGraph& g = graph_;
    const std::size_t n_nets = g.net_count();
    ws.value.assign(n_nets, Logic::x);
    ws.state.assign(n_nets, {{kNoArrival, kNoArrival}, {0.0, 0.0}});
    ws.gate_has_constant.assign(g.gates.size(), 0);
    if (ws.trace) {
        for (int e : {kRise, kFall}) {
            ws.best_arc[e].assign(n_nets, ~std::uint32_t{0});
            ws.best_from_edge[e].assign(n_nets, 0);
        }
    }
    if (n_nets > netlist::kConst1) {
        ws.value[netlist::kConst0] = Logic::zero;
        ws.value[netlist::kConst1] = Logic::one;
    }
    for (const auto& c : held) ws.value[c.net] = c.value ? Logic::one : Logic::zero;

    // Case analysis: constants forward through the gates.
    for (std::size_t gi = 0; gi < g.gates.size(); ++gi) evaluate_gate_constant(gi, ws);

    for (NetId n : g.input_nets) {
        ws.state[n] = {{0.0, 0.0}, {g.options.input_slew_ns, g.options.input_slew_ns}};
    }

    // Delay calculation and arrival search in one topological sweep: a net's inputs are final
    // before its driver is visited.
    for (std::size_t gi = 0; gi < g.gates.size(); ++gi) evaluate_gate_timing(gi, ws);
    return latest_output(ws);
}

void StaticTimer::evaluate_gate_constant(std::size_t gi, StaWorkspace& ws) const {
    const CompiledGraph& g = graph_;
    const GateOutput& gate = g.gates[gi];
    std::uint64_t cons = ~0ull;
    bool any_const = false;
    for (int v = 0; v < gate.var_count; ++v) {
        NetId n = gate.var_net[v];
        Logic l = n == netlist::kNoNet ? Logic::x : ws.value[n];
        if (l == Logic::one) cons &= truth::kVarMask[v];
        else if (l == Logic::zero) cons &= ~truth::kVarMask[v];
        any_const |= l != Logic::x;
    }
    // Arcs from pins outside the function (none in practice) can still be constant.
    for (std::uint32_t a = gate.arcs_begin; a < gate.arcs_end && !any_const; ++a)
        any_const |= ws.value[g.arcs[a].from_net] != Logic::x;
    ws.gate_has_constant[gi] = any_const;
    if (gate.has_table && ws.value[gate.out_net] == Logic::x) ws.value[gate.out_net] = truth::eval(gate.table, cons);
}

void StaticTimer::evaluate_gate_timing(std::size_t gi, StaWorkspace& ws, bool same_constants) const {
    const CompiledGraph& g = graph_;
    const GateOutput& gate = g.gates[gi];
    auto& out = ws.state[gate.out_net];
    out = {{kNoArrival, kNoArrival}, {0.0, 0.0}};
    if (ws.value[gate.out_net] != Logic::x) return;  // constant: no slew, no path
    const bool reuse_senses = same_constants && !ws.arc_memo.empty();
    std::uint64_t cons = ~0ull;
    if (ws.gate_has_constant[gi] && !reuse_senses) {
        for (int v = 0; v < gate.var_count; ++v) {
            NetId n = gate.var_net[v];
            Logic l = n == netlist::kNoNet ? Logic::x : ws.value[n];
            if (l == Logic::one) cons &= truth::kVarMask[v];
            else if (l == Logic::zero) cons &= ~truth::kVarMask[v];
        }
    }
    for (std::uint32_t a = gate.arcs_begin; a < gate.arcs_end; ++a) {
        const GraphArc& arc = g.arcs[a];
        if (ws.value[arc.from_net] != Logic::x) continue;
        StaWorkspace::ArcMemo* memo = ws.arc_memo.empty() ? nullptr : &ws.arc_memo[a];
        SimSense sim = SimSense::unknown;
        if (reuse_senses) {
            sim = memo->sense;
        } else {
            if (ws.gate_has_constant[gi] && gate.has_table && arc.from_var != kNoVar)
                sim = truth::sense(gate.table, cons, arc.from_var);
            if (memo != nullptr) memo->sense = sim;
        }
        const auto& in = ws.state[arc.from_net];
        if (memo != nullptr && (memo->in_slew_ns[0] != in.slew_ns[0] || memo->in_slew_ns[1] != in.slew_ns[1])) {
            for (int to = 0; to < 2; ++to) {
                if (arc.delay_curve[to] == SlewCurves::kNone) continue;
                for (int from = 0; from < 2; ++from) {
                    if (!sense_allows(arc.lib_sense, from, to)) continue;
                    if (arc.shared_grid[to]) {
                        g.curves.eval_pair(arc.slew_curve[to], arc.delay_curve[to], in.slew_ns[from],
                                           memo->slew_ns[to][from], memo->delay_ns[to][from]);
                    } else {
                        memo->slew_ns[to][from] = g.curves.eval(arc.slew_curve[to], in.slew_ns[from]);
                        memo->delay_ns[to][from] = g.curves.eval(arc.delay_curve[to], in.slew_ns[from]);
                    }
                }
            }
            memo->in_slew_ns[0] = in.slew_ns[0];
            memo->in_slew_ns[1] = in.slew_ns[1];
        }
        for (int to = 0; to < 2; ++to) {
            if (arc.delay_curve[to] == SlewCurves::kNone) continue;
            for (int from = 0; from < 2; ++from) {
                if (!sense_allows(arc.lib_sense, from, to)) continue;
                double s_in = in.slew_ns[from];
                const double slew_out = memo ? memo->slew_ns[to][from] : g.curves.eval(arc.slew_curve[to], s_in);
                out.slew_ns[to] = std::max(out.slew_ns[to], slew_out);
                if (!sim_sense_allows(sim, from, to) || in.arrival_ns[from] == kNoArrival) continue;
                double t = in.arrival_ns[from] + (memo ? memo->delay_ns[to][from] : g.curves.eval(arc.delay_curve[to], s_in));
                if (t > out.arrival_ns[to]) {
                    out.arrival_ns[to] = t;
                    if (ws.trace) {
                        ws.best_arc[to][gate.out_net] = a;
                        ws.best_from_edge[to][gate.out_net] = static_cast<std::uint8_t>(from);
                    }
                }
            }
        }
    }
}

Endpoint StaticTimer::latest_output(const StaWorkspace& ws) const {
    Endpoint best;
    for (const OutputBit& o : graph_.outputs) {
        if (ws.value[o.net] != Logic::x) continue;
        for (int e = 0; e < 2; ++e) {
            double t = ws.state[o.net].arrival_ns[e];
            if (t == kNoArrival) continue;
            if (!best.reached || t > best.delay_ns) best = {true, t, o, e};
        }
    }
    return best;
}

Endpoint StaticTimer::analyze(std::span<const NetConstant> held) const {
    StaWorkspace ws;
    return evaluate(held, ws);
}

StaticPath StaticTimer::critical_path(std::span<const NetConstant> held) const {
    StaWorkspace ws;
    ws.trace = true;
    StaticPath path;
    path.endpoint = evaluate(held, ws);
    if (!path.endpoint.reached) return path;
    const auto& nl = *graph_.netlist;
    const auto& port = nl.ports[path.endpoint.output.port];
    std::string out_name = port.bits.size() == 1 ? port.name : fmt::format("{}[{}]", port.name, path.endpoint.output.bit);

    // Walk back along the recorded best arcs.
    NetId net = path.endpoint.output.net;
    int edge = path.endpoint.edge;
    std::vector<PathPoint> rev;
    const auto& st = ws.state;
    rev.push_back({out_name, "(output)", edge, 0.0, st[net].arrival_ns[edge], st[net].slew_ns[edge], 0.0});
    while (true) {
        std::uint32_t a = ws.best_arc[edge][net];
        if (a == ~std::uint32_t{0}) {
            rev.push_back({net_driver_name(graph_, net), "(input)", edge, st[net].arrival_ns[edge],
                           st[net].arrival_ns[edge], st[net].slew_ns[edge], 0.0});
            break;
        }
        const GraphArc& arc = graph_.arcs[a];
        int from = ws.best_from_edge[edge][net];
        const auto& gate = graph_.gates[graph_.gate_of_net[net]];
        const auto& inst = nl.instances[gate.instance];
        rev.push_back({inst.name + "/" + inst.cell->pins[static_cast<std::size_t>(gate.out_pin)].name, inst.cell->name,
                       edge, st[net].arrival_ns[edge] - st[arc.from_net].arrival_ns[from], st[net].arrival_ns[edge],
                       st[net].slew_ns[edge], graph_.load_pf[edge][net]});
        rev.push_back({inst.name + "/" + inst.cell->pins[static_cast<std::size_t>(arc.from_pin)].name, inst.cell->name,
                       from, 0.0, st[arc.from_net].arrival_ns[from], st[arc.from_net].slew_ns[from], 0.0});
        net = arc.from_net;
        edge = from;
    }
    path.points.assign(rev.rbegin(), rev.rend());
    return path;
}

std::string format_path(const StaticPath& path, int digits) {
    if (!path.endpoint.reached) return "No paths found.\n";
    std::string s = fmt::format("{:>10} {:>10} {:>10} {:>10}  Description\n", "Cap", "Slew", "Delay", "Time");
    s += std::string(72, '-') + "\n";
    for (const auto& p : path.points) {
        std::string cap = p.load_pf > 0 ? fmt::format("{:.{}f}", p.load_pf, digits) : "";
        s += fmt::format("{:>10} {:>10.{}f} {:>10.{}f} {:>10.{}f} {} {} ({})\n", cap, p.slew_ns, digits, p.incr_ns,
                         digits, p.arrival_ns, digits, p.edge == kRise ? "^" : "v", p.pin, p.cell);
    }
    s += fmt::format("{:>43.{}f}   data arrival time\n", path.endpoint.delay_ns, digits);
    return s;
}

}  // namespace halo::timing
