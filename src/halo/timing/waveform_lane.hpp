// One transition through the fast exact engine (waveform_engine.hpp explains the method): the
// code the CPU engine and the CUDA kernel (waveform_cuda.cu) both run, so the two cannot drift
// apart. Plain structs and raw pointers only; compiled as host and device code under nvcc.
// Only gates with an input event are visited: a per-lane bit set of "dirty" gates, scanned in
// gate (topological) order, is marked from the fan-out of every net that gets events.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define HALO_WAVE_HD __host__ __device__
#else
#define HALO_WAVE_HD
#endif

namespace halo::timing {

constexpr int kWaveMaxInputs = 6;

struct WaveGate {
    std::uint32_t output = 0;
    std::uint32_t input_count = 0;
    std::uint32_t inputs[kWaveMaxInputs] = {};
    float delay_ns[kWaveMaxInputs][2][2] = {};  // [j][out edge][in edge], 0 = rise
    std::uint64_t truth = 0;
};

// One event of a net's waveform. `cause` is the event whose processing scheduled it
// (kPrimaryCause for a primary-input toggle at t = 0); `source` is the gate that scheduled it
// (its slot for a primary input) and `pin` the gate input the cause arrived on.
struct WaveEvent {
    float time_ns;
    std::uint32_t cause;
    std::uint32_t source;
    std::uint16_t pin;
    std::uint8_t value;
    std::uint8_t pad;
};
constexpr std::uint32_t kPrimaryCause = 0xffffffffu;

// The circuit as flat arrays, in host or device memory.
struct WaveView {
    const WaveGate* gates = nullptr;
    std::uint32_t gate_count = 0;
    std::uint32_t slot_count = 0;
    int activation_bits = 0;
    int accumulator_bits = 0;
    const double* internal_fj = nullptr;      // (gate * 6 + j) * 4 + out edge * 2 + in edge
    const double* toggle_fj = nullptr;        // index = slot
    const std::uint8_t* is_output = nullptr;  // index = slot
    const std::uint32_t* fanout_begin = nullptr;  // slot_count + 1 offsets into fanout_gates
    const std::uint32_t* fanout_gates = nullptr;  // gates reading each slot (once per gate)
};

// Per-lane working memory: events (capacity), per slot range and stamp, per gate dirty bits.
struct WaveScratch {
    WaveEvent* events = nullptr;
    std::uint32_t capacity = 0;
    std::uint32_t* begin = nullptr;   // index = slot
    std::uint32_t* end = nullptr;
    std::uint32_t* stamp = nullptr;   // range valid when == stamp_value; zero-initialised
    std::uint64_t* dirty = nullptr;   // (gate_count + 63) / 64 words, all zero between lanes
    std::uint32_t stamp_value = 0;    // incremented per lane by the caller, never 0
};

struct WaveLaneResult {
    float settle_ns;
    std::uint32_t toggles;
    double energy_fj;
    bool overflow;  // more events than scratch capacity: figures invalid
};

// Whether event a is processed before event b, both at the same time (a != b): the reference's
// (time, seq) order, seq being the order of scheduling.
HALO_WAVE_HD inline bool wave_before(const WaveEvent* ev, std::uint32_t a, std::uint32_t b) {
    for (;;) {
        const WaveEvent& ea = ev[a];
        const WaveEvent& eb = ev[b];
        if (ea.time_ns != eb.time_ns) return ea.time_ns < eb.time_ns;
        const bool pa = ea.cause == kPrimaryCause, pb = eb.cause == kPrimaryCause;
        if (pa || pb) return pa && pb ? ea.source < eb.source : pa;
        if (ea.cause == eb.cause) return ea.source != eb.source ? ea.source < eb.source : ea.pin < eb.pin;
        a = ea.cause;
        b = eb.cause;
    }
}

// One transition: the circuit starts settled with slot values init(slot) (a0, acc0 and what the
// gates compute from them) and the primary inputs jump to (a1, acc1) at t = 0.
template <class Init>
HALO_WAVE_HD inline WaveLaneResult simulate_wave_lane(const WaveView& c, std::uint64_t a1, std::uint64_t acc1,
                                                      const Init& init, WaveScratch& s) {
    WaveLaneResult r{-INFINITY, 0, 0.0, false};
    WaveEvent* ev = s.events;
    std::uint32_t count = 0;
    const std::uint32_t stamp = s.stamp_value;
    auto mark_fanout = [&](std::uint32_t slot) {
        for (std::uint32_t k = c.fanout_begin[slot]; k < c.fanout_begin[slot + 1]; ++k) {
            const std::uint32_t g = c.fanout_gates[k];
            s.dirty[g >> 6] |= std::uint64_t{1} << (g & 63);
        }
    };
    const std::uint32_t words = (c.gate_count + 63) / 64;
    auto overflow = [&]() {
        for (std::uint32_t w = 0; w < words; ++w) s.dirty[w] = 0;
        return WaveLaneResult{r.settle_ns, count, r.energy_fj, true};
    };
    const int na = c.activation_bits;
    const int primaries = na + c.accumulator_bits;
    for (int p = 0; p < primaries; ++p) {
        const auto slot = static_cast<std::uint32_t>(p);
        const std::uint8_t after = p < na ? (a1 >> p) & 1u : (acc1 >> (p - na)) & 1u;
        s.begin[slot] = count;
        s.stamp[slot] = stamp;
        if (init(slot) != after) {
            if (count == s.capacity) return overflow();
            ev[count++] = {0.0f, kPrimaryCause, slot, 0, after, 0};
            r.energy_fj += c.toggle_fj[slot];
            if (c.is_output[slot]) r.settle_ns = r.settle_ns > 0.0f ? r.settle_ns : 0.0f;
            mark_fanout(slot);
        }
        s.end[slot] = count;
    }
    std::uint32_t next[kWaveMaxInputs], last[kWaveMaxInputs];
    for (std::uint32_t wi = 0; wi < words; ++wi) {
        while (s.dirty[wi] != 0) {
            const std::uint64_t word = s.dirty[wi];
            s.dirty[wi] = word & (word - 1);
#if defined(__CUDA_ARCH__)
            const std::uint32_t gi = wi * 64 + static_cast<std::uint32_t>(__ffsll(static_cast<long long>(word)) - 1);
#else
            const std::uint32_t gi = wi * 64 + static_cast<std::uint32_t>(__builtin_ctzll(word));
#endif
            const WaveGate& g = c.gates[gi];
            const std::uint32_t n = g.input_count;
            unsigned assign = 0;
            for (std::uint32_t j = 0; j < n; ++j) {
                const std::uint32_t in = g.inputs[j];
                const bool valid = s.stamp[in] == stamp;
                next[j] = valid ? s.begin[in] : 0;
                last[j] = valid ? s.end[in] : 0;
                assign |= static_cast<unsigned>(init(in)) << j;
            }
            const std::uint32_t out_begin = count;
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
                    const std::uint32_t ea = next[j], eb = next[best];
                    const float ta = ev[ea].time_ns, tb = ev[eb].time_ns;
                    if (ta < tb || (ta == tb && ea != eb && wave_before(ev, ea, eb))) best = static_cast<int>(j);
                }
                if (best < 0) break;
                const std::uint32_t e = next[best]++;
                const float t = ev[e].time_ns;
                const std::uint8_t rose = ev[e].value;
                if (rose) assign |= 1u << best;
                else assign &= ~(1u << best);
                const auto v = static_cast<std::uint8_t>((g.truth >> assign) & 1u);
                const float due = t + g.delay_ns[best][v ? 0 : 1][rose ? 0 : 1];
                // Cancel the output events not yet processed that are due at or after `due`.
                while (count > out_begin) {
                    const std::uint32_t k = count - 1;
                    const float tk = ev[k].time_ns;
                    if (tk < due) break;
                    if (tk < t || (tk == t && wave_before(ev, k, e))) break;  // already processed
                    --count;
                }
                const std::uint8_t projected = count > out_begin ? ev[count - 1].value : init_out;
                if (projected != v) {
                    if (count == s.capacity) return overflow();
                    ev[count++] = {due, e, gi, static_cast<std::uint16_t>(best), v, 0};
                }
            }
            s.begin[g.output] = out_begin;
            s.end[g.output] = count;
            s.stamp[g.output] = stamp;
            if (count == out_begin) continue;
            const double toggle = c.toggle_fj[g.output];
            const double* internal = c.internal_fj + static_cast<std::size_t>(gi) * kWaveMaxInputs * 4;
            double energy = 0;
            for (std::uint32_t k = out_begin; k < count; ++k) {
                const WaveEvent& x = ev[k];
                energy += toggle + internal[x.pin * 4 + (x.value ? 0 : 2) + (ev[x.cause].value ? 0 : 1)];
            }
            r.energy_fj += energy;
            if (c.is_output[g.output]) r.settle_ns = r.settle_ns > ev[count - 1].time_ns ? r.settle_ns : ev[count - 1].time_ns;
            mark_fanout(g.output);
        }
    }
    r.toggles = count;
    return r;
}

}  // namespace halo::timing
