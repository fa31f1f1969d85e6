#include "halo/timing/timing_graph.hpp"

#include <map>
#include <sstream>

#include "halo/liberty/cell_function.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::timing {

namespace {

using netlist::NetId;

// A cell output's compiled function, shared by all instances of the cell.
struct CompiledFunction {
    bool has_table = false;
    std::uint64_t table = 0;
    std::vector<int> support;  // cell pin index of each variable
};

const CompiledFunction& function_of(std::map<std::pair<const liberty::Cell*, int>, CompiledFunction>& cache,
                                    const liberty::Cell& cell, int out_pin, const std::string& place) {
    auto key = std::make_pair(&cell, out_pin);
    auto it = cache.find(key);
    if (it != cache.end()) return it->second;
    CompiledFunction f;
    const liberty::Pin& pin = cell.pins[static_cast<std::size_t>(out_pin)];
    if (!pin.function.empty()) {
        std::vector<std::string> names;
        for (const auto& p : cell.pins) names.push_back(p.name);
        auto fn = liberty::CellFunction::compile(pin.function, names, cell.name + "/" + pin.name);
        f.support = fn.support();
        bool reads_state = false;  // a flop's IQ or a statetable node: not a gate function
        for (int s : f.support) {
            auto dir = cell.pins[static_cast<std::size_t>(s)].direction;
            reads_state |= dir != liberty::PinDirection::input && dir != liberty::PinDirection::inout;
        }
        if (reads_state) {
            f.support.clear();
        } else {
            if (f.support.size() > static_cast<std::size_t>(kMaxGateInputs) || !fn.truth_table())
                throw_bad_value("E3011", place,
                                "cell function has too many inputs for case analysis",
                                "at most " + std::to_string(kMaxGateInputs) + " inputs",
                                std::to_string(f.support.size()) + " in \"" + pin.function + "\"",
                                "use a library without such wide cells");
            f.has_table = true;
            f.table = *fn.truth_table();
        }
    }
    return cache.emplace(key, std::move(f)).first->second;
}

std::vector<std::string> split_names(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

}  // namespace

CompiledGraph compile_timing_graph(const netlist::Netlist& nl, const StaOptions& options) {
    CompiledGraph g;
    g.netlist = &nl;
    g.options = options;
    const std::size_t n_nets = nl.net_count();
    g.load_pf[kRise].assign(n_nets, 0.0);
    g.load_pf[kFall].assign(n_nets, 0.0);
    g.gate_of_net.assign(n_nets, ~std::uint32_t{0});

    // Loads: fanout pin capacitances by edge, plus set_load on output ports.
    for (std::size_t n = 0; n < nl.loads.size() && n < n_nets; ++n) {
        for (const auto& ld : nl.loads[n]) {
            const auto& cell = *nl.instances[ld.instance].cell;
            const auto& pin = cell.pins[static_cast<std::size_t>(ld.pin)];
            g.load_pf[kRise][n] += pin.rise_capacitance_pf;
            g.load_pf[kFall][n] += pin.fall_capacitance_pf;
        }
    }
    for (std::uint32_t pi = 0; pi < nl.ports.size(); ++pi) {
        const auto& port = nl.ports[pi];
        for (std::uint32_t b = 0; b < port.bits.size(); ++b) {
            NetId net = port.bits[b];
            if (net == netlist::kNoNet) continue;
            if (port.direction == netlist::PortDirection::input) {
                if (net != netlist::kConst0 && net != netlist::kConst1) g.input_nets.push_back(net);
            } else {
                g.outputs.push_back({net, pi, b});
                if (net != netlist::kConst0 && net != netlist::kConst1) {
                    g.load_pf[kRise][net] += options.output_load_pf;
                    g.load_pf[kFall][net] += options.output_load_pf;
                }
            }
        }
    }

    std::map<std::pair<const liberty::Cell*, int>, CompiledFunction> cache;
    for (std::uint32_t inst_index : nl.topo_order) {
        const auto& inst = nl.instances[inst_index];
        const auto& cell = *inst.cell;
        if (cell.is_sequential)
            throw_bad_value("E3010", inst.name + " (" + cell.name + ")",
                            "static timing handles combinational netlists only", "a combinational cell",
                            "sequential cell " + cell.name, "synthesize the MAC without registers");
        auto input_net = [&](int pin) {
            for (const auto& c : inst.inputs)
                if (c.pin == pin) return c.net;
            return netlist::kNoNet;
        };
        for (const auto& oc : inst.outputs) {
            if (oc.net == netlist::kNoNet) continue;
            const auto& pin = cell.pins[static_cast<std::size_t>(oc.pin)];
            GateOutput gate;
            gate.instance = inst_index;
            gate.out_pin = oc.pin;
            gate.out_net = oc.net;
            const auto& fn = function_of(cache, cell, oc.pin, inst.name);
            gate.has_table = fn.has_table;
            gate.table = fn.table;
            gate.var_count = static_cast<std::uint8_t>(fn.support.size());
            for (std::size_t v = 0; v < fn.support.size(); ++v) gate.var_net[v] = input_net(fn.support[v]);
            gate.arcs_begin = static_cast<std::uint32_t>(g.arcs.size());
            for (const auto& ta : pin.timing) {
                if (ta.type != liberty::TimingType::combinational) continue;
                for (const auto& related : split_names(ta.related_pin)) {
                    int from_pin = cell.pin_index(related);
                    if (from_pin < 0) continue;
                    NetId from_net = input_net(from_pin);
                    if (from_net == netlist::kNoNet) continue;
                    GraphArc arc;
                    arc.from_net = from_net;
                    arc.from_pin = from_pin;
                    arc.lib_sense = ta.sense;
                    arc.lib = &ta;
                    for (std::size_t v = 0; v < fn.support.size(); ++v)
                        if (fn.support[v] == from_pin) arc.from_var = static_cast<std::uint8_t>(v);
                    for (int e : {kRise, kFall}) {
                        const auto* d = arc_delay_table(ta, e);
                        const auto* s = arc_slew_table(ta, e);
                        if (d == nullptr || s == nullptr) continue;  // arc never produces this edge
                        arc.delay_curve[e] = g.curves.add(*d, g.load_pf[e][oc.net]);
                        arc.slew_curve[e] = g.curves.add(*s, g.load_pf[e][oc.net]);
                        arc.shared_grid[e] = g.curves.same_grid(arc.delay_curve[e], arc.slew_curve[e]);
                    }
                    if (arc.delay_curve[kRise] == SlewCurves::kNone && arc.delay_curve[kFall] == SlewCurves::kNone)
                        throw_bad_value("E3012", inst.name + " (" + cell.name + "/" + related + " -> " + pin.name + ")",
                                        "combinational arc has no delay and transition tables",
                                        "cell_rise/rise_transition or cell_fall/fall_transition", "neither",
                                        "check the Liberty file");
                    g.arcs.push_back(arc);
                }
            }
            gate.arcs_end = static_cast<std::uint32_t>(g.arcs.size());
            g.gate_of_net[oc.net] = static_cast<std::uint32_t>(g.gates.size());
            g.gates.push_back(gate);
        }
    }
    return g;
}

std::string net_driver_name(const CompiledGraph& graph, netlist::NetId net) {
    const auto& nl = *graph.netlist;
    std::uint32_t gi = net < graph.gate_of_net.size() ? graph.gate_of_net[net] : ~std::uint32_t{0};
    if (gi != ~std::uint32_t{0}) {
        const auto& gate = graph.gates[gi];
        const auto& inst = nl.instances[gate.instance];
        return inst.name + "/" + inst.cell->pins[static_cast<std::size_t>(gate.out_pin)].name;
    }
    for (const auto& port : nl.ports) {
        if (port.direction != netlist::PortDirection::input) continue;
        for (std::size_t b = 0; b < port.bits.size(); ++b)
            if (port.bits[b] == net)
                return port.bits.size() == 1 ? port.name : port.name + "[" + std::to_string(b) + "]";
    }
    return net < nl.net_names.size() && !nl.net_names[net].empty() ? nl.net_names[net] : "net" + std::to_string(net);
}

}  // namespace halo::timing
