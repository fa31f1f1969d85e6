#include "halo/timing/ternary_timing.hpp"

#include <algorithm>

namespace halo::timing {

TimedTernary switching_input(bool before, bool after) {
    TimedTernary t;
    t.final_value = after ? 1 : 0;
    if (before != after) (after ? t.rise_ns : t.fall_ns) = 0.0f;
    return t;
}

TimedTernary free_input() {
    TimedTernary t;
    t.final_value = -1;
    t.rise_ns = 0.0f;
    t.fall_ns = 0.0f;
    return t;
}

std::vector<TimedTernary> activation_transition_inputs(const DynamicCircuit& c, std::uint64_t a0, std::uint64_t a1) {
    std::vector<TimedTernary> in;
    for (int i = 0; i < c.activation_bits; ++i) in.push_back(switching_input((a0 >> i) & 1u, (a1 >> i) & 1u));
    for (int i = 0; i < c.accumulator_bits; ++i) in.push_back(free_input());
    return in;
}

std::vector<TimedTernary> static_bound_inputs(const DynamicCircuit& c) {
    return std::vector<TimedTernary>(static_cast<std::size_t>(c.activation_bits + c.accumulator_bits), free_input());
}

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Value of F when the inputs in `fixed` take the bits of `values` and the others range freely:
// 0 or 1 when every completion agrees, -1 otherwise.
int forced_value(std::uint64_t truth, int n, unsigned fixed, unsigned values) {
    bool seen0 = false, seen1 = false;
    for (unsigned m = 0; m < (1u << n); ++m) {
        if ((m & fixed) != (values & fixed)) continue;
        ((truth >> m) & 1u ? seen1 : seen0) = true;
    }
    return seen0 && seen1 ? -1 : seen1 ? 1 : 0;
}

TimedTernary evaluate_gate(const CircuitGate& g, std::span<const TimedTernary> in) {
    const int n = g.logic.input_count;
    unsigned known = 0, values = 0;
    for (int j = 0; j < n; ++j) {
        if (in[j].final_value >= 0) known |= 1u << j;
        if (in[j].final_value == 1) values |= 1u << j;
    }
    TimedTernary out;
    out.final_value = static_cast<std::int8_t>(forced_value(g.logic.truth, n, known, values));

    // Unate rule: a rise of the output is caused by a rise of a positive-unate input, a fall of
    // a negative-unate one, either edge of a binate one (each with its edge's delay); an input F
    // does not depend on causes none.
    for (int j = 0; j < n; ++j) {
        unsigned bit = 1u << j;
        std::uint64_t f0 = 0, f1 = 0;
        bool up = false, down = false;  // does raising input j ever raise / lower F?
        for (unsigned m = 0; m < (1u << n); ++m) {
            if (m & bit) continue;
            f0 = (g.logic.truth >> m) & 1u;
            f1 = (g.logic.truth >> (m | bit)) & 1u;
            if (f1 > f0) up = true;
            if (f1 < f0) down = true;
        }
        const auto& d = g.delay_ns[j];  // [out edge][in edge], 0 = rise
        const float r = in[j].rise_ns, f = in[j].fall_ns;
        float cause_rise = kNever, cause_fall = kNever;
        if (up && down) {
            cause_rise = std::max(r + d[0][0], f + d[0][1]);
            cause_fall = std::max(f + d[1][1], r + d[1][0]);
        } else if (up) {
            cause_rise = r + d[0][0];
            cause_fall = f + d[1][1];
        } else if (down) {
            cause_rise = f + d[0][1];
            cause_fall = r + d[1][0];
        }
        out.rise_ns = std::max(out.rise_ns, cause_rise);
        out.fall_ns = std::max(out.fall_ns, cause_fall);
    }
    // Forcing rule: once a set S of inputs has settled to values that fix F, the output makes
    // no transition later than the last of them plus its arc delay (for the final edge).
    if (out.final_value >= 0) {
        float forced = kInf;
        for (unsigned s = 0; s < (1u << n); ++s) {
            if ((s & known) != s) continue;
            if (forced_value(g.logic.truth, n, s, values) != out.final_value) continue;
            float t = kNever;
            for (int j = 0; j < n; ++j)
                if ((s >> j) & 1u)
                {
                    // The last event on input j, of either edge, plus the delay for that edge.
                    const int e = out.final_value == 1 ? 0 : 1;
                    t = std::max(t, std::max(in[j].rise_ns + g.delay_ns[j][e][0], in[j].fall_ns + g.delay_ns[j][e][1]));
                }
            forced = std::min(forced, t);
        }
        out.rise_ns = std::min(out.rise_ns, forced);
        out.fall_ns = std::min(out.fall_ns, forced);
        // The last transition goes to the final value.
        if (out.final_value == 1) out.fall_ns = std::min(out.fall_ns, out.rise_ns);
        else out.rise_ns = std::min(out.rise_ns, out.fall_ns);
    }
    return out;
}

}  // namespace

std::vector<TimedTernary> ternary_timing_reference(const DynamicCircuit& c, std::span<const TimedTernary> inputs) {
    std::vector<TimedTernary> slots(c.slot_count);
    std::copy(inputs.begin(), inputs.end(), slots.begin());
    std::vector<TimedTernary> in;
    for (const auto& g : c.gates) {
        in.clear();
        for (Slot s : g.inputs) in.push_back(slots[s]);
        slots[g.output] = evaluate_gate(g, in);
    }
    return slots;
}

float output_settle_ns(const DynamicCircuit& c, std::span<const TimedTernary> slots) {
    float t = kNever;
    for (Slot s : c.output_slots) t = std::max(t, slots[s].settle_ns());
    return t;
}

}  // namespace halo::timing
