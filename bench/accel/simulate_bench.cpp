// Whole Llama-2-7B prefill (L = 2048) on a 128x128 weight-stationary array, with per-tile DVFS
// levels (3 levels, pseudo-random per tile) and the uniform baseline, on one core.
#include <benchmark/benchmark.h>

#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"

namespace {

void BM_Llama7bPrefill(benchmark::State& state) {
    using namespace halo::accel;
    auto work = transformer_workload(builtin_model("llama-2-7b"), Phase{});
    SystolicOptions o;
    unsigned x = 1;
    for (auto& it : work)
        if (it.has_weights) {
            TileLevels t = uniform_tile_levels(it.gemm.K, it.gemm.N, 128, 128, 0);
            for (int& l : t.level) l = static_cast<int>((x = x * 1103515245u + 12345u) >> 16) % 3;
            it.tiles = t;
        }
    for (auto _ : state) {
        SimResult r = simulate_systolic(work, o);
        SimResult b = simulate_systolic(baseline_workload(work), o);
        benchmark::DoNotOptimize(r.total.time_s + b.total.time_s);
    }
}
BENCHMARK(BM_Llama7bPrefill)->Unit(benchmark::kMillisecond);

}  // namespace
