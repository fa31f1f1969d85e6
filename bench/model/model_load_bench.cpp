// Model I/O benchmarks on the real default model (skipped with a message when not installed):
// GGUF open+validate, dequantization of every tensor, the whole load_model, tokenizer load and
// encode throughput on the evaluation text. Results: docs/results/model.md.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "halo/model/gguf_reader.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/tokenizer.hpp"

namespace {

using namespace halo::model;

bool have_model(benchmark::State& state) {
    if (std::filesystem::exists(default_model_path())) return true;
    state.SkipWithError("model not installed: run scripts/setup.sh data");
    return false;
}

void BM_GgufOpen(benchmark::State& state) {
    if (!have_model(state)) return;
    for (auto _ : state) {
        GgufFile f(default_model_path());
        benchmark::DoNotOptimize(f.tensors().size());
    }
}
BENCHMARK(BM_GgufOpen)->Unit(benchmark::kMillisecond);

void BM_DequantAllTensors(benchmark::State& state) {
    if (!have_model(state)) return;
    GgufFile f(default_model_path());
    std::int64_t elements = 0;
    for (auto _ : state) {
        elements = 0;
        for (const auto& t : f.tensors()) {
            auto v = f.dequantize(t);
            elements += static_cast<std::int64_t>(v.size());
            benchmark::DoNotOptimize(v.data());
        }
    }
    state.counters["elements"] = static_cast<double>(elements);
    state.counters["elem/s"] = benchmark::Counter(static_cast<double>(elements), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_DequantAllTensors)->Unit(benchmark::kMillisecond);

// Reference (element-at-a-time) path on the same tensors, for the speed-up of the fast one.
void BM_DequantAllTensorsReference(benchmark::State& state) {
    if (!have_model(state)) return;
    GgufFile f(default_model_path());
    for (auto _ : state)
        for (const auto& t : f.tensors()) {
            std::vector<float> v(static_cast<std::size_t>(t.n_elements()));
            t.type->dequant_ref(f.tensor_bytes(t).data(), v.data(), t.n_elements() / t.type->block_size);
            benchmark::DoNotOptimize(v.data());
        }
}
BENCHMARK(BM_DequantAllTensorsReference)->Unit(benchmark::kMillisecond);

void BM_LoadModel(benchmark::State& state) {
    if (!have_model(state)) return;
    for (auto _ : state) {
        ModelWeights w = load_model(default_model_path());
        benchmark::DoNotOptimize(w.layers.size());
    }
}
BENCHMARK(BM_LoadModel)->Unit(benchmark::kMillisecond);

void BM_TokenizerLoad(benchmark::State& state) {
    if (!have_model(state)) return;
    for (auto _ : state) benchmark::DoNotOptimize(load_tokenizer(default_model_path()));
}
BENCHMARK(BM_TokenizerLoad)->Unit(benchmark::kMillisecond);

void BM_TokenizerEncodeEvalText(benchmark::State& state) {
    if (!have_model(state)) return;
    if (!std::filesystem::exists(default_eval_text_path())) {
        state.SkipWithError("eval text not installed: run scripts/setup.sh data");
        return;
    }
    const auto tok = load_tokenizer(default_model_path());
    std::ifstream in(default_eval_text_path());
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::size_t tokens = 0;
    for (auto _ : state) tokens = tok->encode(text, false).size();
    state.counters["tokens"] = static_cast<double>(tokens);
    state.counters["MB/s"] = benchmark::Counter(static_cast<double>(text.size()) / 1e6, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_TokenizerEncodeEvalText)->Unit(benchmark::kMillisecond);

}  // namespace
