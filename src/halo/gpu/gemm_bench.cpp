#include "halo/gpu/gemm_bench.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <thread>

#include "halo/gpu/nvml_probe.hpp"
#include "halo/gpu/value_sets.hpp"

namespace halo::gpu {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Polls SM clock and power on its own thread while a loop runs.
class Sampler {
public:
    Sampler(const NvmlProbe& probe, int interval_ms) : probe_(probe), interval_ms_(interval_ms) {
        thread_ = std::thread([this] {
            while (!stop_.load()) {
                NvmlSample s = probe_.sample();
                clock_sum_ += s.sm_clock_mhz;
                power_sum_ += s.power_mw / 1000.0;
                ++count_;
                std::this_thread::sleep_for(std::chrono::milliseconds(interval_ms_));
            }
        });
    }
    ~Sampler() { stop(); }
    void stop() {
        if (thread_.joinable()) {
            stop_ = true;
            thread_.join();
        }
    }
    double mean_clock_mhz() const { return count_ ? clock_sum_ / count_ : 0; }
    double mean_power_w() const { return count_ ? power_sum_ / count_ : 0; }

private:
    const NvmlProbe& probe_;
    int interval_ms_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    double clock_sum_ = 0, power_sum_ = 0;
    long count_ = 0;
};

// Runs GEMMs in batches until `seconds` have passed; returns the GEMM count.
std::int64_t run_for(LtGemm& gemm, double seconds, int batch) {
    auto t0 = Clock::now();
    std::int64_t done = 0;
    while (seconds_since(t0) < seconds) {
        gemm.enqueue(batch);
        gemm.synchronize();
        done += batch;
    }
    return done;
}

BenchRep measure(LtGemm& gemm, const NvmlProbe& probe, const BenchOptions& options) {
    // A batch of GEMMs long enough (~20 ms) that host synchronisation is negligible.
    auto t0 = Clock::now();
    gemm.enqueue(1);
    gemm.synchronize();
    double one_s = std::max(seconds_since(t0), 1e-6);
    int batch = static_cast<int>(std::clamp(0.02 / one_s, 1.0, 10000.0));
    run_for(gemm, options.warmup_s, batch);

    BenchRep rep;
    NvmlSample before = probe.sample();
    Sampler sampler(probe, options.sample_interval_ms);
    auto start = Clock::now();
    rep.gemms = run_for(gemm, options.measure_s, batch);
    rep.seconds = seconds_since(start);
    sampler.stop();
    NvmlSample after = probe.sample();
    rep.tops = gemm.shape().ops() * static_cast<double>(rep.gemms) / rep.seconds / 1e12;
    rep.joules_per_gemm = static_cast<double>(after.energy_mj - before.energy_mj) / 1000.0 / static_cast<double>(rep.gemms);
    rep.mean_sm_mhz = sampler.mean_clock_mhz();
    rep.mean_power_w = sampler.mean_power_w();
    return rep;
}

}  // namespace

EnergyGrowth measure_energy_growth(LtGemm& gemm, const NvmlProbe& probe, double warmup_s, double window_s) {
    auto t0 = Clock::now();
    gemm.enqueue(1);
    gemm.synchronize();
    const int batch = static_cast<int>(std::clamp(0.02 / std::max(seconds_since(t0), 1e-6), 1.0, 10000.0));
    run_for(gemm, warmup_s, batch);
    // Time per GEMM on the warm card.
    t0 = Clock::now();
    const std::int64_t paced = run_for(gemm, std::max(0.25 * warmup_s, 0.1), batch);
    const double per_gemm_s = seconds_since(t0) / static_cast<double>(std::max<std::int64_t>(paced, 1));
    EnergyGrowth out;
    out.gemms = std::max<std::int64_t>(1, static_cast<std::int64_t>(window_s / per_gemm_s));
    const auto joules = [&](std::int64_t n) {
        const NvmlSample before = probe.sample();
        for (std::int64_t done = 0; done < n; done += batch) gemm.enqueue(static_cast<int>(std::min<std::int64_t>(batch, n - done)));
        gemm.synchronize();
        return static_cast<double>(probe.sample().energy_mj - before.energy_mj) / 1000.0;
    };
    out.joules_n = joules(out.gemms);
    out.joules_2n = joules(2 * out.gemms);
    return out;
}

Spread spread_of(std::vector<double> v) {
    Spread s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    s.min = v.front();
    s.max = v.back();
    size_t n = v.size();
    s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
    return s;
}

DeviceInfo device_info() {
    NvmlProbe probe;
    return {probe.device_name(), probe.driver_version(), probe.power_limit_mw() / 1000.0};
}

std::vector<CaseResult> run_gemm_bench(const std::vector<BenchCase>& cases, const BenchOptions& options,
                                       const ProgressSink& progress_sink) {
    NvmlProbe probe;
    std::vector<CaseResult> results(cases.size());
    for (size_t i = 0; i < cases.size(); ++i) results[i].bench_case = cases[i];
    Progress progress(progress_sink, "gpu-bench", cases.size() * static_cast<size_t>(options.repetitions));
    // Host operands are generated once per case (Student-t draws for 8192^2 weights take
    // seconds) and kept across repetitions while they fit in a memory budget.
    constexpr size_t kCacheBudgetBytes = size_t{4} << 30;
    size_t cached_bytes = 0;
    std::vector<std::vector<std::int8_t>> weight_cache(cases.size());
    std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::int8_t>> activation_cache;
    for (int rep = 0; rep < options.repetitions; ++rep) {
        for (size_t i = 0; i < cases.size(); ++i) {
            const BenchCase& c = cases[i];
            LtGemm gemm(c.kind, c.shape);
            // The same seed for every case: every weight set meets the same activations.
            auto& acts = activation_cache[{c.shape.m, c.shape.k}];
            if (acts.empty()) acts = make_activations(c.shape.m, c.shape.k, options.activation_sigma, options.seed);
            gemm.upload_activations(acts);
            if (!weight_cache[i].empty()) {
                gemm.upload_weights(weight_cache[i]);
            } else {
                auto w = make_weights(c.weight_spec, c.shape.n, c.shape.k, options.seed + 17);
                gemm.upload_weights(w);
                if (options.repetitions > 1 && cached_bytes + w.size() <= kCacheBudgetBytes) {
                    cached_bytes += w.size();
                    weight_cache[i] = std::move(w);
                }
            }
            results[i].reps.push_back(measure(gemm, probe, options));
            progress.advance();
        }
    }
    for (auto& r : results) {
        std::vector<double> tops, joules, mhz, watts;
        for (const auto& rep : r.reps) {
            tops.push_back(rep.tops);
            joules.push_back(rep.joules_per_gemm);
            mhz.push_back(rep.mean_sm_mhz);
            watts.push_back(rep.mean_power_w);
        }
        r.tops = spread_of(tops);
        r.joules_per_gemm = spread_of(joules);
        r.sm_mhz = spread_of(mhz);
        r.power_w = spread_of(watts);
    }
    return results;
}

}  // namespace halo::gpu
