// Mixture-of-datatype group fitting (BitMoD / ANT type choice), fast vs reference, and RTN of a
// 576 x 1536 layer (SmolLM2's FFN shape) with each new format.
//   build/bench/quant/bench_quant --benchmark_filter=Mixture
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "halo/quant/mixed_types.hpp"
#include "halo/quant/quantized_tensor.hpp"

namespace {

std::vector<float> random_values(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

void BM_MixtureFitGroup(benchmark::State& st) {
    const bool ref = st.range(0) != 0;
    const auto spec = halo::quant::make_spec("bitmod-fp4", halo::quant::Granularity::per_group(128));
    const auto x = random_values(128, 1);
    for (auto _ : st) {
        auto ch = ref ? halo::quant::fit_mixture_group_ref(spec, x, 0.001f) : halo::quant::fit_mixture_group(spec, x, 0.001f);
        benchmark::DoNotOptimize(ch);
    }
    st.SetItemsProcessed(st.iterations() * 128);
    st.SetLabel(ref ? "reference" : "fast");
}
BENCHMARK(BM_MixtureFitGroup)->Arg(0)->Arg(1);

void BM_MixtureRtnLayer(benchmark::State& st) {
    static const char* kNames[] = {"bitmod-fp4", "bitmod-fp3", "ant4", "olive4", "mxfp3"};
    const char* name = kNames[st.range(0)];
    halo::model::Matrix w(576, 1536);
    w.data = random_values(576 * 1536, 2);
    const auto spec = halo::quant::make_spec(name, halo::quant::Granularity::per_channel());
    for (auto _ : st) benchmark::DoNotOptimize(halo::quant::quantize_rtn(w, spec));
    st.SetItemsProcessed(st.iterations() * 576 * 1536);
    st.SetLabel(name);
}
BENCHMARK(BM_MixtureRtnLayer)->DenseRange(0, 4)->Unit(benchmark::kMillisecond);

}  // namespace
