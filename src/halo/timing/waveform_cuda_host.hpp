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
#include "halo/timing/waveform_cuda_api.hpp"

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
    WaveCudaKernel kernel = WaveCudaKernel::lane;   // the kernel that ran
    std::uint32_t near_events = 0;        // level kernel: events per warp in shared memory
    bool lane_shared = false;             // lane kernel: dirty bits and initial values in shared memory
    bool lane_lockstep = false;           // lane kernel: lanes walk the gates in lock-step (the default; HALO_WAVE_LANE_LOCKSTEP=0: jumps)
};

// "" when the CUDA path can run here, else why not (module missing, no device ...).
std::string cuda_unavailable_reason();

// Errors: E3540 the CUDA module or device is unusable, E3541 a CUDA call failed, E3542 a
// circuit the fast engine does not support (a non-finite arc delay, or too deep).
// `event_capacity`: events per transition (level kernel, at most 32,767) or per thread (lane
// kernel); 0: 32,767 and 8,192. `threads_per_sm`: resident threads per multiprocessor (0: the
// module's default). `kernel`: waveform_cuda_api.hpp (level falls back to lane for circuits of
// 4,096 slots or more). The default is the lane kernel: the faster one on the osu035 INT8 MAC's
// exhaustive sweep on an H200 (12.1 s against 21.1 s for the level kernel's default, 17.1 s at
// 768 threads/SM; docs/results/characterize.md).
WaveCudaRun run_waveform_cuda(std::span<const WaveDeviceJob> jobs, std::uint32_t event_capacity = 0,
                              std::uint32_t threads_per_sm = 0, WaveCudaKernel kernel = WaveCudaKernel::lane);

}  // namespace halo::timing
