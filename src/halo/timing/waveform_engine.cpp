#include "halo/timing/waveform_engine.hpp"

#include <algorithm>
#include <cmath>

#include "halo/timing/ternary_timing.hpp"

namespace halo::timing {

namespace {

constexpr int kBlockLanes = 64;
static_assert(kWaveMaxInputs == kDynamicMaxInputs);

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
                    if (!std::isfinite(d)) f.delays_supported = false;
                    if (energy != nullptr)
                        f.internal_fj[(g * kDynamicMaxInputs + j) * 4 + o * 2 + i] = energy->gates[g].internal_fj[j][o][i];
                }
        }
    }
    // The order comparison follows cause chains, at most logic depth + 1 long.
    std::vector<int> level(c.slot_count, 0);
    int depth = 0;
    for (const CircuitGate& g : c.gates) {
        int l = 0;
        for (Slot in : g.inputs) l = std::max(l, level[in]);
        level[g.output] = l + 1;
        depth = std::max(depth, l + 1);
    }
    if (depth + 1 >= kWaveMaxChain) f.delays_supported = false;
    // Fan-out gates per slot, each gate once, in gate order.
    std::vector<std::vector<std::uint32_t>> readers(c.slot_count);
    for (std::uint32_t g = 0; g < c.gates.size(); ++g)
        for (Slot in : c.gates[g].inputs)
            if (readers[in].empty() || readers[in].back() != g) readers[in].push_back(g);
    f.fanout_begin.assign(std::size_t{c.slot_count} + 1, 0);
    for (Slot s = 0; s < c.slot_count; ++s) {
        f.fanout_begin[s + 1] = f.fanout_begin[s] + static_cast<std::uint32_t>(readers[s].size());
        f.fanout_gates.insert(f.fanout_gates.end(), readers[s].begin(), readers[s].end());
    }
    return f;
}

WaveView WaveCircuit::view() const {
    WaveView v;
    v.gates = gates.data();
    v.gate_count = static_cast<std::uint32_t>(gates.size());
    v.slot_count = slot_count;
    v.activation_bits = activation_bits;
    v.accumulator_bits = accumulator_bits;
    v.internal_fj = internal_fj.data();
    v.toggle_fj = toggle_fj.data();
    v.is_output = is_output.data();
    v.fanout_begin = fanout_begin.data();
    v.fanout_gates = fanout_gates.data();
    return v;
}

WaveformEngine::WaveformEngine(const DynamicCircuit& circuit, const EnergyModel* energy)
    : flat_(flatten_circuit(circuit, energy)), view_(flat_.view()) {
    init_.assign(flat_.slot_count, 0);
    range_.assign(flat_.slot_count, WaveRange{0, 0, 0, 0});
    dirty_.assign((flat_.gates.size() + 63) / 64, 0);
    events_.resize(4096);
    ups_.resize(events_.size());
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

void WaveformEngine::run(std::span<const Stimulus> stimuli, std::span<EventSimResult> results) {
    for (std::size_t base = 0; base < stimuli.size(); base += kBlockLanes) {
        const std::size_t lanes = std::min<std::size_t>(kBlockLanes, stimuli.size() - base);
        initial_values(stimuli.subspan(base, lanes));
        for (std::size_t l = 0; l < lanes; ++l) {
            const Stimulus& st = stimuli[base + l];
            auto init = [this, l](std::uint32_t slot) { return static_cast<std::uint8_t>((init_[slot] >> l) & 1u); };
            for (;;) {
                if (++stamp_value_ == 0) {  // wrapped: forget every old range
                    std::fill(range_.begin(), range_.end(), WaveRange{0, 0, 0, 0});
                    stamp_value_ = 1;
                }
                WaveScratch s{WaveHostEvents{events_.data(), ups_.data()}, static_cast<std::uint32_t>(events_.size()),
                              range_.data(), dirty_.data(), stamp_value_};
                const WaveLaneResult r = lockstep_        ? simulate_wave_lane<true, true>(view_, st.a1, st.acc1, init, s)
                                         : device_replay_ ? simulate_wave_lane<true>(view_, st.a1, st.acc1, init, s)
                                                          : simulate_wave_lane<false>(view_, st.a1, st.acc1, init, s);
                if (!r.overflow) {
                    results[base + l] = {r.settle_ns, r.toggles, r.energy_fj};
                    acausal_transitions_ += r.acausal ? 1 : 0;
                    break;
                }
                events_.resize(events_.size() * 2);
                ups_.resize(events_.size());
            }
        }
    }
}

}  // namespace halo::timing
