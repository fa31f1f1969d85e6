#include "halo/timing/dynamic_sweep.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "halo/timing/dynamic_engine.hpp"
#include "halo/timing/energy.hpp"
#include "halo/timing/static_timing.hpp"
#include "halo/timing/ternary_timing.hpp"
#include "halo/timing/waveform_cuda_host.hpp"
#include "halo/timing/waveform_engine.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

namespace halo::timing {

namespace {

double finite_or_zero(float t) { return std::isfinite(t) ? static_cast<double>(t) : 0.0; }

int port_width(const netlist::Netlist& nl, const std::string& name) {
    const netlist::Port* p = nl.find_port(name);
    return p ? static_cast<int>(p->bits.size()) : 0;
}

void check_options(const netlist::Netlist& nl, const DynamicOptions& o) {
    if (o.exhaustive_max_bits < 0 || o.exhaustive_max_bits > 12)
        throw_bad_value("E3530", "exhaustive_max_bits", "exhaustive activation width out of range", "0..12",
                        std::to_string(o.exhaustive_max_bits), "2^(2 bits) transitions per weight are simulated");
    const int wb = port_width(nl, o.ports.weight);
    for (auto code : o.weight_codes)
        if (wb < 64 && (code >> wb) != 0)
            throw_bad_value("E3531", o.ports.weight, "weight code does not fit the weight port",
                            fmt::format("< 2^{}", wb), std::to_string(code), "");
}

bool data_wanted(const DynamicOptions& o) { return o.exhaustive_data || o.data_transitions > 0; }

}  // namespace

std::vector<Stimulus> data_stimuli(const DynamicOptions& o, const DynamicCircuit& circuit) {
    const std::uint64_t seed = stream_seed(o.seed, circuit.weight_code) + 1;
    if (o.exhaustive_data)
        return exhaustive_data_transitions(seed, circuit.activation_bits, circuit.accumulator_bits, o.distribution);
    return sample_data_transitions(o.data_transitions, seed, circuit.activation_bits, circuit.accumulator_bits, o.distribution);
}

void summarize_data(std::span<const EventSimResult> results, DynamicWeightResult& r) {
    if (results.empty()) return;
    std::vector<double> settle;
    settle.reserve(results.size());
    double energy_sum = 0, toggle_sum = 0;
    for (const auto& e : results) {
        settle.push_back(finite_or_zero(e.settle_ns));
        energy_sum += e.switching_energy_fj;
        toggle_sum += static_cast<double>(e.toggles);
    }
    std::sort(settle.begin(), settle.end());
    const std::size_t n = settle.size();
    r.data_delay_max_ns = settle.back();
    const std::size_t rank = static_cast<std::size_t>(std::ceil(0.999 * static_cast<double>(n)));
    r.data_delay_p999_ns = settle[std::max<std::size_t>(rank, 1) - 1];
    r.energy_fj = energy_sum / static_cast<double>(n);
    r.toggles_per_op = toggle_sum / static_cast<double>(n);
}

namespace {

// The sound bound of one weight (dynamic_delay_ns, worst_a0, worst_a1) and its gate count.
DynamicWeightResult bound_figures(const DynamicCircuit& circuit, const DynamicOptions& o, std::uint64_t weight_code) {
    DynamicWeightResult r;
    r.weight_code = weight_code;
    r.gates = circuit.gates.size();

    DynamicEngine engine(circuit);
    float bound = kNever;
    if (circuit.activation_bits <= o.exhaustive_max_bits) {
        auto worst = engine.exhaustive();
        bound = worst.settle_ns;
        r.worst_a0 = worst.a0;
        r.worst_a1 = worst.a1;
    } else {
        auto pairs = sample_activation_pairs(o.bound_samples, stream_seed(o.seed, weight_code), circuit.activation_bits);
        std::uint64_t a0[kLanes], a1[kLanes];
        float settle[kLanes];
        for (std::size_t base = 0; base < pairs.size(); base += kLanes) {
            std::size_t lanes = std::min<std::size_t>(kLanes, pairs.size() - base);
            for (std::size_t l = 0; l < lanes; ++l) {
                a0[l] = pairs[base + l].a0;
                a1[l] = pairs[base + l].a1;
            }
            engine.run_block(std::span(a0, lanes), std::span(a1, lanes), settle);
            for (std::size_t l = 0; l < lanes; ++l)
                if (settle[l] > bound) {
                    bound = settle[l];
                    r.worst_a0 = a0[l];
                    r.worst_a1 = a1[l];
                }
        }
    }
    r.dynamic_delay_ns = finite_or_zero(bound);
    return r;
}

}  // namespace

DynamicWeightResult dynamic_weight(const netlist::Netlist& nl, const DynamicDelays& ann, const DynamicOptions& o,
                                   std::uint64_t weight_code) {
    check_options(nl, o);
    const DynamicCircuit circuit = build_dynamic_circuit(nl, ann, o.ports, weight_code);
    DynamicWeightResult r = bound_figures(circuit, o, weight_code);

    if (data_wanted(o) && o.data_engine != DataEngine::cuda) {
        const EnergyModel energy = build_energy_model(circuit, nl, ann);
        const std::vector<Stimulus> stimuli = data_stimuli(o, circuit);
        std::vector<EventSimResult> results(stimuli.size());
        WaveformEngine fast(circuit, &energy);
        if (o.data_engine == DataEngine::fast && o.delay_mode == DelayMode::transport && fast.supported()) {
            fast.run(stimuli, results);
            r.acausal_transitions = fast.acausal_transitions();
        } else {
            EventSimulator sim(circuit, &energy);
            for (std::size_t i = 0; i < stimuli.size(); ++i) results[i] = sim.run(stimuli[i], o.delay_mode);
        }
        summarize_data(results, r);
    }
    return r;
}

DynamicResult dynamic_sweep(const netlist::Netlist& nl, const DelayAnnotation& ann, const DynamicOptions& o) {
    check_options(nl, o);
    std::vector<std::uint64_t> codes = o.weight_codes;
    if (codes.empty()) {
        const int wb = port_width(nl, o.ports.weight);
        if (wb > 16)
            throw_bad_value("E3532", o.ports.weight, "weight port too wide to sweep every code", "<= 16 bits",
                            std::to_string(wb), "list the weight codes to sweep");
        for (std::uint64_t c = 0; c < (std::uint64_t{1} << wb); ++c) codes.push_back(c);
    }
    DynamicResult result;
    result.weights.resize(codes.size());
    result.leakage_nw = leakage_power_nw(nl);
    const int ab = port_width(nl, o.ports.activation);
    result.bound_exhaustive = ab <= o.exhaustive_max_bits;
    result.bound_transitions_per_weight = result.bound_exhaustive ? (std::uint64_t{1} << (2 * ab)) : o.bound_samples;
    const bool data = data_wanted(o);
    result.data_exhaustive = data && o.exhaustive_data;
    result.data_transitions_per_weight = !data ? 0 : o.exhaustive_data ? (std::size_t{1} << (2 * ab)) : o.data_transitions;
    if (o.exhaustive_data && ab > 12)
        throw_bad_value("E3522", o.ports.activation, "activation too wide for every transition", "at most 12 bits",
                        std::to_string(ab), "sample transitions instead (a transition count)");
    if (data && o.data_engine == DataEngine::cuda && o.delay_mode != DelayMode::transport)
        throw_bad_value("E3543", "--device cuda", "the CUDA engine simulates transport delays only", "transport",
                        "inertial", "use the CPU for inertial delays");
    if (data && o.data_engine == DataEngine::cuda) {
        const std::string why = cuda_unavailable_reason();
        if (!why.empty())
            throw_bad_value("E3540", "--device cuda", "the CUDA path cannot run here", "a CUDA device and libhalo_cuda.so",
                            why, "use --device cpu");
    }
    result.data_engine = !data ? "" : o.data_engine == DataEngine::reference ? "reference event simulator"
                         : o.data_engine == DataEngine::cuda                ? "fast exact engine, CUDA"
                         : o.delay_mode == DelayMode::transport             ? "fast exact engine, CPU"
                                                                            : "reference event simulator (inertial)";
    result.distribution = o.distribution.describe();
    result.delay_mode = o.delay_mode == DelayMode::transport ? "transport" : "inertial";
    result.delay_source = o.delay_source == DelaySource::annotation ? "annotation" : "per-weight static pass";
    std::optional<StaticTimer> timer;
    std::optional<DynamicDelays> fixed;
    if (o.delay_source == DelaySource::per_weight_static) timer.emplace(nl, o.sta);
    else fixed = delays_from_annotation(ann);

    Progress progress(o.progress ? o.progress : ProgressSink([](const ProgressUpdate&) {}), "dynamic sweep", codes.size());
    if (o.data_engine != DataEngine::cuda || !data) {
        parallel_for(codes.size(), o.threads, [&](std::size_t i, unsigned) {
            if (timer) {
                const DynamicDelays d = delays_for_case(*timer, hold_port(nl, o.ports.weight, codes[i]));
                result.weights[i] = dynamic_weight(nl, d, o, codes[i]);
            } else {
                result.weights[i] = dynamic_weight(nl, *fixed, o, codes[i]);
            }
            progress.advance();
        });
    } else {
        // Every weight's data transitions in one device run; the sound bounds are computed on
        // the CPU meanwhile (circuits and transitions of every weight are held in host memory).
        struct Prepared {
            DynamicCircuit circuit;
            EnergyModel energy;
            std::vector<Stimulus> stimuli;
            std::vector<EventSimResult> results;
        };
        std::vector<Prepared> prep(codes.size());
        using Clock = std::chrono::steady_clock;
        const auto seconds_since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
        const auto t_prepare = Clock::now();
        parallel_for(codes.size(), o.threads, [&](std::size_t i, unsigned) {
            const DynamicDelays d = timer ? delays_for_case(*timer, hold_port(nl, o.ports.weight, codes[i])) : *fixed;
            Prepared& p = prep[i];
            p.circuit = build_dynamic_circuit(nl, d, o.ports, codes[i]);
            p.energy = build_energy_model(p.circuit, nl, d);
            p.stimuli = data_stimuli(o, p.circuit);
            p.results.resize(p.stimuli.size());
        });
        result.prepare_seconds = seconds_since(t_prepare);
        std::vector<WaveDeviceJob> jobs;
        for (auto& p : prep) jobs.push_back({&p.circuit, &p.energy, p.stimuli, p.results});
        WaveCudaRun run;
        std::exception_ptr device_error;
        const auto t_device = Clock::now();
        std::thread device([&] {
            try {
                run = run_waveform_cuda(jobs);
            } catch (...) {
                device_error = std::current_exception();
            }
            result.device_wall_seconds = seconds_since(t_device);
        });
        parallel_for(codes.size(), o.threads, [&](std::size_t i, unsigned) {
            result.weights[i] = bound_figures(prep[i].circuit, o, codes[i]);
        });
        result.bound_seconds = seconds_since(t_device);
        device.join();
        if (device_error) std::rethrow_exception(device_error);
        result.device_seconds = run.total_s;
        result.kernel_seconds = run.kernel_s;
        result.data_engine = "fast exact engine, CUDA (" + run.device + ")";
        result.data_overflowed = run.overflowed;
        result.data_acausal_transitions = run.acausal;
        for (std::size_t i = 0; i < prep.size(); ++i) {
            summarize_data(prep[i].results, result.weights[i]);
            progress.advance();
        }
    }
    progress.finish();
    for (const auto& w : result.weights) result.data_acausal_transitions += w.acausal_transitions;
    return result;
}

}  // namespace halo::timing
