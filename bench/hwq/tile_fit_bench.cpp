// Cost of HALO's per-tile work: fitting one 128x128 tile to a level (codebook selection +
// scale/zero) for the three derived levels of a synthetic osu018-like profile.
#include <random>

#include <benchmark/benchmark.h>

#include "halo/hwq/ladder.hpp"
#include "halo/hwq/sensitivity.hpp"
#include "halo/hwq/tile_fit.hpp"

namespace {

halo::mac::MacProfile profile() {
    halo::mac::MacProfile p;
    p.weight_format = "int8", p.weight_bits = 8, p.nominal_voltage_v = 1.8;
    for (std::uint64_t code = 0; code < 256; ++code) {
        halo::mac::ProfileWeight w;
        const int v = code >= 128 ? static_cast<int>(code) - 256 : static_cast<int>(code);
        w.code = code, w.value = v;
        w.static_delay_ns = v < 0 ? 5.5 : v % 8 == 0 ? 3.9 + 0.0001 * v : 4.5;
        w.energy_fj = 100.0 + __builtin_popcountll(code);
        p.weights.push_back(w);
    }
    return p;
}

void BM_FitTile(benchmark::State& state) {
    const auto L = halo::hwq::build_ladder(profile(), {});
    const auto& lv = L.levels[static_cast<std::size_t>(state.range(0))];
    std::vector<double> e;
    for (int v : lv.values) e.push_back(L.energy_of(v));
    std::vector<float> w(128 * 128);
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0, 0.02f);
    for (auto& x : w) x = n(rng);
    for (auto _ : state) benchmark::DoNotOptimize(halo::hwq::fit_tile(w, {}, lv.values, e, {}));
    state.SetLabel(std::to_string(lv.values.size()) + " allowed codes");
}
BENCHMARK(BM_FitTile)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace

// The two steps of fit_tile apart (tile_fit.hpp): the histogram reads the 16,384 weights once
// per tile; the fit on the histogram runs once per (tile, level). A Llama-2-7B block has 12,352
// tiles of 128x128 (4 x 32x32 + 3 x 32x86): HALO builds 2 histograms per tile (costs, then
// GPTQ's refit) and 4 fits (3 levels, then the assigned one).
void BM_TileHistogram(benchmark::State& state) {
    std::vector<float> w(128 * 128);
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0, 0.02f);
    for (auto& x : w) x = n(rng);
    for (auto _ : state) benchmark::DoNotOptimize(halo::hwq::tile_histogram(w, {}));
}
BENCHMARK(BM_TileHistogram)->Unit(benchmark::kMicrosecond);

void BM_FitHistogram(benchmark::State& state) {
    const auto L = halo::hwq::build_ladder(profile(), {});
    const auto& lv = L.levels[static_cast<std::size_t>(state.range(0))];
    std::vector<double> e;
    for (int v : lv.values) e.push_back(L.energy_of(v));
    std::vector<float> w(128 * 128);
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0, 0.02f);
    for (auto& x : w) x = n(rng);
    const auto h = halo::hwq::tile_histogram(w, {});
    for (auto _ : state) benchmark::DoNotOptimize(halo::hwq::fit_histogram(h, lv.values, e, {}));
    state.SetLabel(std::to_string(lv.values.size()) + " allowed codes");
}
BENCHMARK(BM_FitHistogram)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

// The exact step after the fit (refit_exact: two candidates scored on all 16,384 weights with
// X^T X's diagonal), run once per (tile, level) by fit_tiles_exact.
void BM_RefitExact(benchmark::State& state) {
    const auto L = halo::hwq::build_ladder(profile(), {});
    const auto& lv = L.levels[static_cast<std::size_t>(state.range(0))];
    std::vector<double> e;
    for (int v : lv.values) e.push_back(L.energy_of(v));
    std::vector<float> w(128 * 128), h(128 * 128);
    std::mt19937 rng(1);
    std::normal_distribution<float> n(0, 0.02f);
    std::uniform_real_distribution<float> pos(0.1f, 10.0f);
    for (auto& x : w) x = n(rng);
    for (auto& x : h) x = pos(rng);
    const auto fit = halo::hwq::fit_tile(w, {}, lv.values, e, {});
    for (auto _ : state) benchmark::DoNotOptimize(halo::hwq::refit_exact(fit, w, {}, lv.values, e, {}, h));
    state.SetLabel(std::to_string(fit.codes.size()) + " codes");
}
BENCHMARK(BM_RefitExact)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);

// The sparse split of a Llama-2-7B down projection (4096 x 11008, 45 M weights): the k = 0.05 %
// most sensitive weights and the 3-sigma outliers (hwq/sensitivity.hpp).
void BM_SparseMask7bDown(benchmark::State& state) {
    halo::model::Matrix w(4096, 11008), s(4096, 11008);
    std::mt19937 rng(3);
    std::normal_distribution<float> n(0, 0.02f);
    for (std::size_t i = 0; i < w.data.size(); ++i) w.data[i] = n(rng), s.data[i] = w.data[i] * w.data[i];
    for (auto _ : state) benchmark::DoNotOptimize(halo::hwq::sparse_mask(w, s, {}));
}
BENCHMARK(BM_SparseMask7bDown)->Unit(benchmark::kMillisecond)->Iterations(2);

// The other per-linear host passes of HALO's prepare step on the same matrix, one thread each.
void BM_HessianSensitivity7bDown(benchmark::State& state) {
    halo::model::Matrix w(4096, 11008), g(11008, 11008);
    for (std::size_t i = 0; i < w.data.size(); ++i) w.data[i] = 0.01f * static_cast<float>(i % 97);
    for (std::int64_t i = 0; i < g.rows; ++i) g.at(i, i) = 1.0f + static_cast<float>(i % 5);
    for (auto _ : state) benchmark::DoNotOptimize(halo::hwq::hessian_sensitivity(w, g, 262144));
}
BENCHMARK(BM_HessianSensitivity7bDown)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_TileScores7bDown(benchmark::State& state) {
    halo::model::Matrix s(4096, 11008);
    for (std::size_t i = 0; i < s.data.size(); ++i) s.data[i] = 0.01f * static_cast<float>(i % 97);
    const auto grid = halo::hwq::make_grid(4096, 11008, 128, 128, "bench");
    for (auto _ : state) benchmark::DoNotOptimize(halo::hwq::tile_scores(s, grid));
}
BENCHMARK(BM_TileScores7bDown)->Unit(benchmark::kMillisecond)->Iterations(2);
