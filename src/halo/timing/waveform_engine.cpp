#include "halo/timing/waveform_engine.hpp"

#include <algorithm>
#include <cmath>

#include "halo/timing/ternary_timing.hpp"

namespace halo::timing {

namespace {

constexpr int kBlockLanes = 64;

// Bit-sliced evaluation of a truth table over 64 lanes: a multiplexer tree, input 0 first.
std::uint64_t eval_lanes(std::uint64_t truth, int n, const std::uint64_t* x) {
    std::uint64_t w[64];
    const int rows = 1 << n;
    for (int m = 0; m < rows; ++m) w[m] = ((truth >> m) & 1u) ? ~std::uint64_t{0} : 0;
    for (int j = 0, len = rows; j < n; ++j, len >>= 1)
        for (int k = 0; k < len / 2; ++k) w[k] = (x[j] & w[2 * k + 1]) | (~x[j] & w[2 * k]);
    return w[0];
}

}  // namespace

WaveCircuit flatten_circuit(const DynamicCircuit& c, const EnergyModel* energy) {
    WaveCircuit f;
    f.slot_count = c.slot_count;
    f.activation_bits = c.activation_bits;
    f.accumulator_bits = c.accumulator_bits;
    f.gates.resize(c.gates.size());
    f.internal_fj.assign(c.gates.size() * kDynamicMaxInputs * 4, 0.0);
    f.toggle_fj.assign(c.slot_count, 0.0);
    if (energy != nullptr) f.toggle_fj = energy->toggle_fj;
    f.is_output.assign(c.slot_count, 0);
    for (Slot s : c.output_slots) f.is_output[s] = 1;
    for (std::size_t g = 0; g < c.gates.size(); ++g) {
        const CircuitGate& cg = c.gates[g];
        WaveGate& w = f.gates[g];
        w.output = cg.output;
        w.input_count = static_cast<std::uint32_t>(cg.inputs.size());
        w.truth = cg.logic.truth;
        for (std::size_t j = 0; j < cg.inputs.size(); ++j) {
            w.inputs[j] = cg.inputs[j];
            for (int o = 0; o < 2; ++o)
                for (int i = 0; i < 2; ++i) {
                    const float d = cg.delay_ns[j][o][i];
                    w.delay_ns[j][o][i] = d;
                    if (!(d >= 0.0f) || !std::isfinite(d)) f.delays_supported = false;
                    if (energy != nullptr)
                        f.internal_fj[(g * kDynamicMaxInputs + j) * 4 + o * 2 + i] = energy->gates[g].internal_fj[j][o][i];
                }
        }
    }
    return f;
}

WaveformEngine::WaveformEngine(const DynamicCircuit& circuit, const EnergyModel* energy)
    : flat_(flatten_circuit(circuit, energy)) {
    init_.assign(flat_.slot_count, 0);
    begin_.assign(flat_.slot_count, 0);
    end_.assign(flat_.slot_count, 0);
    events_.reserve(4096);
}

void WaveformEngine::initial_values(std::span<const Stimulus> block) {
    const int na = flat_.activation_bits;
    const int nacc = flat_.accumulator_bits;
    for (int s = 0; s < na + nacc; ++s) {
        std::uint64_t m = 0;
        for (std::size_t l = 0; l < block.size(); ++l) {
            const std::uint64_t bit = s < na ? (block[l].a0 >> s) & 1u : (block[l].acc0 >> (s - na)) & 1u;
            m |= bit << l;
        }
        init_[s] = m;
    }
    std::uint64_t x[kDynamicMaxInputs];
    for (const WaveGate& g : flat_.gates) {
        for (std::uint32_t j = 0; j < g.input_count; ++j) x[j] = init_[g.inputs[j]];
        init_[g.output] = eval_lanes(g.truth, static_cast<int>(g.input_count), x);
    }
}

// Whether event a is processed before event b, both at the same time (a != b): the reference's
// (time, seq) order, seq being the order of scheduling.
bool WaveformEngine::before(std::uint32_t a, std::uint32_t b) const {
    for (;;) {
        const WaveEvent& ea = events_[a];
        const WaveEvent& eb = events_[b];
        if (ea.time_ns != eb.time_ns) return ea.time_ns < eb.time_ns;
        const bool pa = ea.cause == kPrimaryCause, pb = eb.cause == kPrimaryCause;
        if (pa || pb) return pa && pb ? ea.source < eb.source : pa;
        if (ea.cause == eb.cause) return ea.source != eb.source ? ea.source < eb.source : ea.pin < eb.pin;
        a = ea.cause;
        b = eb.cause;
    }
}

EventSimResult WaveformEngine::run_lane(const Stimulus& st, int lane) {
    EventSimResult r;
    r.settle_ns = kNever;
    events_.clear();
    const int na = flat_.activation_bits;
    const int nacc = flat_.accumulator_bits;
    for (int s = 0; s < na + nacc; ++s) {
        const std::uint8_t before_v = (init_[s] >> lane) & 1u;
        const std::uint8_t after_v = s < na ? (st.a1 >> s) & 1u : (st.acc1 >> (s - na)) & 1u;
        begin_[s] = static_cast<std::uint32_t>(events_.size());
        if (before_v != after_v) {
            events_.push_back({0.0f, kPrimaryCause, static_cast<std::uint32_t>(s), 0, after_v});
            r.switching_energy_fj += flat_.toggle_fj[s];
            if (flat_.is_output[s]) r.settle_ns = std::max(r.settle_ns, 0.0f);
        }
        end_[s] = static_cast<std::uint32_t>(events_.size());
    }
    std::uint32_t next[kDynamicMaxInputs], last[kDynamicMaxInputs];
    for (std::uint32_t gi = 0; gi < flat_.gates.size(); ++gi) {
        const WaveGate& g = flat_.gates[gi];
        const std::uint32_t n = g.input_count;
        bool any = false;
        for (std::uint32_t j = 0; j < n; ++j) {
            next[j] = begin_[g.inputs[j]];
            last[j] = end_[g.inputs[j]];
            any |= next[j] != last[j];
        }
        const auto out_begin = static_cast<std::uint32_t>(events_.size());
        begin_[g.output] = out_begin;
        if (!any) {
            end_[g.output] = out_begin;
            continue;
        }
        unsigned assign = 0;
        for (std::uint32_t j = 0; j < n; ++j) assign |= static_cast<unsigned>((init_[g.inputs[j]] >> lane) & 1u) << j;
        const auto init_out = static_cast<std::uint8_t>((g.truth >> assign) & 1u);
        for (;;) {
            // The input event processed next: earliest time, then the reference's seq order
            // (the same event on two pins: fan-out order, i.e. the lower pin first).
            int best = -1;
            for (std::uint32_t j = 0; j < n; ++j) {
                if (next[j] == last[j]) continue;
                if (best < 0) {
                    best = static_cast<int>(j);
                    continue;
                }
                const std::uint32_t a = next[j], b = next[best];
                const float ta = events_[a].time_ns, tb = events_[b].time_ns;
                if (ta < tb || (ta == tb && a != b && before(a, b))) best = static_cast<int>(j);
            }
            if (best < 0) break;
            const std::uint32_t e = next[best]++;
            const float t = events_[e].time_ns;
            const std::uint8_t rose = events_[e].value;
            if (rose) assign |= 1u << best;
            else assign &= ~(1u << best);
            const auto v = static_cast<std::uint8_t>((g.truth >> assign) & 1u);
            const float due = t + g.delay_ns[best][v ? 0 : 1][rose ? 0 : 1];
            // Cancel the output events not yet processed that are due at or after `due`.
            while (events_.size() > out_begin) {
                const std::uint32_t k = static_cast<std::uint32_t>(events_.size()) - 1;
                const float tk = events_[k].time_ns;
                if (tk < due) break;
                const bool fired = tk < t || (tk == t && before(k, e));
                if (fired) break;
                events_.pop_back();
            }
            const std::uint8_t projected = events_.size() > out_begin ? events_.back().value : init_out;
            if (projected != v) events_.push_back({due, e, gi, static_cast<std::uint16_t>(best), v});
        }
        const auto out_end = static_cast<std::uint32_t>(events_.size());
        end_[g.output] = out_end;
        const double toggle = flat_.toggle_fj[g.output];
        const double* internal = &flat_.internal_fj[std::size_t{gi} * kDynamicMaxInputs * 4];
        for (std::uint32_t k = out_begin; k < out_end; ++k) {
            const WaveEvent& ev = events_[k];
            const std::uint8_t in_rose = events_[ev.cause].value;
            r.switching_energy_fj += toggle + internal[ev.pin * 4 + (ev.value ? 0 : 2) + (in_rose ? 0 : 1)];
        }
        if (flat_.is_output[g.output] && out_end > out_begin) r.settle_ns = std::max(r.settle_ns, events_[out_end - 1].time_ns);
    }
    r.toggles = events_.size();
    return r;
}

void WaveformEngine::run(std::span<const Stimulus> stimuli, std::span<EventSimResult> results) {
    for (std::size_t base = 0; base < stimuli.size(); base += kBlockLanes) {
        const std::size_t lanes = std::min<std::size_t>(kBlockLanes, stimuli.size() - base);
        initial_values(stimuli.subspan(base, lanes));
        for (std::size_t l = 0; l < lanes; ++l) results[base + l] = run_lane(stimuli[base + l], static_cast<int>(l));
    }
}

}  // namespace halo::timing
