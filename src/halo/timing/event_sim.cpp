#include "halo/timing/event_sim.hpp"

#include <algorithm>
#include <functional>

#include "halo/timing/ternary_timing.hpp"

namespace halo::timing {

EventSimulator::EventSimulator(const DynamicCircuit& circuit, const EnergyModel* energy)
    : circuit_(circuit), energy_(energy) {
    fanout_.resize(circuit.slot_count);
    gate_of_slot_.assign(circuit.slot_count, -1);
    for (std::uint32_t g = 0; g < circuit.gates.size(); ++g) {
        const CircuitGate& cg = circuit.gates[g];
        gate_of_slot_[cg.output] = static_cast<std::int32_t>(g);
        for (std::size_t j = 0; j < cg.inputs.size(); ++j) fanout_[cg.inputs[j]].push_back({g, static_cast<std::uint8_t>(j)});
    }
    is_output_.assign(circuit.slot_count, 0);
    for (Slot s : circuit.output_slots) is_output_[s] = 1;
    assign_.resize(circuit.gates.size());
    pending_.resize(circuit.gates.size());
}

void EventSimulator::toggle(Slot slot, float time_ns, double internal_fj, EventSimResult& result) {
    value_[slot] ^= 1u;
    ++result.toggles;
    if (energy_ != nullptr) result.switching_energy_fj += energy_->toggle_fj[slot] + internal_fj;
    (value_[slot] ? last_rise_[slot] : last_fall_[slot]) = time_ns;
    if (is_output_[slot]) result.settle_ns = std::max(result.settle_ns, time_ns);
}

void EventSimulator::evaluate(std::uint32_t g, std::uint8_t j, bool input_rose, float t, DelayMode mode) {
    const CircuitGate& cg = circuit_.gates[g];
    if (input_rose) assign_[g] |= 1u << j;
    else assign_[g] &= ~(1u << j);
    const std::uint8_t v = gate_value(cg.logic, assign_[g]) ? 1 : 0;
    const float due = t + cg.delay_ns[j][v ? 0 : 1][input_rose ? 0 : 1];
    Queue& q = pending_[g];
    if (mode == DelayMode::transport) {
        while (!q.empty() && q.items.back().time_ns >= due) q.items.pop_back();
    } else {
        // Verilog: a pending change to the same value stands; any other pending change is
        // cancelled (at most one change is ever pending in this mode).
        if (!q.empty() && q.items.back().value == v) return;
        q.items.clear();
        q.head = 0;
    }
    const std::uint8_t projected = q.empty() ? value_[cg.output] : q.items.back().value;
    if (projected == v) return;
    Pending p{due, seq_++, v, j, static_cast<std::uint8_t>(input_rose)};
    q.items.push_back(p);
    heap_.push_back({due, p.seq, g});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<>{});
}

EventSimResult EventSimulator::run(const Stimulus& st, DelayMode mode) {
    EventSimResult result;
    result.settle_ns = kNever;
    value_ = evaluate_circuit(circuit_, st.a0, st.acc0);
    last_rise_.assign(circuit_.slot_count, kNever);
    last_fall_.assign(circuit_.slot_count, kNever);
    for (std::uint32_t g = 0; g < circuit_.gates.size(); ++g) {
        const CircuitGate& cg = circuit_.gates[g];
        unsigned m = 0;
        for (std::size_t j = 0; j < cg.inputs.size(); ++j) m |= unsigned{value_[cg.inputs[j]]} << j;
        assign_[g] = m;
        pending_[g].items.clear();
        pending_[g].head = 0;
    }
    heap_.clear();
    seq_ = 0;
    // The input jump at t = 0, bit by bit in slot order.
    const int na = circuit_.activation_bits;
    for (Slot s = 0; s < static_cast<Slot>(na + circuit_.accumulator_bits); ++s) {
        const bool after = s < static_cast<Slot>(na) ? (st.a1 >> s) & 1u : (st.acc1 >> (s - na)) & 1u;
        if (value_[s] == after) continue;
        toggle(s, 0.0f, 0.0, result);
        for (const Fanout& f : fanout_[s]) evaluate(f.gate, f.input, after, 0.0f, mode);
    }
    while (!heap_.empty()) {
        std::pop_heap(heap_.begin(), heap_.end(), std::greater<>{});
        const HeapItem item = heap_.back();
        heap_.pop_back();
        Queue& q = pending_[item.gate];
        if (q.empty() || q.items[q.head].seq != item.seq) continue;  // cancelled
        const Pending p = q.items[q.head++];
        if (q.empty()) {
            q.items.clear();
            q.head = 0;
        }
        const CircuitGate& cg = circuit_.gates[item.gate];
        const double internal =
            energy_ ? energy_->gates[item.gate].internal_fj[p.cause_input][p.value ? 0 : 1][p.input_rose ? 0 : 1] : 0.0;
        toggle(cg.output, p.time_ns, internal, result);
        const bool rose = value_[cg.output] != 0;
        for (const Fanout& f : fanout_[cg.output]) evaluate(f.gate, f.input, rose, p.time_ns, mode);
    }
    return result;
}

}  // namespace halo::timing
