// Timed GEMM loops with NVML energy, clock and power readings. Each case runs for a fixed
// wall time after a warm-up; repetitions are interleaved across cases (rep 1 of every case,
// then rep 2, ...) so slow drifts of temperature or clocks spread evenly over the cases.
// Energy per GEMM = (NVML total-energy counter after - before) / GEMMs completed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/gpu/cublaslt_gemm.hpp"
#include "halo/util/progress.hpp"

namespace halo::gpu {

struct BenchCase {
    std::string label;        // e.g. "ffn_up rtn8"
    GemmKind kind = GemmKind::int8;
    GemmShape shape;
    std::string weight_spec;  // a value_sets spec
};

struct BenchOptions {
    double warmup_s = 0.5;
    double measure_s = 2.0;
    int repetitions = 5;
    double activation_sigma = 32.0;  // activations ~ round(N(0, sigma)) clipped to [-127, 127]
    std::uint64_t seed = 1;
    int sample_interval_ms = 10;
};

struct BenchRep {
    double seconds = 0;
    std::int64_t gemms = 0;
    double tops = 0;        // 2 M N K gemms / seconds / 1e12
    double joules_per_gemm = 0;
    double mean_sm_mhz = 0;
    double mean_power_w = 0;
};

struct Spread {
    double median = 0, min = 0, max = 0;
};

struct CaseResult {
    BenchCase bench_case;
    std::vector<BenchRep> reps;
    Spread tops, joules_per_gemm, sm_mhz, power_w;
};

struct DeviceInfo {
    std::string name;
    std::string driver;
    double power_limit_w = 0;
};

DeviceInfo device_info();

class NvmlProbe;

// The energy-grows-with-work check of test_gpu and `halo gpu-bench --self-test`. A cold card
// ramps its clocks during the first measurement (200 GEMMs read 79 J, 400 read 295 J on the
// H200), and NVML's energy counter advances in steps of tens of ms: so the check first runs
// GEMMs for `warmup_s`, then sizes n so one run of n GEMMs lasts ~`window_s`, and measures n
// and then 2n GEMMs. Energy should double: the caller checks 1.5 < joules_2n / joules_n < 2.5.
struct EnergyGrowth {
    std::int64_t gemms = 0;  // n
    double joules_n = 0, joules_2n = 0;
    bool grows_linearly() const { return joules_n > 0 && joules_2n > 1.5 * joules_n && joules_2n < 2.5 * joules_n; }
};
EnergyGrowth measure_energy_growth(LtGemm& gemm, const NvmlProbe& probe, double warmup_s = 2.0, double window_s = 1.0);

std::vector<CaseResult> run_gemm_bench(const std::vector<BenchCase>& cases, const BenchOptions& options,
                                       const ProgressSink& progress);

Spread spread_of(std::vector<double> values);

}  // namespace halo::gpu
