// The levelled form of the fast exact engine, made for one GPU warp per transition
// (waveform_cuda.cu's level kernel): the gates of one logic level are independent, so the 32
// lanes of a warp replay up to 32 of them at once, each through the same per-gate rule as the
// lane engine (wave_gate_replay, waveform_lane.hpp), on a transition's events kept in 8-byte
// packed form in shared memory (the first `near_count` events; the rest in global memory).
//
// Per chunk of up to 32 gates of a level: each lane with a dirty gate reserves as many output
// events as its inputs have events (each processed input event appends at most one output
// event), replays its gate into its reserved region, and the regions are then packed together
// in lane order, so that the event list holds no holes and the next level sees final indices.
// simulate_wave_levelled runs exactly these steps one lane after the other on the CPU: it is
// what the tests check against the lane engine and the reference event simulator; the kernel
// does the same steps with warp collectives (same event indices, same figures).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "halo/timing/waveform_lane.hpp"

namespace halo::timing {

// Packed events: 15 bits of cause index, 12 bits of source, 3 of pin.
constexpr std::uint32_t kWaveLevelMaxEvents = 0x7fff;   // events per transition, reservations included
constexpr std::uint32_t kWaveLevelMaxSources = 4096;    // slots and gates of a circuit
constexpr std::uint16_t kWavePackedPrimary = 0x7fff;

struct WavePackedEvent {
    float time_ns;
    std::uint16_t cause_flags;       // cause (kWavePackedPrimary: a primary input), bit 15 kCausal
    std::uint16_t source_pin_value;  // source << 4 | pin << 1 | value
};
static_assert(sizeof(WavePackedEvent) == 8);

HALO_WAVE_HD inline WavePackedEvent wave_pack(const WaveEvent& e) {
    const std::uint32_t cause = e.cause == kPrimaryCause ? kWavePackedPrimary : e.cause;
    return {e.time_ns, static_cast<std::uint16_t>(cause | (static_cast<std::uint32_t>(e.flags & kCausal) << 15)),
            static_cast<std::uint16_t>((e.source << 4) | (static_cast<std::uint32_t>(e.pin) << 1) | e.value)};
}

HALO_WAVE_HD inline WaveEvent wave_unpack(const WavePackedEvent& p) {
    const std::uint32_t cause = p.cause_flags & 0x7fffu;
    return {p.time_ns, cause == kWavePackedPrimary ? kPrimaryCause : cause, static_cast<std::uint32_t>(p.source_pin_value >> 4),
            static_cast<std::uint16_t>((p.source_pin_value >> 1) & 7u), static_cast<std::uint8_t>(p.source_pin_value & 1u),
            static_cast<std::uint8_t>(p.cause_flags >> 15)};
}

// A transition's events: the first near_count in `near` (shared memory on the GPU), the rest
// in `far` (global memory).
struct WaveSplitEvents {
    WavePackedEvent* near = nullptr;
    std::uint32_t near_count = 0;
    WavePackedEvent* far = nullptr;
    HALO_WAVE_HD WavePackedEvent& at(std::uint32_t i) const { return i < near_count ? near[i] : far[i - near_count]; }
    HALO_WAVE_HD WaveEvent operator[](std::uint32_t i) const { return wave_unpack(at(i)); }
};
HALO_WAVE_HD inline void wave_put(const WaveSplitEvents& ev, std::uint32_t i, const WaveEvent& e) { ev.at(i) = wave_pack(e); }

// What the levelled steps read of every gate, whether it has events or not, in one 32-byte
// record per position (a warp's lanes read neighbouring records).
struct WaveLevelGate {
    std::uint64_t truth;
    std::uint16_t inputs[kWaveMaxInputs];
    std::uint16_t output;
    std::uint16_t input_count;
    std::uint32_t gate;  // index in WaveView::gates (delays, energies)
    std::uint32_t unused;
};
static_assert(sizeof(WaveLevelGate) == 32);

// The gates by logic level (primary inputs are level 0): positions 0..gate_count-1 in level
// order (gate order inside a level), as device or host pointers.
struct WaveLevelView {
    const WaveLevelGate* gates = nullptr;         // index = position
    const std::uint32_t* level_begin = nullptr;   // levels + 1 positions
    std::uint32_t levels = 0;
    const std::uint32_t* fanout_begin = nullptr;  // slot_count + 1 offsets into fanout_pos
    const std::uint32_t* fanout_pos = nullptr;    // positions of the gates reading each slot
};

struct WaveLevelCircuit {
    std::vector<WaveLevelGate> gates;
    std::vector<std::uint32_t> level_begin, fanout_begin, fanout_pos;
    bool supported = false;  // fits the packed encoding (slots and gates < 4096, <= 6 inputs)
    WaveLevelView view() const {
        return {gates.data(), level_begin.data(), static_cast<std::uint32_t>(level_begin.size() - 1), fanout_begin.data(),
                fanout_pos.data()};
    }
};

inline WaveLevelCircuit level_circuit(const WaveView& c) {
    WaveLevelCircuit l;
    // Slots fit 16 bits in WaveLevelGate too.
    l.supported = c.slot_count < kWaveLevelMaxSources && c.gate_count < kWaveLevelMaxSources;
    std::vector<std::uint32_t> level(c.slot_count, 0), gate_level(c.gate_count, 0);
    std::uint32_t levels = 0;
    for (std::uint32_t g = 0; g < c.gate_count; ++g) {
        std::uint32_t lv = 0;
        for (std::uint32_t j = 0; j < c.gates[g].input_count; ++j) lv = std::max(lv, level[c.gates[g].inputs[j]]);
        gate_level[g] = lv + 1;
        level[c.gates[g].output] = lv + 1;
        levels = std::max(levels, lv + 1);
    }
    l.level_begin.assign(levels + 1, 0);  // level L (1-based) at level_begin[L-1]..level_begin[L]
    for (std::uint32_t g = 0; g < c.gate_count; ++g) ++l.level_begin[gate_level[g]];
    for (std::uint32_t k = 1; k <= levels; ++k) l.level_begin[k] += l.level_begin[k - 1];
    std::vector<std::uint32_t> fill(l.level_begin.begin(), l.level_begin.end() - 1), position(c.gate_count);
    l.gates.resize(c.gate_count);
    for (std::uint32_t g = 0; g < c.gate_count; ++g) {
        position[g] = fill[gate_level[g] - 1]++;
        WaveLevelGate& r = l.gates[position[g]];
        r = {c.gates[g].truth, {}, static_cast<std::uint16_t>(c.gates[g].output), static_cast<std::uint16_t>(c.gates[g].input_count), g, 0};
        for (std::uint32_t j = 0; j < c.gates[g].input_count; ++j) r.inputs[j] = static_cast<std::uint16_t>(c.gates[g].inputs[j]);
    }
    l.fanout_begin.assign(c.fanout_begin, c.fanout_begin + c.slot_count + 1);
    l.fanout_pos.resize(c.fanout_begin[c.slot_count]);
    for (std::uint32_t k = 0; k < l.fanout_pos.size(); ++k) l.fanout_pos[k] = position[c.fanout_gates[k]];
    return l;
}

// Per-transition working memory (one warp's shared memory on the GPU). Bit sets: one bit per
// slot (init: initial value; written: range valid) or per position (dirty).
struct WaveLevelScratch {
    WaveSplitEvents events;
    std::uint32_t capacity = 0;     // events per transition, reservations included
    std::uint32_t* range = nullptr; // per slot: begin | end << 16, valid where `written`
    std::uint32_t* init = nullptr;
    std::uint32_t* written = nullptr;
    std::uint32_t* dirty = nullptr;
};

HALO_WAVE_HD inline bool wave_bit(const std::uint32_t* w, std::uint32_t i) { return (w[i >> 5] >> (i & 31)) & 1u; }
HALO_WAVE_HD inline void wave_set_bit(std::uint32_t* w, std::uint32_t i) {
#if defined(__CUDA_ARCH__)
    atomicOr(w + (i >> 5), 1u << (i & 31));  // lanes of a warp set bits of one word at once
#else
    w[i >> 5] |= 1u << (i & 31);
#endif
}

// Primary input p: sets its initial bit; true when it toggles.
HALO_WAVE_HD inline bool wave_level_primary(const WaveView& c, const WaveLevelScratch& s, std::uint32_t p, std::uint64_t a0,
                                            std::uint64_t acc0, std::uint64_t a1, std::uint64_t acc1) {
    const auto na = static_cast<std::uint32_t>(c.activation_bits);
    const bool before = p < na ? (a0 >> p) & 1u : (acc0 >> (p - na)) & 1u;
    const bool after = p < na ? (a1 >> p) & 1u : (acc1 >> (p - na)) & 1u;
    if (before) wave_set_bit(s.init, p);
    return before != after;
}

HALO_WAVE_HD inline void wave_mark_fanout(const WaveLevelView& l, const WaveLevelScratch& s, std::uint32_t slot) {
    for (std::uint32_t k = l.fanout_begin[slot]; k < l.fanout_begin[slot + 1]; ++k) wave_set_bit(s.dirty, l.fanout_pos[k]);
}

// Primary input p toggles: its event at index `at`.
HALO_WAVE_HD inline void wave_level_primary_event(const WaveView& c, const WaveLevelView& l, const WaveLevelScratch& s,
                                                  std::uint32_t p, std::uint32_t at, std::uint64_t a1, std::uint64_t acc1,
                                                  double& energy, float& settle) {
    const auto na = static_cast<std::uint32_t>(c.activation_bits);
    const auto after = static_cast<std::uint8_t>(p < na ? (a1 >> p) & 1u : (acc1 >> (p - na)) & 1u);
    wave_put(s.events, at, WaveEvent{0.0f, kPrimaryCause, p, 0, after, kCausal});
    s.range[p] = at | ((at + 1) << 16);
    wave_set_bit(s.written, p);
    energy += c.toggle_fj[p];
    if (c.is_output[p]) settle = settle > 0.0f ? settle : 0.0f;
    wave_mark_fanout(l, s, p);
}

// A gate's initial output from its inputs' initial bits (all of lower levels): sets its bit,
// returns the inputs' assignment.
HALO_WAVE_HD inline unsigned wave_level_init(const WaveLevelGate& g, const WaveLevelScratch& s) {
    unsigned assign = 0;
    for (std::uint32_t j = 0; j < g.input_count; ++j) assign |= static_cast<unsigned>(wave_bit(s.init, g.inputs[j])) << j;
    if ((g.truth >> assign) & 1u) wave_set_bit(s.init, g.output);
    return assign;
}

// A gate's input event ranges; returns how many output events it may append at most.
HALO_WAVE_HD inline std::uint32_t wave_level_inputs(const WaveLevelGate& g, const WaveLevelScratch& s, std::uint32_t* next,
                                                    std::uint32_t* last) {
    std::uint32_t bound = 0;
    // Unrolled with constant indices: next and last stay in registers (wave_gate_replay).
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (std::uint32_t j = 0; j < static_cast<std::uint32_t>(kWaveMaxInputs); ++j) {
        const std::uint32_t in = g.inputs[j];
        const std::uint32_t r = j < g.input_count && wave_bit(s.written, in) ? s.range[in] : 0u;
        next[j] = r & 0xffffu;
        last[j] = r >> 16;
        bound += last[j] - next[j];
    }
    return bound;
}

// Gate gi's output events, packed at `at`..`at + n`: its range, energy, settle, fan-out.
HALO_WAVE_HD inline void wave_level_finish(const WaveView& c, const WaveLevelView& l, const WaveLevelScratch& s,
                                           std::uint32_t gi, std::uint32_t at, std::uint32_t n, double& energy, float& settle) {
    const std::uint32_t out = c.gates[gi].output;
    s.range[out] = at | ((at + n) << 16);
    wave_set_bit(s.written, out);
    if (n == 0) return;
    float latest = -INFINITY;
    energy += wave_gate_energy(c, gi, s.events, at, at + n, latest);
    if (c.is_output[out]) settle = settle > latest ? settle : latest;
    wave_mark_fanout(l, s, out);
}

// Words of the three bit sets to clear before a transition.
HALO_WAVE_HD inline std::uint32_t wave_slot_words(const WaveView& c) { return (c.slot_count + 31) / 32; }
HALO_WAVE_HD inline std::uint32_t wave_position_words(const WaveView& c) { return (c.gate_count + 31) / 32; }

// What a warp would do for the transitions simulated so far (bench/timing): each lane's work is
// taken as the input events its gate replays; the warp takes the longest lane's per chunk.
struct WaveLevelWork {
    std::uint64_t transitions = 0, chunks = 0, busy_chunks = 0, dirty_gates = 0;
    std::uint64_t lane_events = 0;   // input events replayed, summed over lanes
    std::uint64_t chunk_events = 0;  // the longest lane's, summed over chunks
};

// The kernel's steps, one lane after the other (see the top of this file): the CPU model of
// one warp's transition, same event indices as on the GPU. `work` (may be null) accumulates.
inline WaveLaneResult simulate_wave_levelled(const WaveView& c, const WaveLevelView& l, std::uint64_t a0,
                                             std::uint64_t a1, std::uint64_t acc0, std::uint64_t acc1,
                                             const WaveLevelScratch& s, WaveLevelWork* work = nullptr) {
    constexpr std::uint32_t kLanes = 32;
    for (std::uint32_t k = 0; k < wave_slot_words(c); ++k) s.init[k] = s.written[k] = 0;
    for (std::uint32_t k = 0; k < wave_position_words(c); ++k) s.dirty[k] = 0;
    WaveLaneResult r{-INFINITY, 0, 0.0, false, false};
    std::uint32_t count = 0;
    const auto primaries = static_cast<std::uint32_t>(c.activation_bits + c.accumulator_bits);
    for (std::uint32_t p = 0; p < primaries; ++p)
        if (wave_level_primary(c, s, p, a0, acc0, a1, acc1))
            wave_level_primary_event(c, l, s, p, count++, a1, acc1, r.energy_fj, r.settle_ns);
    std::uint32_t next[kLanes][kWaveMaxInputs], last[kLanes][kWaveMaxInputs];
    std::uint32_t reserved[kLanes], bound[kLanes], n[kLanes];
    unsigned assign[kLanes];
    bool dirty[kLanes];
    for (std::uint32_t lv = 0; lv < l.levels; ++lv) {
        for (std::uint32_t base = l.level_begin[lv]; base < l.level_begin[lv + 1]; base += kLanes) {
            const std::uint32_t lanes = std::min(kLanes, l.level_begin[lv + 1] - base);
            std::uint32_t total = 0;
            for (std::uint32_t k = 0; k < lanes; ++k) {
                const WaveLevelGate& g = l.gates[base + k];
                assign[k] = wave_level_init(g, s);
                dirty[k] = wave_bit(s.dirty, base + k);
                bound[k] = dirty[k] ? wave_level_inputs(g, s, next[k], last[k]) : 0;
                reserved[k] = count + total;
                total += bound[k];
            }
            if (count + total > s.capacity) {
                r.overflow = true;
                r.toggles = count;
                return r;
            }
            if (work != nullptr) {
                std::uint32_t longest = 0, dirty_here = 0;
                for (std::uint32_t k = 0; k < lanes; ++k) {
                    longest = std::max(longest, bound[k]);
                    dirty_here += dirty[k];
                }
                ++work->chunks;
                work->busy_chunks += dirty_here > 0;
                work->dirty_gates += dirty_here;
                work->lane_events += total;
                work->chunk_events += longest;
            }
            for (std::uint32_t k = 0; k < lanes; ++k) {
                n[k] = 0;
                if (!dirty[k]) continue;
                const std::uint32_t gi = l.gates[base + k].gate;
                std::uint32_t end = reserved[k];
                wave_gate_replay(c.gates[gi], gi, s.events, next[k], last[k], assign[k], reserved[k], end,
                                 reserved[k] + bound[k], r.acausal);
                n[k] = end - reserved[k];
            }
            for (std::uint32_t k = 0; k < lanes; ++k) {  // pack the regions together, in lane order
                if (!dirty[k]) continue;
                for (std::uint32_t e = 0; e < n[k]; ++e) s.events.at(count + e) = s.events.at(reserved[k] + e);
                wave_level_finish(c, l, s, l.gates[base + k].gate, count, n[k], r.energy_fj, r.settle_ns);
                count += n[k];
            }
        }
    }
    r.toggles = count;
    if (work != nullptr) ++work->transitions;
    return r;
}

}  // namespace halo::timing
