// One transition through the fast exact engine (waveform_engine.hpp explains the method): the
// code the CPU engine and the CUDA kernel (waveform_cuda.cu) both run, so the two cannot drift
// apart. Plain structs and raw pointers only; compiled as host and device code under nvcc.
// Only gates with an input event are visited: a per-lane bit set of "dirty" gates, scanned in
// gate (topological) order, is marked from the fan-out of every net that gets events.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#if defined(__CUDACC__)
#define HALO_WAVE_HD __host__ __device__
// The order comparison of acausal events: rare, deep and recursive. Kept out of line on the
// device, where inlining its copies tripled the kernels' code (and their instruction-cache
// misses), CUDA C++ only.
#define HALO_WAVE_COLD __noinline__
#else
#define HALO_WAVE_HD
#define HALO_WAVE_COLD
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
struct alignas(16) WaveEvent {  // 16 bytes: one vector load on the device
    float time_ns;
    std::uint32_t cause;
    std::uint32_t source;
    std::uint16_t pin;
    std::uint8_t value;
    std::uint8_t flags;  // kCausal, kCauseRose
};
constexpr std::uint32_t kPrimaryCause = 0xffffffffu;
// The event and all its ancestors were scheduled no earlier than their causes' times (no
// negative arc delay on the way): the reference processes such events in key order.
constexpr std::uint8_t kCausal = 1;
// The cause was a rising event (a copy of ev[cause].value for the energy's internal-power arc, so
// that the energy pass need not read the cause; set by wave_gate_replay, not kept by the packed
// events of waveform_level.hpp, which read the cause instead).
constexpr std::uint8_t kCauseRose = 2;
// Longest cause chain the order comparison follows (a chain moves to a later gate at each
// step, so the circuit's logic depth + 1 bounds it; flatten_circuit checks).
constexpr int kWaveMaxChain = 192;

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

// Element k of an array laid out with a stride: on the device, thread t's k-th element sits at
// p[k * stride] (p = base + t), so that the threads of a warp, which walk the same gates and
// slots in step, touch neighbouring addresses (coalesced) instead of one cache line each
// (measured on an H200: under 10 % of the kernel time, docs/results/characterize.md).
template <class T>
struct WaveStrided {
    T* p = nullptr;
    std::uint32_t stride = 1;  // threads (32 bits: fewer registers per array)
    HALO_WAVE_HD T& operator[](std::size_t k) const { return p[k * std::size_t{stride}]; }
};

// An event store with up-links (session 20): up[x], kept for acausal events only, is the first
// ancestor of x (along its cause chain) whose key exceeds x's, or kPrimaryCause if none; a
// causal event's ancestors all have smaller keys. The leaders of x's chain (wave_leaders) are
// then x, up[x], up[up[x]], ...: an order comparison of acausal events walks their leaders instead
// of their whole cause chains back to the primary inputs (osu035 INT8 MAC, weight 255: 80 such
// comparisons and 1,637 chain reads per transition, bench BM_WaveWorkByConeInt8). The up-link is
// found when the event is written (wave_link_up), walking up-links from its cause.
// `Events`: a WaveEvent store (raw pointer or WaveStrided); `Ups`: the same shape of uint32.
template <class Events, class Ups>
struct WaveLinkedEvents {
    Events events{};
    Ups up{};
    HALO_WAVE_HD decltype(auto) operator[](std::size_t i) const { return events[i]; }
};
template <class Ev>
struct WaveStoreLinks : std::false_type {};
template <class E, class U>
struct WaveStoreLinks<WaveLinkedEvents<E, U>> : std::true_type {};

// A slot's events begin..end, valid when stamp == the scratch's stamp_value: one 16-byte record,
// so that a gate reads each input's range with one load (one memory request on the device,
// where the three were separate arrays before).
struct alignas(16) WaveRange {
    std::uint32_t begin;
    std::uint32_t end;
    std::uint32_t stamp;
    std::uint32_t unused;
};

// Per-lane working memory: events (capacity), per slot range, per gate dirty bits.
// `Events`, `Ranges`, `U64s`: raw pointers (CPU) or WaveStrided (CUDA).
template <class Events, class Ranges, class U64s>
struct WaveScratchOf {
    Events events{};
    std::uint32_t capacity = 0;
    Ranges range{};  // index = slot; stamps zero-initialised
    U64s dirty{};    // (gate_count + 63) / 64 words, all zero between lanes
    std::uint32_t stamp_value = 0;    // incremented per lane by the caller, never 0
};
using WaveHostEvents = WaveLinkedEvents<WaveEvent*, std::uint32_t*>;
using WaveScratch = WaveScratchOf<WaveHostEvents, WaveRange*, std::uint64_t*>;

struct WaveLaneResult {
    float settle_ns;
    std::uint32_t toggles;
    double energy_fj;
    bool overflow;  // more events than scratch capacity: figures invalid
    bool acausal;   // an event was scheduled before its cause's time (a negative arc delay);
                    // informational: the figures are still the reference's
};

// The order in which the reference processes events. Its queue pops by key (time, seq), seq =
// scheduling order = the processing order of the scheduling event, then its fan-out position
// (gate, pin); primary inputs come first of all, in slot order (key -inf). An event enters the
// queue only when its cause is processed, so with a negative arc delay an event can be
// processed after events of later keys. Then the processing order is the lexicographic order
// of the events' "leader" sequences: along the cause chain from the primary input to the event,
// the events whose key exceeds every key after them on the chain (the event itself is last).
// For causal events (kCausal) that sequence is the event alone: order = key order.
template <class Ev>
HALO_WAVE_HD HALO_WAVE_COLD bool wave_processed_before(const Ev& ev, std::uint32_t a, std::uint32_t b);

// Hooks for a store that counts how deep the order comparisons read (bench
// BM_WaveWorkByConeInt8's tracing store overloads them, found by argument-dependent lookup);
// no-ops for every store the engines use. wave_note_tie: two events of equal times and different
// causes, compared through their causes (depth = how many such steps before this one);
// wave_note_acausal: an order comparison of a and b through the leaders of their cause chains.
template <class Ev>
HALO_WAVE_HD inline void wave_note_tie(const Ev&, int) {}
template <class Ev>
HALO_WAVE_HD inline void wave_note_acausal(const Ev&, std::uint32_t, std::uint32_t) {}

// Key (time, seq) of a below key of b (a != b).
template <class Ev>
HALO_WAVE_HD inline bool wave_key_less(const Ev& ev, std::uint32_t a, std::uint32_t b) {
    for (int depth = 0;; ++depth) {
        const WaveEvent& ea = ev[a];
        const WaveEvent& eb = ev[b];
        const bool pa = ea.cause == kPrimaryCause, pb = eb.cause == kPrimaryCause;
        if (pa || pb) return pa && pb ? ea.source < eb.source : pa;
        if (ea.time_ns != eb.time_ns) return ea.time_ns < eb.time_ns;
        if (ea.cause == eb.cause) return ea.source != eb.source ? ea.source < eb.source : ea.pin < eb.pin;
        wave_note_tie(ev, depth);
        if (!(ev[ea.cause].flags & ev[eb.cause].flags & kCausal)) return wave_processed_before(ev, ea.cause, eb.cause);
        a = ea.cause;  // causal causes: processing order = key order
        b = eb.cause;
    }
}

// The leader above leader y of a linked store's chain (kPrimaryCause: y is the top one).
template <class Ev>
HALO_WAVE_HD inline std::uint32_t wave_leader_above(const Ev& ev, std::uint32_t y) {
    return (ev[y].flags & kCausal) ? kPrimaryCause : ev.up[y];
}

// The leaders of x's cause chain, x first (upward). Returns their count.
template <class Ev>
HALO_WAVE_HD HALO_WAVE_COLD int wave_leaders(const Ev& ev, std::uint32_t x, std::uint32_t* out) {
    int n = 0;
    out[n++] = x;
    if constexpr (WaveStoreLinks<Ev>::value) {  // the up-links: the same leaders (WaveLinkedEvents)
        for (std::uint32_t y = x; n < kWaveMaxChain;) {
            y = wave_leader_above(ev, y);
            if (y == kPrimaryCause) break;
            out[n++] = y;
        }
        return n;
    }
    std::uint32_t top = x;
    for (std::uint32_t y = ev[x].cause; y != kPrimaryCause && n < kWaveMaxChain; y = ev[y].cause) {
        if (wave_key_less(ev, top, y)) {
            out[n++] = y;
            top = y;
        }
    }
    return n;
}

// Whether the reference processes event a before event b (a != b): the first difference of the
// two leader sequences from the top decides. (Session 21 tried walking the two linked chains
// aligned from the top without these arrays: 1.5-2 % slower on an H100, within noise on the CPU,
// docs/results/characterize.md; the arrays stay.)
template <class Ev>
HALO_WAVE_HD HALO_WAVE_COLD bool wave_processed_before(const Ev& ev, std::uint32_t a, std::uint32_t b) {
    if (ev[a].flags & ev[b].flags & kCausal) return wave_key_less(ev, a, b);
    wave_note_acausal(ev, a, b);
    std::uint32_t la[kWaveMaxChain], lb[kWaveMaxChain];
    const int na = wave_leaders(ev, a, la), nb = wave_leaders(ev, b, lb);
    for (int i = 1; i <= na && i <= nb; ++i) {
        const std::uint32_t x = la[na - i], y = lb[nb - i];
        if (x != y) return wave_key_less(ev, x, y);
    }
    return na < nb;  // a leads b's chain: a is b's ancestor
}

// wave_processed_before with the common case inline: two causal events of different times, the
// earlier first (a causal event is never earlier than t = 0, the primary inputs' time, so a
// primary input still comes first). On the device nvcc keeps wave_key_less out of line too (it
// recurses through wave_processed_before); the cancellation check of wave_gate_replay used to
// pay that call (registers saved to the stack around it) on every output event it looked at.
template <class Ev>
HALO_WAVE_HD inline bool wave_before(const Ev& ev, std::uint32_t a, std::uint32_t b) {
    if (ev[a].flags & ev[b].flags & kCausal) {
        const float ta = ev[a].time_ns, tb = ev[b].time_ns;
        return ta != tb ? ta < tb : wave_key_less(ev, a, b);
    }
    return wave_processed_before(ev, a, b);
}

// Sets the up-link of acausal event x, just written (WaveLinkedEvents; nothing for other stores).
// Ancestors between an event y and up[y] have keys below y's, so where y's key is below x's they
// are below x's too and the walk jumps to up[y].
// Out of line on the device (HALO_WAVE_COLD): it runs for acausal events only. The step cap is
// never reached: a cause chain is at most kWaveMaxChain long (flatten_circuit checks).
template <class Ev>
HALO_WAVE_HD HALO_WAVE_COLD void wave_link_up(const Ev& ev, std::uint32_t x) {
    if constexpr (WaveStoreLinks<Ev>::value) {
        std::uint32_t y = ev[x].cause;
        for (int steps = 0; y != kPrimaryCause && steps < kWaveMaxChain; ++steps) {
            if (wave_key_less(ev, x, y)) break;
            y = wave_leader_above(ev, y);
        }
        ev.up[x] = y;
    }
}

// Writes event i of an event store (packed stores overload this beside their type).
HALO_WAVE_HD inline void wave_put(WaveEvent* ev, std::uint32_t i, const WaveEvent& e) { ev[i] = e; }
HALO_WAVE_HD inline void wave_put(const WaveStrided<WaveEvent>& ev, std::uint32_t i, const WaveEvent& e) { ev[i] = e; }
template <class E, class U>
HALO_WAVE_HD inline void wave_put(const WaveLinkedEvents<E, U>& ev, std::uint32_t i, const WaveEvent& e) {
    wave_put(ev.events, i, e);
}

// Event i's time and `bits` = value | kCausal flag << 1. On the device one 16-byte load of the
// whole event; on the host the fields themselves (a copy of the struct there went through the
// stack and made the CPU engine 1.7x slower, dev VM).
template <class Ev>
HALO_WAVE_HD inline void wave_read_head(const Ev& ev, std::uint32_t i, float& t, unsigned& bits) {
#if defined(__CUDA_ARCH__)
    const WaveEvent x = ev[i];
    t = x.time_ns;
    bits = static_cast<unsigned>(x.value & 1u) | static_cast<unsigned>(x.flags & kCausal) << 1;
#else
    t = ev[i].time_ns;
    bits = static_cast<unsigned>(ev[i].value & 1u) | static_cast<unsigned>(ev[i].flags & kCausal) << 1;
#endif
}

// One gate's whole output waveform: replays its input events (next[j]..last[j] on pin j, each
// list time-sorted and contiguous) in the reference's processing order through the reference's
// per-gate rule, appending the output events at out_begin..count. `assign`: the inputs' initial
// values (bit j = pin j). False when the events would pass `capacity` (count is then left at
// capacity). Two forms of the same steps: this one reads the pins' next events from the store
// at every comparison (the host's: the CPU engine is 1.4x slower with the cached form, dev VM),
// wave_gate_replay_cached keeps them in registers (the device's); wave_gate_replay picks one,
// and the tests check both against the reference.
template <class Ev>
HALO_WAVE_HD inline bool wave_gate_replay_scan(const WaveGate& g, std::uint32_t gi, const Ev& ev, std::uint32_t* next,
                                               const std::uint32_t* last, unsigned assign, std::uint32_t out_begin,
                                               std::uint32_t& count, std::uint32_t capacity, bool& acausal) {
    const std::uint32_t n = g.input_count;
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
            if (ea == eb) continue;  // one event on two pins: the lower pin first
            if (ev[ea].flags & ev[eb].flags & kCausal) {
                const float ta = ev[ea].time_ns, tb = ev[eb].time_ns;
                if (ta < tb || (ta == tb && wave_key_less(ev, ea, eb))) best = static_cast<int>(j);
            } else if (wave_processed_before(ev, ea, eb)) {
                best = static_cast<int>(j);
            }
        }
        if (best < 0) return true;
        const std::uint32_t e = next[best]++;
        const float t = ev[e].time_ns;
        const std::uint8_t rose = ev[e].value;
        if (rose) assign |= 1u << best;
        else assign &= ~(1u << best);
        const auto v = static_cast<std::uint8_t>((g.truth >> assign) & 1u);
        const float due = t + g.delay_ns[best][v ? 0 : 1][rose ? 0 : 1];
        // Cancel the output events not yet processed that are due at or after `due`
        // (the processed ones are a prefix of the list).
        while (count > out_begin) {
            const std::uint32_t k = count - 1;
            if (ev[k].time_ns < due) break;
            if (wave_before(ev, k, e)) break;
            --count;
        }
        const std::uint8_t projected = count > out_begin ? ev[count - 1].value : init_out;
        if (projected != v) {
            if (count == capacity) return false;
            const bool causal = (ev[e].flags & kCausal) && due >= t;
            acausal |= !causal;
            const auto flags = static_cast<std::uint8_t>((causal ? kCausal : 0) | (rose ? kCauseRose : 0));
            wave_put(ev, count++, WaveEvent{due, e, gi, static_cast<std::uint16_t>(best), v, flags});
            if (!causal) wave_link_up(ev, count - 1);
        }
    }
}

// wave_gate_replay_scan's steps with each pin's next event (index, time, value, causal flag) and
// the last output event (time, value) in registers: the loops over pins are unrolled to
// kWaveMaxInputs with compile-time indices (stopping at the gate's input count), so no array
// goes to local memory, and an input event is read once (one 16-byte load) instead of at every
// comparison of the pins' heads (the lane kernel's loads wait on memory:
// docs/results/characterize.md, session 4).
template <class Ev>
HALO_WAVE_HD inline bool wave_gate_replay_cached(const WaveGate& g, std::uint32_t gi, const Ev& ev, const std::uint32_t* next,
                                                 const std::uint32_t* last, unsigned assign, std::uint32_t out_begin,
                                                 std::uint32_t& count, std::uint32_t capacity, bool& acausal) {
    const int n = static_cast<int>(g.input_count);
    const auto init_out = static_cast<std::uint8_t>((g.truth >> assign) & 1u);
    std::uint32_t at[kWaveMaxInputs], stop[kWaveMaxInputs];
    float head_t[kWaveMaxInputs];
    unsigned heads = 0;  // pin j: bit 2j its next event's value, bit 2j+1 its kCausal flag
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int j = 0; j < kWaveMaxInputs; ++j) {  // the loops stop at n: only pins 0..n-1 are set
        if (j >= n) break;
        at[j] = next[j];
        stop[j] = last[j];
        head_t[j] = 0.0f;
        if (at[j] != stop[j]) {
            unsigned hb = 0;
            wave_read_head(ev, at[j], head_t[j], hb);
            heads |= hb << (2 * j);
        }
    }
    float tail_t = 0.0f;  // the last output event's time and value (valid while count > out_begin)
    std::uint8_t tail_v = 0;
    for (;;) {
        // The input event processed next: earliest time, then the reference's seq order
        // (the same event on two pins: fan-out order, i.e. the lower pin first).
        int best = -1;
        std::uint32_t e = 0;
        float t = 0.0f;
        unsigned bits = 0;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
        for (int j = 0; j < kWaveMaxInputs; ++j) {
            if (j >= n) break;
            if (at[j] == stop[j]) continue;
            const unsigned hb = (heads >> (2 * j)) & 3u;
            bool take = best < 0;
            if (!take && at[j] != e) {  // one event on two pins: the lower pin first
                if (hb & bits & 2u) take = head_t[j] < t || (head_t[j] == t && wave_key_less(ev, at[j], e));
                else take = wave_processed_before(ev, at[j], e);
            }
            if (take) {
                best = j;
                e = at[j];
                t = head_t[j];
                bits = hb;
            }
        }
        if (best < 0) return true;
        // Advance pin `best` (its list is contiguous: the next event is e + 1).
        std::uint32_t best_stop = 0;
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
        for (int j = 0; j < kWaveMaxInputs; ++j) {
            if (j >= n) break;
            best_stop = j == best ? stop[j] : best_stop;
        }
        float next_t = 0.0f;
        unsigned next_bits = 0;
        if (e + 1 != best_stop) wave_read_head(ev, e + 1, next_t, next_bits);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
        for (int j = 0; j < kWaveMaxInputs; ++j) {
            if (j >= n) break;
            if (j != best) continue;
            at[j] = e + 1;
            head_t[j] = next_t;
            heads = (heads & ~(3u << (2 * j))) | next_bits << (2 * j);
        }
        const bool rose = bits & 1u;
        if (rose) assign |= 1u << best;
        else assign &= ~(1u << best);
        const auto v = static_cast<std::uint8_t>((g.truth >> assign) & 1u);
        const float due = t + g.delay_ns[best][v ? 0 : 1][rose ? 0 : 1];
        // Cancel the output events not yet processed that are due at or after `due`
        // (the processed ones are a prefix of the list).
        while (count > out_begin) {
            if (tail_t < due) break;
            if (wave_before(ev, count - 1, e)) break;
            if (--count > out_begin) {
                unsigned tail_bits = 0;
                wave_read_head(ev, count - 1, tail_t, tail_bits);
                tail_v = static_cast<std::uint8_t>(tail_bits & 1u);
            }
        }
        const std::uint8_t projected = count > out_begin ? tail_v : init_out;
        if (projected != v) {
            if (count == capacity) return false;
            const bool causal = (bits & 2u) && due >= t;
            acausal |= !causal;
            const auto flags = static_cast<std::uint8_t>((causal ? kCausal : 0) | (rose ? kCauseRose : 0));
            wave_put(ev, count++, WaveEvent{due, e, gi, static_cast<std::uint16_t>(best), v, flags});
            if (!causal) wave_link_up(ev, count - 1);
            tail_t = due;
            tail_v = v;
        }
    }
}

// The device's form where nvcc compiles for the GPU (kWaveCachedReplay), the host's elsewhere.
#if defined(__CUDA_ARCH__)
constexpr bool kWaveCachedReplay = true;
#else
constexpr bool kWaveCachedReplay = false;
#endif
template <bool Cached = kWaveCachedReplay, class Ev>
HALO_WAVE_HD inline bool wave_gate_replay(const WaveGate& g, std::uint32_t gi, const Ev& ev, std::uint32_t* next,
                                          const std::uint32_t* last, unsigned assign, std::uint32_t out_begin,
                                          std::uint32_t& count, std::uint32_t capacity, bool& acausal) {
    if constexpr (Cached) return wave_gate_replay_cached(g, gi, ev, next, last, assign, out_begin, count, capacity, acausal);
    else return wave_gate_replay_scan(g, gi, ev, next, last, assign, out_begin, count, capacity, acausal);
}

// Whether output event x's cause rose: kCauseRose where the store keeps it (plain and strided
// WaveEvent stores), else read from the cause.
template <class Ev>
HALO_WAVE_HD inline bool wave_cause_rose(const Ev& ev, const WaveEvent& x) {
    return ev[x.cause].value != 0;
}
HALO_WAVE_HD inline bool wave_cause_rose(WaveEvent* const&, const WaveEvent& x) { return (x.flags & kCauseRose) != 0; }
HALO_WAVE_HD inline bool wave_cause_rose(const WaveStrided<WaveEvent>&, const WaveEvent& x) { return (x.flags & kCauseRose) != 0; }
template <class E, class U>
HALO_WAVE_HD inline bool wave_cause_rose(const WaveLinkedEvents<E, U>& ev, const WaveEvent& x) { return wave_cause_rose(ev.events, x); }

// The switching energy of a gate's output events begin..end (each toggle's net energy plus the
// internal energy of the arc that caused it); `last` becomes the latest event time (not the
// final event's: with negative delays times can fall).
template <class Ev>
HALO_WAVE_HD inline double wave_gate_energy(const WaveView& c, std::uint32_t gi, const Ev& ev, std::uint32_t begin,
                                            std::uint32_t end, float& last) {
    const double toggle = c.toggle_fj[c.gates[gi].output];
    const double* internal = c.internal_fj + static_cast<std::size_t>(gi) * kWaveMaxInputs * 4;
    double energy = 0;
    for (std::uint32_t k = begin; k < end; ++k) {
        const WaveEvent x = ev[k];
        energy += toggle + internal[x.pin * 4 + (x.value ? 0 : 2) + (wave_cause_rose(ev, x) ? 0 : 1)];
        last = last > x.time_ns ? last : x.time_ns;
    }
    return energy;
}

// One transition: the circuit starts settled with slot values init(slot) (a0, acc0 and what the
// gates compute from them) and the primary inputs jump to (a1, acc1) at t = 0.
// `Cached`: which form of the per-gate replay (wave_gate_replay; the tests run both on the host).
// Lockstep: visit the gates by walking every index and skipping the clean ones, instead of
// jumping from dirty bit to dirty bit. The visits and their order are the same (ascending index:
// the gates are in topological order, so a fan-out is always ahead); on a GPU the 32 lanes of a
// warp then visit the same gate at the same step (bench BM_WaveWorkByConeInt8 models 0.50-0.56 of a
// warp busy against 0.27-0.38 for the jumps; docs/results/characterize.md, session 18). The GPU's
// lane kernel uses it by default (session 19, H200: 7.4 s against 8.0-8.1 s for the jumps as they were
// written before this lambda, 11.0 s as written here; no difference on a CPU, which keeps the jumps).
template <bool Cached = kWaveCachedReplay, bool Lockstep = false, class Init, class Scratch>
HALO_WAVE_HD inline WaveLaneResult simulate_wave_lane(const WaveView& c, std::uint64_t a1, std::uint64_t acc1,
                                                      const Init& init, Scratch& s) {
    WaveLaneResult r{-INFINITY, 0, 0.0, false, false};
    const auto& ev = s.events;
    std::uint32_t count = 0;
    const std::uint32_t stamp = s.stamp_value;
    auto mark_fanout = [&](std::uint32_t slot) {
        for (std::uint32_t k = c.fanout_begin[slot]; k < c.fanout_begin[slot + 1]; ++k) {
            const std::uint32_t g = c.fanout_gates[k];
            s.dirty[g >> 6] |= std::uint64_t{1} << (g & 63);
        }
    };
    const std::uint32_t words = (c.gate_count + 63) / 64;
    auto give_up = [&]() {
        for (std::uint32_t w = 0; w < words; ++w) s.dirty[w] = 0;
        return WaveLaneResult{r.settle_ns, count, r.energy_fj, true, r.acausal};
    };
    const int na = c.activation_bits;
    const int primaries = na + c.accumulator_bits;
    for (int p = 0; p < primaries; ++p) {
        const auto slot = static_cast<std::uint32_t>(p);
        const std::uint8_t after = p < na ? (a1 >> p) & 1u : (acc1 >> (p - na)) & 1u;
        const std::uint32_t first = count;
        if (init(slot) != after) {
            if (count == s.capacity) return give_up();
            ev[count++] = {0.0f, kPrimaryCause, slot, 0, after, kCausal};
            r.energy_fj += c.toggle_fj[slot];
            if (c.is_output[slot]) r.settle_ns = r.settle_ns > 0.0f ? r.settle_ns : 0.0f;
            mark_fanout(slot);
        }
        s.range[slot] = WaveRange{first, count, stamp, 0};
    }
    std::uint32_t next[kWaveMaxInputs], last[kWaveMaxInputs];
    // One gate's visit: replay its input events into output events; false when the scratch is full.
    auto visit = [&](std::uint32_t gi) {
        const WaveGate& g = c.gates[gi];
        const std::uint32_t n = g.input_count;
        unsigned assign = 0;
        // Unrolled with constant indices: next and last stay in registers (wave_gate_replay).
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
        for (std::uint32_t j = 0; j < static_cast<std::uint32_t>(kWaveMaxInputs); ++j) {
            next[j] = last[j] = 0;
            if (j >= n) continue;
            const std::uint32_t in = g.inputs[j];
            const WaveRange r = s.range[in];
            if (r.stamp == stamp) {
                next[j] = r.begin;
                last[j] = r.end;
            }
            assign |= static_cast<unsigned>(init(in)) << j;
        }
        const std::uint32_t out_begin = count;
        if (!wave_gate_replay<Cached>(g, gi, ev, next, last, assign, out_begin, count, s.capacity, r.acausal)) return false;
        s.range[g.output] = WaveRange{out_begin, count, stamp, 0};
        if (count == out_begin) return true;
        float latest = -INFINITY;
        r.energy_fj += wave_gate_energy(c, gi, ev, out_begin, count, latest);
        if (c.is_output[g.output]) r.settle_ns = r.settle_ns > latest ? r.settle_ns : latest;
        mark_fanout(g.output);
        return true;
    };
    if constexpr (Lockstep) {
        for (std::uint32_t gi = 0; gi < c.gate_count; ++gi) {
            const std::uint64_t bit = std::uint64_t{1} << (gi & 63);
            if ((s.dirty[gi >> 6] & bit) == 0) continue;
            s.dirty[gi >> 6] &= ~bit;
            if (!visit(gi)) return give_up();
        }
    } else {
        for (std::uint32_t wi = 0; wi < words; ++wi) {
            while (s.dirty[wi] != 0) {
                const std::uint64_t word = s.dirty[wi];
                s.dirty[wi] = word & (word - 1);
#if defined(__CUDA_ARCH__)
                const std::uint32_t gi = wi * 64 + static_cast<std::uint32_t>(__ffsll(static_cast<long long>(word)) - 1);
#else
                const std::uint32_t gi = wi * 64 + static_cast<std::uint32_t>(__builtin_ctzll(word));
#endif
                if (!visit(gi)) return give_up();
            }
        }
    }
    r.toggles = count;
    return r;
}

}  // namespace halo::timing
