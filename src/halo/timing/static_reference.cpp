#include "halo/timing/static_reference.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <sstream>

#include "halo/liberty/cell_function.hpp"

namespace halo::timing {

namespace {

using liberty::Ternary;
constexpr double kNone = -std::numeric_limits<double>::infinity();

struct RefNet {
    Ternary value = Ternary::x;
    double load[2] = {0, 0};
    double arrival[2] = {kNone, kNone};
    double slew[2] = {0, 0};
};

std::optional<liberty::CellFunction> compile_function(const liberty::Cell& cell, int pin) {
    const auto& p = cell.pins[static_cast<std::size_t>(pin)];
    if (p.function.empty()) return std::nullopt;
    std::vector<std::string> names;
    for (const auto& q : cell.pins) names.push_back(q.name);
    return liberty::CellFunction::compile(p.function, names, cell.name + "/" + p.name);
}

}  // namespace

double reference_longest_delay_ns(const netlist::Netlist& nl, std::span<const NetConstant> held,
                                  const StaOptions& options) {
    std::vector<RefNet> nets(nl.net_count());
    if (nets.size() > 1) {
        nets[netlist::kConst0].value = Ternary::zero;
        nets[netlist::kConst1].value = Ternary::one;
    }
    for (const auto& c : held) nets[c.net].value = c.value ? Ternary::one : Ternary::zero;
    for (std::size_t n = 0; n < nl.loads.size(); ++n)
        for (const auto& ld : nl.loads[n]) {
            const auto& pin = nl.instances[ld.instance].cell->pins[static_cast<std::size_t>(ld.pin)];
            nets[n].load[0] += pin.rise_capacitance_pf;
            nets[n].load[1] += pin.fall_capacitance_pf;
        }
    for (const auto& port : nl.ports)
        for (auto net : port.bits) {
            if (net <= netlist::kConst1) continue;
            if (port.direction == netlist::PortDirection::output) {
                nets[net].load[0] += options.output_load_pf;
                nets[net].load[1] += options.output_load_pf;
            } else {
                nets[net].arrival[0] = nets[net].arrival[1] = 0.0;
                nets[net].slew[0] = nets[net].slew[1] = options.input_slew_ns;
            }
        }

    for (auto ii : nl.topo_order) {
        const auto& inst = nl.instances[ii];
        const auto& cell = *inst.cell;
        std::vector<Ternary> pin_values(cell.pins.size(), Ternary::x);
        bool has_constant = false;
        for (const auto& c : inst.inputs) {
            pin_values[static_cast<std::size_t>(c.pin)] = nets[c.net].value;
            has_constant |= nets[c.net].value != Ternary::x;
        }
        for (const auto& oc : inst.outputs) {
            if (oc.net == netlist::kNoNet) continue;
            auto fn = compile_function(cell, oc.pin);
            RefNet& out = nets[oc.net];
            if (fn && out.value == Ternary::x) out.value = fn->eval3(pin_values);
            if (out.value != Ternary::x) continue;
            for (const auto& ta : cell.pins[static_cast<std::size_t>(oc.pin)].timing) {
                if (ta.type != liberty::TimingType::combinational) continue;
                std::istringstream related(ta.related_pin);
                for (std::string name; related >> name;) {
                    int from_pin = cell.pin_index(name);
                    auto conn = std::find_if(inst.inputs.begin(), inst.inputs.end(),
                                             [&](const netlist::PinConnection& c) { return c.pin == from_pin; });
                    if (from_pin < 0 || conn == inst.inputs.end()) continue;
                    const RefNet& in = nets[conn->net];
                    if (in.value != Ternary::x) continue;
                    SimSense sim = SimSense::unknown;
                    const auto& support = fn ? fn->support() : std::vector<int>{};
                    if (has_constant && fn && std::find(support.begin(), support.end(), from_pin) != support.end()) {
                        static constexpr SimSense kMap[] = {SimSense::none, SimSense::positive, SimSense::negative,
                                                            SimSense::non_unate};
                        sim = kMap[static_cast<int>(fn->sensitize(from_pin, pin_values).unateness)];
                    }
                    for (int to = 0; to < 2; ++to) {
                        const auto* dt = to == 0 ? (ta.cell_rise_ns ? &*ta.cell_rise_ns : nullptr)
                                                 : (ta.cell_fall_ns ? &*ta.cell_fall_ns : nullptr);
                        const auto* st = to == 0 ? (ta.rise_transition_ns ? &*ta.rise_transition_ns : nullptr)
                                                 : (ta.fall_transition_ns ? &*ta.fall_transition_ns : nullptr);
                        if (!dt || !st) continue;
                        for (int from = 0; from < 2; ++from) {
                            bool lib_ok = ta.sense == liberty::TimingSense::non_unate ||
                                          (ta.sense == liberty::TimingSense::positive_unate) == (from == to);
                            if (!lib_ok) continue;
                            out.slew[to] = std::max(out.slew[to], st->lookup(in.slew[from], out.load[to]));
                            if (!sim_sense_allows(sim, from, to) || in.arrival[from] == kNone) continue;
                            out.arrival[to] = std::max(out.arrival[to], in.arrival[from] + dt->lookup(in.slew[from], out.load[to]));
                        }
                    }
                }
            }
        }
    }
    double best = kNone;
    for (const auto& port : nl.ports) {
        if (port.direction != netlist::PortDirection::output) continue;
        for (auto net : port.bits)
            if (net != netlist::kNoNet && nets[net].value == Ternary::x)
                best = std::max({best, nets[net].arrival[0], nets[net].arrival[1]});
    }
    return best == kNone ? 0.0 : best;
}

}  // namespace halo::timing
