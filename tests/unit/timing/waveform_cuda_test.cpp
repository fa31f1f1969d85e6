// The CUDA path of the fast exact engine against the CPU engine (and, on a sample, the reference
// event simulator), on every activation pair of an INT8 MAC. Skips where no CUDA device or no
// libhalo_cuda.so is usable. The MAC: $HALO_WAVE_NETLIST (Yosys JSON, top from
// $HALO_WAVE_TOP, default "mac") on $HALO_WAVE_LIBERTY, else y = acc + w * a synthesized onto
// osu018 here. $HALO_WAVE_WEIGHTS=all checks every weight (default: 8 of them).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <unistd.h>

#include "dynamic_test_support.hpp"
#include "halo/timing/energy.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/timing/static_timing.hpp"
#include "halo/timing/ternary_timing.hpp"
#include "halo/timing/transition_set.hpp"
#include "halo/timing/waveform_cuda_host.hpp"
#include "halo/timing/waveform_engine.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

namespace halo::timing {
namespace {

bool same(const EventSimResult& a, const EventSimResult& b) {
    const bool settle = (a.settle_ns == kNever && b.settle_ns == kNever) ||
                        std::fabs(static_cast<double>(a.settle_ns) - b.settle_ns) <= 1e-6;
    const double scale = std::max(1e-30, std::fabs(a.switching_energy_fj));
    return settle && a.toggles == b.toggles && std::fabs(a.switching_energy_fj - b.switching_energy_fj) <= 1e-9 * scale;
}

// HALO_WAVE_LANE_LOCKSTEP=0 asks for the lane kernel's jumps gate walk, a comparison variant built
// at 5 blocks per multiprocessor only: with the level kernel or another thread count it is refused
// (E3544), and a value other than 0 or 1 is refused too (E3545), before any device is looked for
// (runs without a GPU).
TEST(WaveformCuda, JumpsVariantOutsideItsBuildAndBadValuesAreRefused) {
    struct Case {
        const char* value;
        WaveCudaKernel kernel;
        std::uint32_t threads_per_sm;
        const char* code;
    };
    for (const Case& c : {Case{"0", WaveCudaKernel::level, 0u, "E3544"}, Case{"0", WaveCudaKernel::lane, 768u, "E3544"},
                          Case{"yes", WaveCudaKernel::lane, 0u, "E3545"}, Case{"", WaveCudaKernel::lane, 0u, "E3545"}}) {
        ::setenv("HALO_WAVE_LANE_LOCKSTEP", c.value, 1);
        std::string code, message;
        try {
            (void)run_waveform_cuda({}, 0, c.threads_per_sm, c.kernel);
        } catch (const Error& e) {
            code = e.diagnostic().code;
            message = e.what();
        }
        EXPECT_EQ(code, c.code) << c.value << " " << c.threads_per_sm;
        EXPECT_NE(message.find("HALO_WAVE_LANE_LOCKSTEP"), std::string::npos) << message;
    }
    ::unsetenv("HALO_WAVE_LANE_LOCKSTEP");
}

TEST(WaveformCuda, EqualsCpuEngineOnEveryActivationPairOfAnInt8Mac) {
    const std::string why = cuda_unavailable_reason();
    if (!why.empty()) GTEST_SKIP() << why;
    std::unique_ptr<liberty::Library> lib;
    std::unique_ptr<netlist::Netlist> nl;
    const char* json = std::getenv("HALO_WAVE_NETLIST");
    if (json != nullptr) {
        const char* top = std::getenv("HALO_WAVE_TOP");
        lib = std::make_unique<liberty::Library>(liberty::read_liberty(std::getenv("HALO_WAVE_LIBERTY")));
        nl = std::make_unique<netlist::Netlist>(netlist::read_yosys_json(json, top ? top : "mac", *lib));
    } else {
        auto dir = std::filesystem::temp_directory_path() / ("halo_wave_cuda_" + std::to_string(::getpid()));
        auto synthesized = test::synthesize(test::mac_verilog(8, 24), dir);
        if (synthesized.empty()) GTEST_SKIP() << "yosys or osu018 missing and HALO_WAVE_NETLIST not set";
        lib = std::make_unique<liberty::Library>(liberty::read_liberty(test::kOsu018));
        nl = std::make_unique<netlist::Netlist>(netlist::read_yosys_json(synthesized, "t", *lib));
    }
    StaticTimer timer(*nl, {});
    std::vector<std::uint64_t> weights = {0, 1, 2, 85, 127, 128, 192, 255};
    const char* all = std::getenv("HALO_WAVE_WEIGHTS");
    if (all != nullptr && std::string(all) == "all") {
        weights.clear();
        for (std::uint64_t w = 0; w < 256; ++w) weights.push_back(w);
    }
    struct Job {
        DynamicCircuit circuit;
        EnergyModel energy;
        std::vector<Stimulus> stimuli;
        std::vector<EventSimResult> gpu;
    };
    std::vector<Job> jobs(weights.size());
    for (std::size_t i = 0; i < weights.size(); ++i) {
        const DynamicDelays d = delays_for_case(timer, hold_port(*nl, "w", weights[i]));
        jobs[i].circuit = build_dynamic_circuit(*nl, d, {}, weights[i]);
        jobs[i].energy = build_energy_model(jobs[i].circuit, *nl, d);
        jobs[i].stimuli = exhaustive_data_transitions(stream_seed(1, weights[i]), 8, jobs[i].circuit.accumulator_bits, {});
        jobs[i].gpu.resize(jobs[i].stimuli.size());
    }
    // The CPU engine's results once, then each device configuration against them.
    std::vector<std::vector<EventSimResult>> want(jobs.size());
    std::vector<std::size_t> differ_ref(jobs.size(), 0), checked(jobs.size(), 0);
    parallel_for(jobs.size(), 0, [&](std::size_t i, unsigned) {
        Job& j = jobs[i];
        WaveformEngine cpu(j.circuit, &j.energy);
        want[i].resize(j.stimuli.size());
        cpu.run(j.stimuli, want[i]);
        EventSimulator ref(j.circuit, &j.energy);
        for (std::size_t k = 0; k < j.stimuli.size(); k += 997, ++checked[i]) differ_ref[i] += !same(ref.run(j.stimuli[k]), want[i][k]);
    });
    std::size_t checked_reference = 0, differ_reference = 0;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        checked_reference += checked[i];
        differ_reference += differ_ref[i];
    }
    EXPECT_EQ(differ_reference, 0u);
    EXPECT_GT(checked_reference, 0u);
    struct Config {
        const char* what;
        WaveCudaKernel kernel;
        std::uint32_t capacity, threads_per_sm;
        bool lane_shared = false;  // HALO_WAVE_LANE_SHARED=1: the lane kernel's bit sets in shared memory
        bool lane_jumps = false;  // HALO_WAVE_LANE_LOCKSTEP=0: each lane jumps between its own dirty gates
    };
    // Small capacities so that some transitions overflow and take the CPU re-run path too; the
    // level kernel also with 8 blocks per multiprocessor (less shared memory per warp, more
    // events in global memory).
    const Config configs[] = {{"lane kernel, defaults (the default kernel: lock-step gate walk)", WaveCudaKernel::lane, 0, 0},
                              {"lane kernel, bit sets in shared memory", WaveCudaKernel::lane, 0, 0, true},
                              {"level kernel, defaults", WaveCudaKernel::level, 0, 0},
                              {"level kernel, capacity 2048, 1024 threads/SM", WaveCudaKernel::level, 2048, 1024},
                              {"lane kernel, capacity 3072", WaveCudaKernel::lane, 3072, 0},
                              {"lane kernel, 768 threads/SM, bit sets in shared memory", WaveCudaKernel::lane, 0, 768, true},
                              {"lane kernel, the jumps gate walk", WaveCudaKernel::lane, 0, 0, false, true},
                              {"lane kernel, the jumps gate walk, bit sets in shared memory", WaveCudaKernel::lane, 0, 0, true, true}};
    for (const Config& cfg : configs) {
        for (auto& j : jobs) std::fill(j.gpu.begin(), j.gpu.end(), EventSimResult{-1.0f, 0, -1.0});  // poison
        std::vector<WaveDeviceJob> device_jobs;
        for (auto& j : jobs) device_jobs.push_back({&j.circuit, &j.energy, j.stimuli, j.gpu});
        if (cfg.lane_shared) ::setenv("HALO_WAVE_LANE_SHARED", "1", 1);
        if (cfg.lane_jumps) ::setenv("HALO_WAVE_LANE_LOCKSTEP", "0", 1);
        const WaveCudaRun run = run_waveform_cuda(device_jobs, cfg.capacity, cfg.threads_per_sm, cfg.kernel);
        ::unsetenv("HALO_WAVE_LANE_SHARED");
        ::unsetenv("HALO_WAVE_LANE_LOCKSTEP");
        EXPECT_EQ(run.kernel, cfg.kernel) << cfg.what;
        EXPECT_EQ(run.lane_lockstep, run.kernel == WaveCudaKernel::lane && !cfg.lane_jumps) << cfg.what;
        std::size_t compared = 0, differ = 0;
        std::string first;
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            for (std::size_t k = 0; k < want[i].size(); ++k, ++compared) {
                if (same(want[i][k], jobs[i].gpu[k])) continue;
                if (differ++ == 0)
                    first = "weight " + std::to_string(weights[i]) + " transition " + std::to_string(k) + ": toggles " +
                            std::to_string(want[i][k].toggles) + " vs " + std::to_string(jobs[i].gpu[k].toggles) +
                            ", settle " + std::to_string(want[i][k].settle_ns) + " vs " + std::to_string(jobs[i].gpu[k].settle_ns);
            }
        }
        EXPECT_EQ(compared, weights.size() * 65536u) << cfg.what;
        EXPECT_EQ(differ, 0u) << cfg.what << ": " << first;
        if (cfg.capacity != 0) {
            EXPECT_GT(run.overflowed, 0u) << cfg.what << ": the small capacity should overflow";
        }
        std::printf("[cuda] %s, %s: %zu transitions compared with the CPU engine (%zu differ), %zu with the reference "
                    "(%zu differ); %zu acausal, %zu re-run on the CPU after overflow; %u events per warp in shared "
                    "memory; lane kernel's bit sets in shared memory: %d, lock-step: %d; kernel %.3f s, device %.3f s\n",
                    run.device.c_str(), cfg.what, compared, differ, checked_reference, differ_reference, run.acausal,
                    run.overflowed, run.near_events, run.lane_shared ? 1 : 0, run.lane_lockstep ? 1 : 0, run.kernel_s, run.total_s);
    }
}

}  // namespace
}  // namespace halo::timing
