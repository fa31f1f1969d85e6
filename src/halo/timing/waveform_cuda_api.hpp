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

constexpr int kWaveCudaAbi = 2;

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
};

struct WaveCudaApi {
    int abi = 0;
    // "" when a CUDA device is usable, else why not.
    std::string (*probe)() = nullptr;
    // Runs every job; `event_capacity` events of scratch per thread, `threads_per_sm` resident
    // threads per multiprocessor (rounded to 384, 512, 768 or 1024; 0: the default, 768).
    // Throws std::runtime_error with the CUDA error text on failure.
    void (*run)(const WaveCudaJob* jobs, std::size_t job_count, std::uint32_t event_capacity, std::uint32_t threads_per_sm,
                WaveCudaStats* stats) = nullptr;
};

}  // namespace halo::timing

extern "C" const halo::timing::WaveCudaApi* halo_wave_cuda_api();
