// The fast exact engine of the data-dependent analysis (event_sim.hpp is its reference): the
// same transport-delay, every-glitch semantics, computed levelised instead of through a global
// event queue. Gates are visited once in topological order; each gate merges the (time-sorted)
// event lists of its inputs, replays them through the reference's per-gate rule (re-evaluate,
// cancel pending output events at or after the new due time, schedule unless already due) and
// so writes its output's whole waveform. Results equal the reference's exactly because a gate's
// output depends only on the order in which its input events are processed, and that order is
// reproduced: by time, and at equal times by the reference's scheduling order (seq), which is
// the processing order of the event that scheduled it, then the fan-out position (gate, pin);
// primary inputs come first, in slot order (docs/design/dynamic_timing.md, "fast exact engine").
// Initial values of 64 transitions are evaluated bit-parallel; the waveforms lane by lane.
// One engine per circuit (per weight); not shared between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "halo/timing/dynamic_circuit.hpp"
#include "halo/timing/energy.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/timing/waveform_lane.hpp"

namespace halo::timing {

// The circuit as flat arrays (WaveView points into them; the CUDA engine copies them).
struct WaveCircuit {
    std::uint32_t slot_count = 0;
    int activation_bits = 0;
    int accumulator_bits = 0;
    std::vector<WaveGate> gates;             // topological order
    std::vector<double> internal_fj;         // index = (gate * 6 + j) * 4 + out edge * 2 + in edge
    std::vector<double> toggle_fj;           // index = slot (0 when no energy model)
    std::vector<std::uint8_t> is_output;     // index = slot
    std::vector<std::uint32_t> fanout_begin; // slot_count + 1
    std::vector<std::uint32_t> fanout_gates;
    bool delays_supported = true;            // false: a non-finite arc delay, or too deep

    WaveView view() const;
};

WaveCircuit flatten_circuit(const DynamicCircuit& circuit, const EnergyModel* energy);

class WaveformEngine {
public:
    // `energy` may be null (energies 0). The circuit must outlive the engine.
    WaveformEngine(const DynamicCircuit& circuit, const EnergyModel* energy);

    // False when the circuit has a non-finite arc delay or a logic depth beyond kWaveMaxChain:
    // use EventSimulator.
    bool supported() const { return flat_.delays_supported; }
    // Transitions of the runs so far in which an event was scheduled before its cause's time (a
    // negative arc delay, e.g. NLDM tables at slow input slews): the reference then processes
    // events out of time order, and this engine follows it (waveform_lane.hpp).
    std::size_t acausal_transitions() const { return acausal_transitions_; }
    const WaveCircuit& flat() const { return flat_; }

    // Transport mode, one result per stimulus, the reference's figures.
    void run(std::span<const Stimulus> stimuli, std::span<EventSimResult> results);
    // Replays gates through the CUDA kernels' form of the per-gate rule (wave_gate_replay_cached)
    // instead of the host's: same results, slower here; for the tests.
    void use_device_replay(bool on) { device_replay_ = on; }
    // Visits the gates in lock-step form with the device's replay, as the lane kernel runs them by
    // default (simulate_wave_lane<true, true>): same results, no faster on a CPU; for the tests.
    void use_lockstep(bool on) { lockstep_ = on; }

private:
    void initial_values(std::span<const Stimulus> block);

    WaveCircuit flat_;
    WaveView view_;
    std::size_t acausal_transitions_ = 0;
    std::vector<std::uint64_t> init_;  // index = slot: initial value of each lane of the block
    std::vector<WaveEvent> events_;    // grows when a lane overflows it
    std::vector<std::uint32_t> ups_;   // the acausal events' up-links (WaveLinkedEvents), one per event slot
    std::vector<WaveRange> range_;     // index = slot
    std::vector<std::uint64_t> dirty_;
    std::uint32_t stamp_value_ = 0;
    bool device_replay_ = false;
    bool lockstep_ = false;
};

}  // namespace halo::timing
