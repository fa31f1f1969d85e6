#include "halo/timing/waveform_cuda_host.hpp"

#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

#include "halo/timing/cuda_module.hpp"
#include "halo/timing/waveform_cuda_api.hpp"
#include "halo/timing/waveform_engine.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::timing {

namespace {

const WaveCudaApi* api(std::string* why) {
    using Entry = const WaveCudaApi* (*)();
    auto entry = reinterpret_cast<Entry>(cuda_module_symbol("halo_wave_cuda_api", why));
    if (!entry) return nullptr;
    const WaveCudaApi* a = entry();
    if (a == nullptr || a->abi != kWaveCudaAbi) {
        *why = "libhalo_cuda.so is from another build (ABI mismatch): rebuild it";
        return nullptr;
    }
    return a;
}

}  // namespace

std::string cuda_unavailable_reason() {
    std::string why;
    const WaveCudaApi* a = api(&why);
    if (!a) return why;
    return a->probe();
}

WaveCudaRun run_waveform_cuda(std::span<const WaveDeviceJob> jobs, std::uint32_t event_capacity, std::uint32_t threads_per_sm,
                              WaveCudaKernel kernel) {
    if (event_capacity == 0) event_capacity = kernel == WaveCudaKernel::level ? 0x7fffu : 8192u;
    // The lane kernel walks the gates in lock-step (session 19: 7.4 s against 11.0 s for the jumps
    // on an H200, docs/results/characterize.md). HALO_WAVE_LANE_LOCKSTEP=0 asks for the jumps, a
    // comparison variant built for the default 5 blocks of 128 threads per multiprocessor only.
    if (const char* lockstep = std::getenv("HALO_WAVE_LANE_LOCKSTEP"); lockstep != nullptr) {
        const std::string value = lockstep;
        if (value != "0" && value != "1")
            throw_bad_value("E3545", "HALO_WAVE_LANE_LOCKSTEP", "the lane kernel's gate walk",
                            "1 (lock-step, the default) or 0 (jumps)", "'" + value + "'");
        if (value == "0" && (kernel != WaveCudaKernel::lane || (threads_per_sm != 0 && (threads_per_sm + 127) / 128 != 5)))
            throw_bad_value("E3544", "HALO_WAVE_LANE_LOCKSTEP",
                            "the jumps gate walk (=0) is a variant of the lane kernel at 5 blocks of 128 threads per multiprocessor",
                            "the lane kernel at 0 (default) or 513-640 threads per multiprocessor",
                            std::string(kernel == WaveCudaKernel::lane ? "the lane" : "the level") + " kernel at " +
                                std::to_string(threads_per_sm) + " threads per multiprocessor");
    }
    std::string why;
    const WaveCudaApi* a = api(&why);
    if (a) why = a->probe();
    if (!a || !why.empty())
        throw_bad_value("E3540", "--device cuda", "the CUDA path cannot run here", "a CUDA device and libhalo_cuda.so",
                        why, "use --device cpu");
    struct Owned {
        WaveCircuit flat;
        std::vector<std::uint64_t> a0, a1, acc0, acc1;
        std::vector<WaveLaneResult> out;
    };
    std::vector<Owned> owned(jobs.size());
    std::vector<WaveCudaJob> cuda_jobs(jobs.size());
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        Owned& o = owned[j];
        o.flat = flatten_circuit(*jobs[j].circuit, jobs[j].energy);
        if (!o.flat.delays_supported)
            throw_bad_value("E3542", "weight " + std::to_string(jobs[j].circuit->weight_code),
                            "arc delays the fast engine does not support", "finite delays", "a non-finite delay",
                            "use the reference engine");
        const std::size_t n = jobs[j].stimuli.size();
        o.a0.resize(n);
        o.a1.resize(n);
        o.acc0.resize(n);
        o.acc1.resize(n);
        o.out.resize(n);
        for (std::size_t i = 0; i < n; ++i) {
            const Stimulus& s = jobs[j].stimuli[i];
            o.a0[i] = s.a0;
            o.a1[i] = s.a1;
            o.acc0[i] = s.acc0;
            o.acc1[i] = s.acc1;
        }
        cuda_jobs[j] = {o.flat.view(), o.a0.data(), o.a1.data(), o.acc0.data(), o.acc1.data(), n, o.out.data()};
    }
    WaveCudaStats stats;
    try {
        a->run(cuda_jobs.data(), cuda_jobs.size(), event_capacity, threads_per_sm, kernel, &stats);
    } catch (const std::exception& e) {
        throw_internal("E3541", std::string("the CUDA engine failed: ") + e.what(), "");
    }
    WaveCudaRun run;
    run.kernel_s = stats.kernel_s;
    run.total_s = stats.total_s;
    run.threads = stats.threads;
    run.device = stats.device;
    run.kernel = stats.kernel;
    run.near_events = stats.near_events;
    run.lane_shared = stats.lane_shared;
    run.lane_lockstep = stats.lane_lockstep;
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        std::vector<Stimulus> redo;
        std::vector<std::size_t> where;
        for (std::size_t i = 0; i < owned[j].out.size(); ++i) {
            const WaveLaneResult& r = owned[j].out[i];
            run.acausal += r.acausal ? 1 : 0;
            if (r.overflow) {
                redo.push_back(jobs[j].stimuli[i]);
                where.push_back(i);
            } else {
                jobs[j].results[i] = {r.settle_ns, r.toggles, r.energy_fj};
            }
        }
        if (redo.empty()) continue;
        WaveformEngine cpu(*jobs[j].circuit, jobs[j].energy);
        std::vector<EventSimResult> got(redo.size());
        cpu.run(redo, got);
        run.overflowed += redo.size();
        for (std::size_t k = 0; k < redo.size(); ++k) jobs[j].results[where[k]] = got[k];
    }
    return run;
}

}  // namespace halo::timing
