// The boundary between halo and the CUDA part of the fast exact engine, which lives in the
// separately loaded module libhalo_cuda.so (util/plugin.hpp): only commands that ask for
// `--device cuda` load it, so no other command pays for the CUDA runtime. Both sides are built
// from this tree by one toolchain; `abi` guards against a stale module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "halo/timing/waveform_lane.hpp"

namespace halo::timing {

constexpr int kWaveCudaAbi = 5;  // 4: WaveCudaStats::lane_lockstep; 5: lock-step the default

// Which kernel runs the transitions: `lane` one thread per transition (the lane engine's code);
// `level` one warp per transition, the gates of a level side by side, events in shared memory
// (waveform_level.hpp; used only where every circuit fits its packed events and a warp's
// per-slot ranges and bit sets leave room for events in shared memory, else `lane`).
enum class WaveCudaKernel : std::uint8_t { level, lane };

// One circuit (per weight) and its transitions; views and arrays in host memory.
struct WaveCudaJob {
    WaveView circuit;
    const std::uint64_t* a0 = nullptr;  // count values each
    const std::uint64_t* a1 = nullptr;
    const std::uint64_t* acc0 = nullptr;
    const std::uint64_t* acc1 = nullptr;
    std::size_t count = 0;
    WaveLaneResult* results = nullptr;  // count entries, written; overflow set where scratch ran out
};

struct WaveCudaStats {
    double kernel_s = 0;        // device time of the kernel(s)
    double total_s = 0;         // including copies and allocation
    std::size_t threads = 0;    // resident threads launched
    std::string device;         // e.g. "NVIDIA H200"
    WaveCudaKernel kernel = WaveCudaKernel::lane;   // the kernel that ran
    std::uint32_t near_events = 0;  // level kernel: events per warp in shared memory
    bool lane_shared = false;       // lane kernel: dirty bits and initial values in shared memory
    bool lane_lockstep = false;     // lane kernel: lanes walk the gates in lock-step (the default; HALO_WAVE_LANE_LOCKSTEP=0: jumps)
};

struct WaveCudaApi {
    int abi = 0;
    // "" when a CUDA device is usable, else why not.
    std::string (*probe)() = nullptr;
    // Runs every job; `event_capacity` events of scratch per transition (level kernel: at most
    // kWaveLevelMaxEvents, reservations included; lane kernel: per thread), `threads_per_sm`
    // resident threads per multiprocessor (rounded to 384, 512, 768 or 1024, the lane kernel also
    // 640; 0: the default, 512 for the level kernel, 640 for the lane kernel). Throws
    // std::runtime_error with the CUDA error text on failure.
    void (*run)(const WaveCudaJob* jobs, std::size_t job_count, std::uint32_t event_capacity, std::uint32_t threads_per_sm,
                WaveCudaKernel kernel, WaveCudaStats* stats) = nullptr;
};

}  // namespace halo::timing

extern "C" const halo::timing::WaveCudaApi* halo_wave_cuda_api();
