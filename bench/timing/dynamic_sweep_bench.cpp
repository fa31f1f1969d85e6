// Dynamic timing on the osu018 INT8 MAC (y = acc + w * a, signed 8-bit w and a, 24-bit acc,
// synthesized here by Yosys + ABC): the exhaustive sound-bound sweep (256 weights x 65,536
// activation transitions), the event simulator's rate, and per-weight figures for a few weights.
// HALO_DYNAMIC_THREADS sets the sweep's threads (default 2); HALO_DYNAMIC_CSV, when set, names
// a CSV file that receives the per-weight sweep figures.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/timing/dynamic_engine.hpp"
#include "halo/timing/dynamic_sweep.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/timing/static_sweep.hpp"
#include "halo/timing/static_timing.hpp"
#include "halo/timing/waveform_cuda_host.hpp"
#include "halo/timing/waveform_engine.hpp"
#include "halo/timing/waveform_level.hpp"
#include "halo/timing/ternary_timing.hpp"
#include "halo/timing/transition_set.hpp"
#include "halo/util/parallel.hpp"

namespace halo::timing {
namespace {

constexpr const char* kLib = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

struct Int8Mac {
    std::unique_ptr<liberty::Library> lib;
    std::unique_ptr<netlist::Netlist> nl;
    Int8Mac() {
        // A given MAC instead: $HALO_WAVE_NETLIST (Yosys JSON, top $HALO_WAVE_TOP or "mac") on
        // $HALO_WAVE_LIBERTY, e.g. the built-in INT8 MAC synthesized by `halo characterize --mac int8`.
        if (const char* json = std::getenv("HALO_WAVE_NETLIST")) {
            const char* top = std::getenv("HALO_WAVE_TOP");
            lib = std::make_unique<liberty::Library>(liberty::read_liberty(std::getenv("HALO_WAVE_LIBERTY")));
            nl = std::make_unique<netlist::Netlist>(netlist::read_yosys_json(json, top ? top : "mac", *lib));
            return;
        }
        auto dir = std::filesystem::temp_directory_path() / ("halo_dynamic_bench_" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        std::ofstream(dir / "t.v") << "module t(input signed [7:0] w, input signed [7:0] a, input signed [23:0] acc, "
                                      "output signed [23:0] y);\n  assign y = acc + w * a;\nendmodule\n";
        std::string cmd = fmt::format(
            "cd '{}' && yosys -q -p \"read_verilog t.v; synth -top t -flatten; abc -liberty {}; opt_clean; write_json t.json\" "
            "> yosys.log 2>&1",
            dir.string(), kLib);
        if (std::system(cmd.c_str()) != 0) return;
        lib = std::make_unique<liberty::Library>(liberty::read_liberty(kLib));
        nl = std::make_unique<netlist::Netlist>(netlist::read_yosys_json(dir / "t.json", "t", *lib));
        std::filesystem::remove_all(dir);
    }
};

const Int8Mac& mac() {
    static Int8Mac m;
    return m;
}

unsigned sweep_threads() {
    const char* t = std::getenv("HALO_DYNAMIC_THREADS");
    return t ? static_cast<unsigned>(std::atoi(t)) : 2u;
}

void BM_DynamicBoundSweepInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    DynamicOptions o;
    o.data_transitions = static_cast<std::size_t>(state.range(0));
    o.threads = sweep_threads();
    DynamicResult r;
    for (auto _ : state) r = dynamic_sweep(*m.nl, {}, o);
    std::vector<double> sta = static_delay_sweep(*m.nl, "w", all_codes(8), StaOptions{});
    double max_bound = 0, max_static = 0, worst_ratio = 0, sum_ratio = 0;
    int above = 0;
    for (std::size_t i = 0; i < r.weights.size(); ++i) {
        const auto& w = r.weights[i];
        max_bound = std::max(max_bound, w.dynamic_delay_ns);
        max_static = std::max(max_static, sta[i]);
        if (w.dynamic_delay_ns > sta[i] + 1e-5) ++above;
        double ratio = sta[i] > 0 ? w.dynamic_delay_ns / sta[i] : 1.0;
        worst_ratio = std::max(worst_ratio, ratio);
        sum_ratio += ratio;
    }
    state.counters["weights"] = static_cast<double>(r.weights.size());
    state.counters["threads"] = o.threads;
    state.counters["max_bound_ns"] = max_bound;
    state.counters["max_static_ns"] = max_static;
    state.counters["mean_bound_over_static"] = sum_ratio / static_cast<double>(r.weights.size());
    state.counters["weights_above_static"] = above;
    if (const char* csv = std::getenv("HALO_DYNAMIC_CSV")) {
        std::ofstream out(csv);
        out << "weight_code,static_ns,dynamic_delay_ns,worst_a0,worst_a1,data_delay_max_ns,data_delay_p999_ns,energy_fj,"
               "toggles_per_op,gates\n";
        for (std::size_t i = 0; i < r.weights.size(); ++i) {
            const auto& w = r.weights[i];
            out << fmt::format("{},{:.4f},{:.4f},{},{},{:.4f},{:.4f},{:.2f},{:.1f},{}\n", w.weight_code, sta[i],
                               w.dynamic_delay_ns, w.worst_a0, w.worst_a1, w.data_delay_max_ns, w.data_delay_p999_ns,
                               w.energy_fj, w.toggles_per_op, w.gates);
        }
        out << fmt::format("# leakage_nw {:.3f}; data: {}; {} transitions per weight; delays: {}\n", r.leakage_nw,
                           r.distribution, r.data_transitions_per_weight, r.delay_source);
    }
}
BENCHMARK(BM_DynamicBoundSweepInt8)->Arg(0)->Arg(2000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

void BM_EventSimInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    StaticTimer timer(*m.nl, {});
    const std::uint64_t w = static_cast<std::uint64_t>(state.range(0));
    DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
    DynamicCircuit c = build_dynamic_circuit(*m.nl, d, {}, w);
    EnergyModel e = build_energy_model(c, *m.nl, d);
    EventSimulator sim(c, &e);
    auto stimuli = sample_data_transitions(4096, 1, 8, 24, DataDistribution{});
    std::size_t i = 0;
    std::uint64_t toggles = 0;
    for (auto _ : state) {
        toggles += sim.run(stimuli[i++ % stimuli.size()]).toggles;
    }
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
    state.counters["toggles_per_op"] = static_cast<double>(toggles) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_EventSimInt8)->Arg(1)->Arg(127);

// The fast exact engine on one weight's exhaustive data-dependent set (65,536 transitions:
// every activation pair, Gaussian partial sums), one core.
void BM_WaveformOneWeightInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    StaticTimer timer(*m.nl, {});
    const std::uint64_t w = static_cast<std::uint64_t>(state.range(0));
    DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
    DynamicCircuit c = build_dynamic_circuit(*m.nl, d, {}, w);
    EnergyModel e = build_energy_model(c, *m.nl, d);
    WaveformEngine engine(c, &e);
    auto stimuli = exhaustive_data_transitions(1, 8, 24, DataDistribution{});
    std::vector<EventSimResult> results(stimuli.size());
    for (auto _ : state) engine.run(stimuli, results);
    double toggles = 0;
    for (const auto& r : results) toggles += static_cast<double>(r.toggles);
    state.counters["toggles_per_op"] = toggles / static_cast<double>(results.size());
    state.counters["acausal"] = static_cast<double>(engine.acausal_transitions()) / static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * stimuli.size()));
}
BENCHMARK(BM_WaveformOneWeightInt8)->Arg(1)->Arg(127)->Arg(255)->Unit(benchmark::kMillisecond);

// The exhaustive data-dependent sweep: 256 weights x 65,536 transitions (every activation pair,
// Gaussian partial sums), settle time and energy, on the CPU engine (HALO_DYNAMIC_THREADS
// threads) or the CUDA engine (arg 1). The sound bound is computed too (it is part of the sweep).
void BM_DataSweepInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    const bool cuda = state.range(0) == 1;
    if (cuda && !cuda_unavailable_reason().empty()) return state.SkipWithError(cuda_unavailable_reason().c_str());
    DynamicOptions o;
    o.exhaustive_data = true;
    o.data_engine = cuda ? DataEngine::cuda : DataEngine::fast;
    o.threads = sweep_threads();
    DynamicResult r;
    for (auto _ : state) r = dynamic_sweep(*m.nl, {}, o);
    double energy = 0, settle = 0, toggles = 0;
    for (const auto& w : r.weights) {
        energy += w.energy_fj;
        settle = std::max(settle, w.data_delay_max_ns);
        toggles += w.toggles_per_op;
    }
    state.counters["weights"] = static_cast<double>(r.weights.size());
    state.counters["transitions_per_weight"] = static_cast<double>(r.data_transitions_per_weight);
    state.counters["mean_energy_fj"] = energy / static_cast<double>(r.weights.size());
    state.counters["mean_toggles"] = toggles / static_cast<double>(r.weights.size());
    state.counters["max_settle_ns"] = settle;
    state.counters["device_s"] = r.device_seconds;
    state.counters["kernel_s"] = r.kernel_seconds;
    state.counters["prepare_s"] = r.prepare_seconds;
    state.counters["device_wall_s"] = r.device_wall_seconds;
    state.counters["bound_s"] = r.bound_seconds;
    state.counters["overflowed"] = static_cast<double>(r.data_overflowed);
    state.counters["acausal"] = static_cast<double>(r.data_acausal_transitions);
    if (const char* csv = std::getenv("HALO_DYNAMIC_CSV")) {
        std::ofstream out(csv);
        out << "weight_code,data_delay_max_ns,data_delay_p999_ns,energy_fj,toggles_per_op\n";
        for (const auto& w : r.weights)
            out << fmt::format("{},{:.6f},{:.6f},{:.9g},{:.6f}\n", w.weight_code, w.data_delay_max_ns, w.data_delay_p999_ns,
                               w.energy_fj, w.toggles_per_op);
        out << "# " << r.data_engine << "\n";
    }
}
BENCHMARK(BM_DataSweepInt8)->Arg(0)->Arg(1)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// The CUDA kernel alone on every weight's exhaustive data-dependent set (256 x 65,536
// transitions prepared once, outside the timing), args = resident threads per multiprocessor, the
// kernel (0 level: one warp per transition; 1 lane: one thread per transition) and the weight step.
// Device time (copies, allocation, kernel) and kernel time as counters; the wall time includes
// the host's flattening and packing.
void BM_WaveCudaAllWeightsInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    if (!cuda_unavailable_reason().empty()) return state.SkipWithError(cuda_unavailable_reason().c_str());
    struct Job {
        DynamicCircuit circuit;
        EnergyModel energy;
        std::vector<Stimulus> stimuli;
        std::vector<EventSimResult> results;
    };
    // Third argument: every step-th weight only (a short kernel for a profiler's replays).
    const std::size_t step = state.range(2) > 0 ? static_cast<std::size_t>(state.range(2)) : 1;
    // Prepared once per weight, on first use (a profiler's run builds only the weights it runs).
    static std::vector<Job> jobs(256);
    static std::vector<char> ready(256, 0);
    std::vector<std::size_t> missing;
    for (std::size_t w = 0; w < jobs.size(); w += step)
        if (!ready[w]) missing.push_back(w);
    StaticTimer timer(*m.nl, {});
    parallel_for(missing.size(), sweep_threads(), [&](std::size_t i, unsigned) {
        const std::size_t w = missing[i];
        DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
        jobs[w].circuit = build_dynamic_circuit(*m.nl, d, {}, w);
        jobs[w].energy = build_energy_model(jobs[w].circuit, *m.nl, d);
        jobs[w].stimuli = exhaustive_data_transitions(stream_seed(1, w) + 1, 8, jobs[w].circuit.accumulator_bits, {});
        jobs[w].results.resize(jobs[w].stimuli.size());
        ready[w] = 1;
    });
    std::vector<WaveDeviceJob> device_jobs;
    for (std::size_t w = 0; w < jobs.size(); w += step) device_jobs.push_back({&jobs[w].circuit, &jobs[w].energy, jobs[w].stimuli, jobs[w].results});
    WaveCudaRun run;
    const auto kernel = state.range(1) == 0 ? WaveCudaKernel::level : WaveCudaKernel::lane;
    for (auto _ : state) run = run_waveform_cuda(device_jobs, 0, static_cast<std::uint32_t>(state.range(0)), kernel);
    double energy = 0;
    for (std::size_t w = 0; w < jobs.size(); w += step)
        for (const auto& r : jobs[w].results) energy += r.switching_energy_fj;
    state.counters["device_s"] = run.total_s;
    state.counters["kernel_s"] = run.kernel_s;
    state.counters["threads"] = static_cast<double>(run.threads);
    state.counters["overflowed"] = static_cast<double>(run.overflowed);
    state.counters["acausal"] = static_cast<double>(run.acausal);
    state.counters["weights"] = static_cast<double>(device_jobs.size());
    state.counters["mean_energy_fj"] = energy / (static_cast<double>(device_jobs.size()) * 65536.0);
    state.counters["near_events"] = run.near_events;
    state.counters["level_kernel"] = run.kernel == WaveCudaKernel::level ? 1 : 0;
    state.counters["lane_shared"] = run.lane_shared ? 1 : 0;
    state.counters["lane_lockstep"] = run.lane_lockstep ? 1 : 0;
}
BENCHMARK(BM_WaveCudaAllWeightsInt8)
    ->Args({512, 0, 1})
    ->Args({384, 0, 1})
    ->Args({768, 0, 1})
    ->Args({1024, 0, 1})
    ->Args({768, 1, 1})
    ->Args({384, 1, 1})
    ->Args({512, 1, 1})
    ->Args({640, 1, 1})
    ->Args({0, 1, 1})   // the lane kernel at the module's default thread count
    ->Args({0, 1, 16})  // the same over every 16th weight (16 weights): a profiler's run
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

// The level kernel's mapping measured on the CPU (simulate_wave_levelled's work counters) over
// 4,096 of a weight's exhaustive transitions: chunks of up to 32 gates per transition, how many
// hold a dirty gate, and the lanes' use: input events replayed over 32 x the longest lane's per
// chunk (1 = every lane busy for the whole chunk).
void BM_WaveLevelWorkInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    const auto w = static_cast<std::uint64_t>(state.range(0));
    StaticTimer timer(*m.nl, {});
    const DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
    const DynamicCircuit c = build_dynamic_circuit(*m.nl, d, {}, w);
    const EnergyModel energy = build_energy_model(c, *m.nl, d);
    auto stimuli = exhaustive_data_transitions(stream_seed(1, w) + 1, 8, c.accumulator_bits, {});
    std::vector<Stimulus> sample;
    for (std::size_t i = 0; i < stimuli.size(); i += 16) sample.push_back(stimuli[i]);
    const WaveCircuit flat = flatten_circuit(c, &energy);
    const WaveView v = flat.view();
    const WaveLevelCircuit lc = level_circuit(v);
    std::vector<WavePackedEvent> events(kWaveLevelMaxEvents);
    std::vector<std::uint32_t> range(v.slot_count), init(wave_slot_words(v)), written(wave_slot_words(v)), dirty(wave_position_words(v));
    WaveLevelScratch s{{events.data(), kWaveLevelMaxEvents, nullptr}, kWaveLevelMaxEvents, range.data(), init.data(), written.data(), dirty.data()};
    WaveLevelWork work;
    double toggles = 0;
    for (auto _ : state) {
        work = {};
        toggles = 0;
        for (const Stimulus& st : sample)
            toggles += simulate_wave_levelled(v, lc.view(), st.a0, st.a1, st.acc0, st.acc1, s, &work).toggles;
    }
    const double n = static_cast<double>(work.transitions);
    state.counters["levels"] = static_cast<double>(lc.level_begin.size() - 1);
    state.counters["gates"] = static_cast<double>(v.gate_count);
    state.counters["chunks"] = static_cast<double>(work.chunks) / n;
    state.counters["busy_chunks"] = static_cast<double>(work.busy_chunks) / n;
    state.counters["dirty_gates"] = static_cast<double>(work.dirty_gates) / n;
    state.counters["events_in"] = static_cast<double>(work.lane_events) / n;
    state.counters["lane_use"] = static_cast<double>(work.lane_events) / (32.0 * static_cast<double>(work.chunk_events));
    state.counters["toggles"] = toggles / n;
}
BENCHMARK(BM_WaveLevelWorkInt8)->Arg(1)->Arg(127)->Arg(255)->Iterations(1)->Unit(benchmark::kSecond);

void BM_BoundOneWeightInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    StaticTimer timer(*m.nl, {});
    const std::uint64_t w = static_cast<std::uint64_t>(state.range(0));
    DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
    DynamicCircuit c = build_dynamic_circuit(*m.nl, d, {}, w);
    DynamicEngine engine(c);
    float bound = 0;
    for (auto _ : state) bound = engine.exhaustive().settle_ns;
    state.counters["bound_ns"] = bound;
    state.counters["gates"] = static_cast<double>(engine.evaluated_gates());
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * 65536);
}
BENCHMARK(BM_BoundOneWeightInt8)->Arg(1)->Arg(127)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace halo::timing

namespace halo::timing {
namespace {

// Feasibility of a "timed bit-parallel" engine (issue #16): for one weight, the set of times at
// which each net CAN toggle (sums of arc delays along paths, every edge combination, exact
// float equality, as the event simulator adds them) bounds the work of an engine that evaluates
// every gate once per candidate time of its output for 64 transitions at once. Counters: the
// median / largest set per gate output, the gate outputs above 64 and 4,096 times, and
// `evals_per_transition` = sum over gate outputs of min(set, cap) / 64 against the event
// engine's `toggles_per_op`. Sets are capped at 2^16 times per net and edge (`capped`).
void BM_CandidateTimesInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    StaticTimer timer(*m.nl, {});
    const std::uint64_t w = static_cast<std::uint64_t>(state.range(0));
    DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
    DynamicCircuit c = build_dynamic_circuit(*m.nl, d, {}, w);
    constexpr std::size_t kCap = std::size_t{1} << 16;
    std::vector<std::size_t> sizes;
    std::size_t capped = 0;
    for (auto _ : state) {
        std::vector<std::array<std::vector<float>, 2>> times(c.slot_count);  // [slot][edge]
        for (Slot s = 0; s < static_cast<Slot>(c.activation_bits + c.accumulator_bits); ++s) times[s] = {{{0.0f}, {0.0f}}};
        sizes.clear();
        capped = 0;
        for (const CircuitGate& g : c.gates) {
            for (int eo = 0; eo < 2; ++eo) {
                std::vector<float> out;
                for (std::size_t j = 0; j < g.inputs.size(); ++j)
                    for (int ei = 0; ei < 2; ++ei)
                        for (float t : times[g.inputs[j]][ei]) out.push_back(t + g.delay_ns[j][eo][ei]);
                std::sort(out.begin(), out.end());
                out.erase(std::unique(out.begin(), out.end()), out.end());
                if (out.size() > kCap) {
                    out.resize(kCap);
                    ++capped;
                }
                times[g.output][eo] = std::move(out);
            }
            sizes.push_back(times[g.output][0].size() + times[g.output][1].size());
        }
    }
    std::vector<std::size_t> sorted = sizes;
    std::sort(sorted.begin(), sorted.end());
    double total = 0;
    std::size_t above64 = 0, above4096 = 0;
    for (std::size_t s : sizes) {
        total += static_cast<double>(s);
        above64 += s > 64;
        above4096 += s > 4096;
    }
    state.counters["gates"] = static_cast<double>(sizes.size());
    state.counters["median"] = sorted.empty() ? 0.0 : static_cast<double>(sorted[sorted.size() / 2]);
    state.counters["largest"] = sorted.empty() ? 0.0 : static_cast<double>(sorted.back());
    state.counters["above64"] = static_cast<double>(above64);
    state.counters["above4096"] = static_cast<double>(above4096);
    state.counters["capped"] = static_cast<double>(capped);
    state.counters["evals_per_transition"] = total / 64.0;
}
BENCHMARK(BM_CandidateTimesInt8)->Arg(1)->Arg(127)->Arg(255)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace halo::timing

namespace halo::timing {
namespace {

// An event store that counts how deep the engine's order comparisons read (waveform_lane.hpp's
// wave_note_tie / wave_note_acausal hooks), for BM_WaveWorkByConeInt8.
struct TieCounts {
    std::uint64_t ties = 0;       // comparisons of equal-time events that read their causes
    int deepest = -1;             // the deepest such step in this transition (-1: none)
    std::uint64_t acausal = 0;    // comparisons through acausal chains' leaders
    std::uint64_t chain_reads = 0;  // the events those comparisons' chain walks read
};
struct TracingEvents {
    WaveEvent* p = nullptr;
    TieCounts* counts = nullptr;
    WaveEvent& operator[](std::size_t i) const { return p[i]; }
};
inline void wave_put(const TracingEvents& ev, std::uint32_t i, const WaveEvent& e) { ev.p[i] = e; }
inline bool wave_cause_rose(const TracingEvents& ev, const WaveEvent& x) { return wave_cause_rose(ev.p, x); }
inline void wave_note_tie(const TracingEvents& ev, int depth) {
    ++ev.counts->ties;
    ev.counts->deepest = std::max(ev.counts->deepest, depth);
}
inline void wave_note_acausal(const TracingEvents& ev, std::uint32_t a, std::uint32_t b) {
    ++ev.counts->acausal;
    for (std::uint32_t x : {a, b})  // wave_leaders walks each chain to its primary input
        for (std::uint32_t y = x; y != kPrimaryCause; y = ev.p[y].cause) ++ev.counts->chain_reads;
}

// Where the work of the exhaustive data-dependent sweep is, for one weight (arg): every
// activation pair (65,536 transitions, Gaussian partial sums) through the fast exact engine's
// lane code with a scratch of its own, so that each gate's output event count per transition can
// be read. Counters: gate-output toggles per transition; the share of them in gates whose fan-in
// cone holds accumulator bits (those differ in every transition, the partial sums being drawn per
// transition); and `memo_share`, the toggles left if each gate's waveform were computed once per
// distinct value of its cone's input bits before and after (a gate's waveform is a function of
// them), i.e. the work an exact per-gate memo could not avoid.
// `warp_*`: how evenly a GPU warp's 32 lanes share the lane kernel's work (issue #16), modelled
// here on the CPU: a lane visits its dirty gates in ascending index and the warp runs step k for as
// long as its slowest lane's k-th gate takes (work of a visit = 1 + the input events it replays +
// the output events it writes), so efficiency = all lanes' work / (32 x sum over k of the maximum).
// Three assignments of transitions to lanes: as the kernel gets them (a0-major, 32 consecutive),
// sorted by the primary bits that change (a cheap key the host could sort by), and sorted by the
// measured work itself (the best a sort by total work can do); and `warp_eff_gate_lockstep`, lanes
// that walk the gates together in index order (as given, a0-major).
// `events_per_op` / `live_events_peak_per_op` (issue #16, session 19): a lane's scratch keeps every
// event of the transition (the kernel's working set, strided in global memory); if a slot's events
// were freed once the last gate reading it had been visited (gates in index order; a primary
// output's events are used at its own visit only), the scratch would need only the peak of the
// live events: mean over transitions of the peak, and `live_events_peak_max` the worst.
// `tie_*` (session 20): the order comparisons that read beyond the two events compared, which a
// scratch that frees dead events could not answer without keeping ancestors: `tie_transitions`
// the share of transitions with an equal-time comparison through the causes, `tie_depth1_transitions`
// / `tie_depth2_transitions` those that went on to the causes' causes / one further, `tie_depth_max`
// the deepest step seen, `ties_per_op` such comparisons per transition; `acausal_order_transitions`
// the share with a comparison through acausal chains' leaders (which read whole cause chains),
// `acausal_orders_per_op` such comparisons per transition and `acausal_chain_reads_per_op` the
// events the whole-chain walks read (this store has no up-links, so these are the walks the
// engines made before session 20; at least, wave_leaders also compares keys on the way).
// `retained_events_peak_*`: the live-event peak again, where an event is also kept while a live
// event's leaders hold it (the up-links' targets, which order comparisons of acausal events read;
// the rare equal-time comparisons through causes, `tie_*`, are not counted).
void BM_WaveWorkByConeInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    StaticTimer timer(*m.nl, {});
    const std::uint64_t w = static_cast<std::uint64_t>(state.range(0));
    DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
    DynamicCircuit c = build_dynamic_circuit(*m.nl, d, {}, w);
    EnergyModel e = build_energy_model(c, *m.nl, d);
    const WaveCircuit flat = flatten_circuit(c, &e);
    const WaveView view = flat.view();
    const auto stimuli = exhaustive_data_transitions(1, 8, 24, DataDistribution{});
    const std::size_t n = stimuli.size(), gates = flat.gates.size();
    const int na = c.activation_bits;
    // Cone of each slot over the primary bits (activation bit i = bit i, accumulator bit k = bit na + k).
    std::vector<std::uint64_t> cone(flat.slot_count, 0);
    for (int p = 0; p < na + c.accumulator_bits; ++p) cone[static_cast<std::size_t>(p)] = std::uint64_t{1} << p;
    for (const WaveGate& g : flat.gates)
        for (std::uint32_t j = 0; j < g.input_count; ++j) cone[g.output] |= cone[g.inputs[j]];
    std::vector<std::uint16_t> toggles(n * gates, 0);
    std::vector<std::vector<std::uint32_t>> visit_work(n);  // per transition, per visited gate in ascending index
    std::vector<std::uint16_t> gate_work(n * gates, 0);     // the same per (transition, gate); 0 = not visited
    // Last gate (index) reading each slot; -1: read by none.
    std::vector<std::int64_t> last_reader(flat.slot_count, -1);
    for (std::size_t g = 0; g < gates; ++g)
        for (std::uint32_t j = 0; j < flat.gates[g].input_count; ++j)
            last_reader[flat.gates[g].inputs[j]] = std::max<std::int64_t>(last_reader[flat.gates[g].inputs[j]], static_cast<std::int64_t>(g));
    std::vector<std::vector<std::uint32_t>> freed_at(gates);  // slots whose last reader is gate g
    for (std::uint32_t slot = 0; slot < flat.slot_count; ++slot)
        if (last_reader[slot] >= 0) freed_at[static_cast<std::size_t>(last_reader[slot])].push_back(slot);
    double events_sum = 0, live_peak_sum = 0, live_peak_max = 0;
    double ties_sum = 0, tie_transitions[3] = {0, 0, 0}, acausal_order_transitions = 0;
    double acausal_orders_sum = 0, chain_reads_sum = 0, retained_peak_sum = 0, retained_peak_max = 0;
    std::vector<std::int64_t> retain, held;
    int tie_depth_max = -1;
    std::vector<WaveEvent> events(1 << 16);
    std::vector<WaveRange> range(flat.slot_count, WaveRange{0, 0, 0, 0});
    std::vector<std::uint64_t> dirty((gates + 63) / 64, 0);
    for (auto _ : state) {
        for (std::size_t t = 0; t < n; ++t) {
            const Stimulus& st = stimuli[t];
            const std::vector<std::uint8_t> init = evaluate_circuit(c, st.a0, st.acc0);
            TieCounts tc;
            WaveScratchOf<TracingEvents, WaveRange*, std::uint64_t*> s{TracingEvents{events.data(), &tc},
                                                                      static_cast<std::uint32_t>(events.size()), range.data(),
                                                                      dirty.data(), static_cast<std::uint32_t>(t + 1)};
            const WaveLaneResult r =
                simulate_wave_lane(view, st.a1, st.acc1, [&](std::uint32_t slot) { return init[slot]; }, s);
            if (r.overflow) return state.SkipWithError("scratch overflow");
            auto events_of = [&](std::uint32_t slot) { return range[slot].stamp == t + 1 ? range[slot].end - range[slot].begin : 0u; };
            visit_work[t].clear();
            double live = 0, peak = 0;
            for (int p = 0; p < na + c.accumulator_bits; ++p) live += events_of(static_cast<std::uint32_t>(p));
            peak = live;
            for (std::size_t g = 0; g < gates; ++g) {
                const double produced = events_of(flat.gates[g].output);
                peak = std::max(peak, live + produced);  // inputs and output held at the visit
                if (last_reader[flat.gates[g].output] >= 0) live += produced;  // else used at the visit only
                for (std::uint32_t slot : freed_at[g]) live -= events_of(slot);
            }
            events_sum += r.toggles, live_peak_sum += peak, live_peak_max = std::max(live_peak_max, peak);
            {  // The same with the up-links' needs: an event is kept while any event whose leaders hold it is.
                retain.assign(r.toggles, 0);
                held.assign(gates + 1, 0);
                auto create_at = [&](std::uint32_t x) {
                    return events[x].cause == kPrimaryCause ? std::int64_t{0} : static_cast<std::int64_t>(events[x].source);
                };
                for (std::uint32_t x = 0; x < r.toggles; ++x) {
                    const std::uint32_t slot = events[x].cause == kPrimaryCause ? events[x].source : flat.gates[events[x].source].output;
                    retain[x] = std::max(create_at(x), last_reader[slot]);
                }
                std::uint32_t leaders[kWaveMaxChain];
                for (std::uint32_t x = r.toggles; x-- > 0;) {  // an up-link points to an earlier event
                    if (events[x].flags & kCausal) continue;
                    if (wave_leaders(events.data(), x, leaders) > 1) retain[leaders[1]] = std::max(retain[leaders[1]], retain[x]);
                }
                for (std::uint32_t x = 0; x < r.toggles; ++x) {
                    ++held[static_cast<std::size_t>(create_at(x))];
                    --held[static_cast<std::size_t>(retain[x]) + 1];
                }
                double at = 0, top = 0;
                for (std::size_t g = 0; g < gates; ++g) top = std::max(top, at += held[g]);
                retained_peak_sum += top, retained_peak_max = std::max(retained_peak_max, top);
            }
            ties_sum += static_cast<double>(tc.ties);
            tie_transitions[0] += tc.deepest >= 0, tie_transitions[1] += tc.deepest >= 1, tie_transitions[2] += tc.deepest >= 2;
            tie_depth_max = std::max(tie_depth_max, tc.deepest);
            acausal_order_transitions += tc.acausal > 0;
            acausal_orders_sum += static_cast<double>(tc.acausal), chain_reads_sum += static_cast<double>(tc.chain_reads);
            for (std::size_t g = 0; g < gates; ++g) {
                const WaveGate& wg = flat.gates[g];
                if (range[wg.output].stamp != t + 1) continue;  // not visited
                toggles[t * gates + g] = static_cast<std::uint16_t>(events_of(wg.output));
                std::uint32_t work = 1 + events_of(wg.output);
                for (std::uint32_t j = 0; j < wg.input_count; ++j) work += events_of(wg.inputs[j]);
                visit_work[t].push_back(work);
                gate_work[t * gates + g] = static_cast<std::uint16_t>(std::min<std::uint32_t>(work, 65535));
            }
        }
    }
    double total = 0, with_acc = 0, memo = 0, act_only_gates = 0;
    const std::uint64_t acc_mask = ~((std::uint64_t{1} << na) - 1);
    std::vector<std::pair<std::uint64_t, std::uint16_t>> keyed(n);
    for (std::size_t g = 0; g < gates; ++g) {
        const std::uint64_t mask = cone[flat.gates[g].output];
        act_only_gates += (mask & acc_mask) == 0;
        for (std::size_t t = 0; t < n; ++t) {
            const Stimulus& st = stimuli[t];
            const std::uint64_t x0 = st.a0 | (st.acc0 << na), x1 = st.a1 | (st.acc1 << na);
            keyed[t] = {((x0 & mask) << 32) | (x1 & mask), toggles[t * gates + g]};
            total += toggles[t * gates + g];
            if (mask & acc_mask) with_acc += toggles[t * gates + g];
        }
        std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t t = 0; t < n; ++t)
            if (t == 0 || keyed[t].first != keyed[t - 1].first) memo += keyed[t].second;
    }
    auto warp_efficiency = [&](const std::vector<std::size_t>& order) {
        double all = 0, warp_steps = 0;
        for (std::size_t w0 = 0; w0 + 32 <= n; w0 += 32) {
            std::size_t steps = 0;
            for (std::size_t l = 0; l < 32; ++l) steps = std::max(steps, visit_work[order[w0 + l]].size());
            for (std::size_t k = 0; k < steps; ++k) {
                std::uint32_t slowest = 0;
                for (std::size_t l = 0; l < 32; ++l) {
                    const auto& v = visit_work[order[w0 + l]];
                    if (k < v.size()) slowest = std::max(slowest, v[k]), all += v[k];
                }
                warp_steps += slowest;
            }
        }
        return all / (32.0 * warp_steps);
    };
    std::vector<std::size_t> order(n);
    for (std::size_t t = 0; t < n; ++t) order[t] = t;
    state.counters["warp_eff_as_given"] = warp_efficiency(order);
    auto changed_bits = [&](std::size_t t) {
        const Stimulus& st = stimuli[t];
        return __builtin_popcountll(st.a0 ^ st.a1) + __builtin_popcountll(st.acc0 ^ st.acc1);
    };
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return changed_bits(a) < changed_bits(b); });
    state.counters["warp_eff_by_changed_bits"] = warp_efficiency(order);
    std::vector<double> total_work(n, 0);
    for (std::size_t t = 0; t < n; ++t)
        for (std::uint32_t x : visit_work[t]) total_work[t] += x;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return total_work[a] < total_work[b]; });
    state.counters["warp_eff_by_work"] = warp_efficiency(order);
    // Lock-step by gate (not built): the lanes walk the gates in index order together, each doing
    // gate g only where it is dirty, so a warp step pays the slowest lane's work at that same gate.
    double all = 0, warp_steps = 0;
    for (std::size_t w0 = 0; w0 + 32 <= n; w0 += 32)
        for (std::size_t g = 0; g < gates; ++g) {
            std::uint16_t slowest = 0;
            for (std::size_t l = 0; l < 32; ++l) {
                const std::uint16_t x = gate_work[(w0 + l) * gates + g];
                slowest = std::max(slowest, x), all += x;
            }
            warp_steps += slowest;
        }
    state.counters["warp_eff_gate_lockstep"] = all / (32.0 * warp_steps);
    // The level kernel's mapping (one warp, 32 lanes, walks the logic levels; a chunk of lanes
    // costs its slowest lane's work): `level_use_positions`, chunks of 32 consecutive gate
    // positions of a level whether dirty or not (the kernel as built, one transition per warp);
    // `level_use_packed_kN`, the dirty gates of a level packed into the lanes, from N transitions
    // that walk the levels together (not built; `_k8_sorted`: 8, each level's gates sorted by
    // work before they are cut into chunks); `level_chunks_*` the chunks per transition.
    {
        std::vector<std::uint32_t> level_of_slot(flat.slot_count, 0), level(gates, 0);
        std::uint32_t levels = 0;
        for (std::size_t g = 0; g < gates; ++g) {
            std::uint32_t lv = 0;
            for (std::uint32_t j = 0; j < flat.gates[g].input_count; ++j) lv = std::max(lv, level_of_slot[flat.gates[g].inputs[j]]);
            level[g] = lv + 1;
            level_of_slot[flat.gates[g].output] = lv + 1;
            levels = std::max(levels, lv + 1);
        }
        std::vector<std::vector<std::uint32_t>> by_level(levels + 1);  // gate positions per level
        for (std::size_t g = 0; g < gates; ++g) by_level[level[g]].push_back(static_cast<std::uint32_t>(g));
        double pos_steps = 0, pos_chunks = 0;
        for (std::size_t t = 0; t < n; ++t)
            for (const auto& lv : by_level)
                for (std::size_t b = 0; b < lv.size(); b += 32) {
                    std::uint16_t slowest = 0;
                    for (std::size_t k = b; k < std::min(lv.size(), b + 32); ++k) slowest = std::max(slowest, gate_work[t * gates + lv[k]]);
                    pos_steps += slowest, pos_chunks += 1;
                }
        state.counters["level_use_positions"] = all / (32.0 * pos_steps);
        state.counters["level_chunks_positions"] = pos_chunks / static_cast<double>(n);
        for (const std::size_t k : {1, 2, 4, 8, 108}) {  // 108: 8, the gates of a level sorted by work
            const bool sorted = k > 100;
            const std::size_t per_warp = sorted ? k - 100 : k;
            double steps = 0, chunks = 0, work_sum = 0;
            std::vector<std::uint16_t> lanes;
            for (std::size_t w0 = 0; w0 + per_warp <= n; w0 += per_warp)
                for (const auto& lv : by_level) {
                    lanes.clear();
                    for (std::size_t t = w0; t < w0 + per_warp; ++t)
                        for (std::uint32_t g : lv)
                            if (gate_work[t * gates + g] > 0) lanes.push_back(gate_work[t * gates + g]);
                    if (sorted) std::sort(lanes.begin(), lanes.end());
                    for (std::size_t b = 0; b < lanes.size(); b += 32) {
                        std::uint16_t slowest = 0;
                        for (std::size_t i = b; i < std::min(lanes.size(), b + 32); ++i) slowest = std::max(slowest, lanes[i]), work_sum += lanes[i];
                        steps += slowest, chunks += 1;
                    }
                }
            const std::string name = sorted ? std::to_string(per_warp) + "_sorted" : std::to_string(k);
            state.counters["level_use_packed_k" + name] = work_sum / (32.0 * steps);
            state.counters["level_chunks_packed_k" + name] = chunks / static_cast<double>(n);
        }
    }
    state.counters["gates"] = static_cast<double>(gates);
    state.counters["activation_only_gates"] = act_only_gates;
    state.counters["gate_toggles_per_op"] = total / static_cast<double>(n);
    state.counters["acc_cone_share"] = with_acc / total;
    state.counters["memo_share"] = memo / total;
    const double runs = static_cast<double>(n) * static_cast<double>(state.iterations());
    state.counters["events_per_op"] = events_sum / runs;
    state.counters["live_events_peak_per_op"] = live_peak_sum / runs;
    state.counters["live_events_peak_max"] = live_peak_max;
    state.counters["ties_per_op"] = ties_sum / runs;
    state.counters["tie_transitions"] = tie_transitions[0] / runs;
    state.counters["tie_depth1_transitions"] = tie_transitions[1] / runs;
    state.counters["tie_depth2_transitions"] = tie_transitions[2] / runs;
    state.counters["tie_depth_max"] = tie_depth_max;
    state.counters["acausal_order_transitions"] = acausal_order_transitions / runs;
    state.counters["acausal_orders_per_op"] = acausal_orders_sum / runs;
    state.counters["retained_events_peak_per_op"] = retained_peak_sum / runs;
    state.counters["retained_events_peak_max"] = retained_peak_max;
    state.counters["acausal_chain_reads_per_op"] = chain_reads_sum / runs;
}
BENCHMARK(BM_WaveWorkByConeInt8)->Arg(1)->Arg(127)->Arg(255)->Iterations(1)->Unit(benchmark::kSecond);

// Gate-output and input toggles per transition for every weight (1,024 sampled activation pairs
// per weight, Gaussian partial sums, the fast exact engine): the total work of the exhaustive
// sweep is 65,536 x the sum over weights; dividing a time budget by it gives the time per toggle
// an engine would need.
void BM_WaveTogglesAllWeightsInt8(benchmark::State& state) {
    const auto& m = mac();
    if (!m.nl) return state.SkipWithError("yosys or osu018 missing");
    StaticTimer timer(*m.nl, {});
    double toggles = 0, transitions = 0, lo = 1e300, hi = 0;
    for (auto _ : state) {
        for (std::uint64_t w = 0; w < 256; ++w) {
            DynamicDelays d = delays_for_case(timer, hold_port(*m.nl, "w", w));
            DynamicCircuit c = build_dynamic_circuit(*m.nl, d, {}, w);
            WaveformEngine engine(c, nullptr);
            auto stimuli = sample_data_transitions(1024, stream_seed(1, w), 8, 24, DataDistribution{});
            std::vector<EventSimResult> results(stimuli.size());
            engine.run(stimuli, results);
            double sum = 0;
            for (const auto& r : results) sum += static_cast<double>(r.toggles);
            toggles += sum;
            transitions += static_cast<double>(results.size());
            lo = std::min(lo, sum / static_cast<double>(results.size()));
            hi = std::max(hi, sum / static_cast<double>(results.size()));
        }
    }
    state.counters["toggles_per_op"] = toggles / transitions;
    state.counters["min_weight_toggles_per_op"] = lo;
    state.counters["max_weight_toggles_per_op"] = hi;
    state.counters["exhaustive_sweep_toggles"] = toggles / transitions * 256.0 * 65536.0;
}
BENCHMARK(BM_WaveTogglesAllWeightsInt8)->Iterations(1)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace halo::timing
