// One linear layer of SmolLM2-135M's FFN shape (512 tokens x 576 inputs -> 1536 outputs) through
// each kernel: the cblas reference, the fast FP32 GEMM (Eigen, split across threads), and the
// INT8 x INT8 Q8_0-style product (activations quantized per 32-block inside the timing).
// Argument = threads. Run: build/bench/model/bench_model --benchmark_filter=Linear
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "halo/model/blas.hpp"
#include "halo/model/int8_gemm.hpp"

namespace {

using namespace halo::model;

constexpr std::int64_t kTokens = 512, kIn = 576, kOut = 1536;

std::vector<float> random_values(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

// GFLOP per second of the measured (real) time: 2 flops per multiply-add.
void report(benchmark::State& state) {
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * kTokens * kIn * kOut / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_LinearCblas(benchmark::State& state) {
    set_blas_threads(static_cast<unsigned>(state.range(0)));
    const auto x = random_values(kTokens * kIn, 1), w = random_values(kOut * kIn, 2);
    std::vector<float> y(kTokens * kOut);
    for (auto _ : state) gemm_reference(false, true, kTokens, kOut, kIn, 1.0f, x.data(), kIn, w.data(), kIn, 0.0f, y.data(), kOut);
    report(state);
}

void BM_LinearFp32Fast(benchmark::State& state) {
    set_blas_threads(static_cast<unsigned>(state.range(0)));
    const auto x = random_values(kTokens * kIn, 1), w = random_values(kOut * kIn, 2);
    std::vector<float> y(kTokens * kOut);
    for (auto _ : state) linear_forward(x.data(), kTokens, kIn, w.data(), kOut, y.data());
    report(state);
}

void BM_LinearInt8(benchmark::State& state) {
    set_blas_threads(static_cast<unsigned>(state.range(0)));
    const auto x = random_values(kTokens * kIn, 1), wf = random_values(kOut * kIn, 2);
    const Int8Matrix w = quantize_int8_blocks(wf.data(), kOut, kIn);
    std::vector<float> y(kTokens * kOut);
    for (auto _ : state) int8_gemm(x.data(), kTokens, w, y.data(), 0.0f);
    report(state);
}

BENCHMARK(BM_LinearCblas)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LinearFp32Fast)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LinearInt8)->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
