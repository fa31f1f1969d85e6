// The host side of the CUDA path of the fast exact engine: flattens each circuit, runs every
// job through the CUDA module (cuda_module.hpp, waveform_cuda_api.hpp) and re-runs on the CPU
// engine the few transitions whose events overflowed a thread's scratch on the device.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "halo/timing/dynamic_circuit.hpp"
#include "halo/timing/energy.hpp"
#include "halo/timing/event_sim.hpp"

namespace halo::timing {

struct WaveDeviceJob {
    const DynamicCircuit* circuit = nullptr;
    const EnergyModel* energy = nullptr;  // may be null
    std::span<const Stimulus> stimuli;
    std::span<EventSimResult> results;    // same size as stimuli, written
};

struct WaveCudaRun {
    double kernel_s = 0;
    double total_s = 0;                   // device part: copies, allocation, kernel
    std::size_t threads = 0;
    std::size_t overflowed = 0;           // transitions re-run on the CPU engine (scratch too small)
    std::size_t acausal = 0;              // transitions with an event scheduled before its cause's time
    std::string device;
};

// "" when the CUDA path can run here, else why not (module missing, no device ...).
std::string cuda_unavailable_reason();

// Errors: E3540 the CUDA module or device is unusable, E3541 a CUDA call failed, E3542 a
// circuit the fast engine does not support (a non-finite arc delay, or too deep).
// `threads_per_sm`: resident threads per multiprocessor (0: the module's default).
WaveCudaRun run_waveform_cuda(std::span<const WaveDeviceJob> jobs, std::uint32_t event_capacity = 8192,
                              std::uint32_t threads_per_sm = 0);

}  // namespace halo::timing
