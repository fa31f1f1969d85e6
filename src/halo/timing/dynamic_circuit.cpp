#include "halo/timing/dynamic_circuit.hpp"

#include <fmt/format.h>

#include "halo/timing/case_analysis.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::timing {

namespace {

const netlist::Port& require_input_port(const netlist::Netlist& nl, const std::string& name, const char* role) {
    const netlist::Port* p = nl.find_port(name);
    if (p == nullptr || p->direction != netlist::PortDirection::input) {
        std::string inputs;
        for (const auto& q : nl.ports)
            if (q.direction == netlist::PortDirection::input) inputs += (inputs.empty() ? "" : ", ") + q.name;
        throw_bad_value("E3501", nl.source_path.empty() ? nl.top : nl.source_path,
                        fmt::format("the {} port \"{}\" is not an input port of module {}", role, name, nl.top),
                        "one of: " + inputs, p == nullptr ? "no such port" : "an output port",
                        "name the ports with the weight/activation/accumulator options");
    }
    return *p;
}

}  // namespace

DynamicDelays delays_from_annotation(const DelayAnnotation& annotation) {
    DynamicDelays d;
    d.nets = annotation.nets;
    d.voltage_v = annotation.voltage_v;
    d.arcs.resize(annotation.arcs.size());
    for (std::size_t i = 0; i < annotation.arcs.size(); ++i)
        for (const ArcTiming& a : annotation.arcs[i]) {
            EdgeArcDelay e;
            e.from_pin = a.from_pin;
            e.to_pin = a.to_pin;
            e.delay_ns[0][0] = e.delay_ns[0][1] = static_cast<float>(a.rise_ns);
            e.delay_ns[1][0] = e.delay_ns[1][1] = static_cast<float>(a.fall_ns);
            d.arcs[i].push_back(e);
        }
    return d;
}

DynamicCircuit build_dynamic_circuit(const netlist::Netlist& nl, const DynamicDelays& annotation,
                                     const DynamicPorts& ports, std::uint64_t weight_code) {
    const netlist::Port& w = require_input_port(nl, ports.weight, "weight");
    const netlist::Port& a = require_input_port(nl, ports.activation, "activation");
    const netlist::Port& acc = require_input_port(nl, ports.accumulator, "accumulator");
    for (const auto& p : nl.ports)
        if (p.direction == netlist::PortDirection::input && p.name != ports.weight && p.name != ports.activation &&
            p.name != ports.accumulator)
            throw_bad_value("E3502", nl.top, fmt::format("input port \"{}\" is none of the MAC's three inputs", p.name),
                            fmt::format("only {}, {}, {}", ports.weight, ports.activation, ports.accumulator), p.name,
                            "dynamic timing needs a combinational MAC with weight, activation and accumulator inputs");
    if (annotation.arcs.size() != nl.instances.size() || annotation.nets.size() != nl.net_count())
        throw_bad_value("E3504", nl.top, "the delay annotation does not belong to this netlist",
                        fmt::format("{} instances, {} nets", nl.instances.size(), nl.net_count()),
                        fmt::format("{} instances, {} nets", annotation.arcs.size(), annotation.nets.size()),
                        "annotate the same netlist object that is swept");
    if (a.bits.size() > 32 || acc.bits.size() > 64 || w.bits.size() > 32)
        throw_bad_value("E3505", nl.top, "port too wide for dynamic timing", "weight, activation <= 32 bits, accumulator <= 64",
                        fmt::format("{}, {}, {}", w.bits.size(), a.bits.size(), acc.bits.size()), "");

    DynamicCircuit c;
    c.weight_code = weight_code;
    c.activation_bits = static_cast<int>(a.bits.size());
    c.accumulator_bits = static_cast<int>(acc.bits.size());
    c.net_constant.assign(nl.net_count(), -1);
    c.net_constant[netlist::kConst0] = 0;
    c.net_constant[netlist::kConst1] = 1;
    for (std::size_t i = 0; i < w.bits.size(); ++i) c.net_constant[w.bits[i]] = static_cast<std::int8_t>((weight_code >> i) & 1u);

    std::vector<Slot> net_slot(nl.net_count(), ~Slot{0});
    auto add_slot = [&](netlist::NetId net) {
        net_slot[net] = c.slot_count++;
        c.slot_net.push_back(net);
    };
    for (auto net : a.bits) add_slot(net);
    for (auto net : acc.bits) add_slot(net);

    for (std::uint32_t inst_index : nl.topo_order) {
        const netlist::Instance& inst = nl.instances[inst_index];
        const liberty::Cell& cell = *inst.cell;
        std::string place = fmt::format("instance {} ({})", inst.name, cell.name);
        if (cell.is_sequential)
            throw_bad_value("E3503", place, "sequential cell in the MAC", "a combinational MAC", cell.name,
                            "dynamic timing sweeps a combinational multiply-accumulate; remove registers before synthesis");
        const int inputs = static_cast<int>(inst.inputs.size());
        if (inputs > kDynamicMaxInputs)
            throw_bad_value("E3507", place, "cell has too many inputs for dynamic timing",
                            fmt::format("at most {}", kDynamicMaxInputs), std::to_string(inputs),
                            "map the design to cells with at most 6 inputs");
        // Input position j of the instance is truth-table variable j.
        std::vector<std::uint64_t> words(cell.pins.size(), 0);
        for (int j = 0; j < inputs; ++j) words[inst.inputs[j].pin] = truth::kVarMask[j];
        for (const auto& oc : inst.outputs) {
            const liberty::Pin& opin = cell.pins[oc.pin];
            if (oc.net == netlist::kNoNet) continue;
            const liberty::CellFunction* fn = cell.logic.function(oc.pin);
            if (fn == nullptr)
                throw_bad_value("E3508", place + " pin " + opin.name, "output pin has no usable function",
                                "a combinational Liberty function", "\"" + opin.function + "\"",
                                "dynamic timing needs every cell output's Boolean function");
            int n = inputs;
            std::uint64_t truth = fn->eval(words) & truth_mask(n);
            // Restrict to the non-constant inputs, highest index first so indices stay valid.
            std::vector<int> kept;
            for (int j = n - 1; j >= 0; --j) {
                std::int8_t k = c.net_constant[inst.inputs[j].net];
                if (k >= 0) {
                    truth = restrict_truth(truth, n, j, k == 1);
                    --n;
                }
            }
            for (int j = 0; j < inputs; ++j)
                if (c.net_constant[inst.inputs[j].net] < 0) kept.push_back(j);
            std::uint64_t mask = truth_mask(n);
            truth &= mask;
            if (truth == 0 || truth == mask) {
                c.net_constant[oc.net] = truth == 0 ? 0 : 1;
                continue;
            }
            CircuitGate g;
            g.instance = inst_index;
            g.output_pin = oc.pin;
            for (int j : kept) {
                netlist::NetId net = inst.inputs[j].net;
                if (net_slot[net] == ~Slot{0})
                    throw_internal("E3590", fmt::format("{}: input net {} has no slot (netlist not in topological order)", place, net));
                g.inputs.push_back(net_slot[net]);
                g.input_pins.push_back(inst.inputs[j].pin);
                const EdgeArcDelay* arc = nullptr;
                for (const auto& t : annotation.arcs[inst_index])
                    if (t.from_pin == inst.inputs[j].pin && t.to_pin == oc.pin) arc = &t;
                if (arc == nullptr) ++c.missing_arcs;
                std::array<std::array<float, 2>, 2> d{};
                if (arc != nullptr)
                    for (int o = 0; o < 2; ++o)
                        for (int i = 0; i < 2; ++i) d[o][i] = arc->delay_ns[o][i];
                g.delay_ns.push_back(d);
            }
            g.logic = analyze_gate(truth, n);
            add_slot(oc.net);
            g.output = net_slot[oc.net];
            c.gates.push_back(std::move(g));
        }
    }
    std::vector<char> needed(c.slot_count, 0);
    for (const auto& p : nl.ports) {
        if (p.direction != netlist::PortDirection::output) continue;
        for (auto net : p.bits) {
            if (net < c.net_constant.size() && c.net_constant[net] >= 0) continue;
            if (net_slot[net] == ~Slot{0})
                throw_bad_value("E3506", p.name, "output port bit is driven by nothing the circuit computes", "a driven net",
                                fmt::format("net {}", net), "");
            c.output_slots.push_back(net_slot[net]);
            needed[net_slot[net]] = 1;
        }
    }
    for (auto it = c.gates.rbegin(); it != c.gates.rend(); ++it) {
        if (!needed[it->output]) continue;
        it->drives_output = true;
        for (Slot s : it->inputs) needed[s] = 1;
    }
    return c;
}

std::vector<std::uint8_t> evaluate_circuit(const DynamicCircuit& c, std::uint64_t activation, std::uint64_t accumulator) {
    std::vector<std::uint8_t> v(c.slot_count, 0);
    for (int i = 0; i < c.activation_bits; ++i) v[i] = (activation >> i) & 1u;
    for (int i = 0; i < c.accumulator_bits; ++i) v[c.activation_bits + i] = (accumulator >> i) & 1u;
    for (const auto& g : c.gates) {
        unsigned m = 0;
        for (std::size_t j = 0; j < g.inputs.size(); ++j) m |= unsigned{v[g.inputs[j]]} << j;
        v[g.output] = gate_value(g.logic, m);
    }
    return v;
}

}  // namespace halo::timing
