// GPTQ on a square layer with a dense Hessian (the brief's 4096 x 4096 case on 2 threads), RTN for
// scale, and the element encoders (reference vs fast).
//   build/bench/quant/bench_quant --benchmark_filter=Gptq
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <random>

#include <fmt/format.h>

#include "halo/quant/gptq.hpp"

namespace {

using halo::model::Matrix;

Matrix random_matrix(std::int64_t r, std::int64_t c, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 1.0f);
    Matrix m(r, c);
    for (auto& v : m.data) v = n(rng);
    return m;
}

// A dense, well-conditioned Gram: A A^T with A [n x n/4] plus a small ridge.
Matrix dense_gram(std::int64_t n) {
    const Matrix a = random_matrix(n, n / 4, 9);
    Matrix g(n, n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(n), static_cast<int>(n), static_cast<int>(n / 4),
                1.0f, a.data.data(), static_cast<int>(n / 4), a.data.data(), static_cast<int>(n / 4), 0.0f, g.data.data(),
                static_cast<int>(n));
    for (std::int64_t i = 0; i < n; ++i) g.at(i, i) += 1.0f;
    return g;
}

void BM_Gptq(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const auto threads = static_cast<unsigned>(state.range(1));
    const bool grouped = state.range(2) != 0;
    const Matrix w = random_matrix(n, n, 1);
    const Matrix g = dense_gram(n);
    const auto spec = halo::quant::make_spec("int4", grouped ? halo::quant::Granularity::per_group(128)
                                                             : halo::quant::Granularity::per_channel());
    halo::quant::GptqOptions opt;
    opt.threads = threads;
    for (auto _ : state) {
        auto q = halo::quant::quantize_gptq(w, g, spec, opt);
        benchmark::DoNotOptimize(q.codes().data());
    }
    state.SetLabel(fmt::format("{}x{} int4 {} threads {}", n, n, grouped ? "g128" : "per-channel", threads));
}
BENCHMARK(BM_Gptq)->Args({4096, 2, 1})->Args({4096, 2, 0})->Args({1024, 2, 1})->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

void BM_Rtn(benchmark::State& state) {
    const Matrix w = random_matrix(4096, 4096, 2);
    const auto spec = halo::quant::make_spec("int4", halo::quant::Granularity::per_group(128));
    for (auto _ : state) benchmark::DoNotOptimize(halo::quant::quantize_rtn(w, spec).codes().data());
}
BENCHMARK(BM_Rtn)->Unit(benchmark::kMillisecond)->Iterations(2)->UseRealTime();

void BM_EncodeE4M3(benchmark::State& state) {
    const auto& t = halo::quant::element_type(halo::quant::ElementId::e4m3);
    const bool ref = state.range(0) != 0;
    std::vector<float> xs(4096);
    std::mt19937 rng(3);
    std::normal_distribution<float> nd(0.0f, 50.0f);
    for (auto& x : xs) x = nd(rng);
    for (auto _ : state)
        for (float x : xs) benchmark::DoNotOptimize(ref ? halo::quant::encode_ref(t, x) : halo::quant::encode(t, x));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * xs.size()));
}
BENCHMARK(BM_EncodeE4M3)->Arg(0)->Arg(1);

}  // namespace
