#include "halo/timing/energy.hpp"

namespace halo::timing {

namespace {

const liberty::InternalPower* find_power(const liberty::Pin& pin, const std::string& related) {
    const liberty::InternalPower* unnamed = nullptr;
    for (const auto& p : pin.internal_power) {
        if (p.related_pin == related) return &p;
        if (p.related_pin.empty()) unnamed = &p;
    }
    return unnamed;
}

}  // namespace

double leakage_power_nw(const netlist::Netlist& nl) {
    double total = 0;
    for (const auto& inst : nl.instances) total += inst.cell->leakage_power_nw;
    return total;
}

EnergyModel build_energy_model(const DynamicCircuit& c, const netlist::Netlist& nl, const DynamicDelays& ann) {
    EnergyModel m;
    m.voltage_v = ann.voltage_v > 0 ? ann.voltage_v : (nl.library ? nl.library->nominal_voltage_v : 0.0);
    m.leakage_nw = leakage_power_nw(nl);
    m.toggle_fj.resize(c.slot_count);
    for (Slot s = 0; s < c.slot_count; ++s) m.toggle_fj[s] = half_cv2_fj(ann.nets[c.slot_net[s]].load_pf, m.voltage_v);
    m.gates.resize(c.gates.size());
    for (std::size_t gi = 0; gi < c.gates.size(); ++gi) {
        const CircuitGate& g = c.gates[gi];
        const liberty::Cell& cell = *nl.instances[g.instance].cell;
        const liberty::Pin& out = cell.pins[g.output_pin];
        const double load_pf = ann.nets[c.slot_net[g.output]].load_pf;
        auto& e = m.gates[gi].internal_fj;
        e.resize(g.inputs.size());
        for (std::size_t j = 0; j < g.inputs.size(); ++j) {
            const NetElectrical& in_net = ann.nets[c.slot_net[g.inputs[j]]];
            const liberty::InternalPower* p = find_power(out, cell.pins[g.input_pins[j]].name);
            for (int in_edge = 0; in_edge < 2; ++in_edge) {
                double slew = in_edge == 0 ? in_net.slew_rise_ns : in_net.slew_fall_ns;
                e[j][0][in_edge] = p && p->rise_energy_fj ? p->rise_energy_fj->lookup(slew, load_pf) : 0.0;
                e[j][1][in_edge] = p && p->fall_energy_fj ? p->fall_energy_fj->lookup(slew, load_pf) : 0.0;
            }
        }
    }
    return m;
}

}  // namespace halo::timing
