// Prefill throughput of the FP32 forward pass (tokens/s) on a model shaped like SmolLM2-135M
// (random weights, so no installed data is needed) and on the installed model when present;
// peak RSS as a counter. Run: build/bench/model/bench_model --benchmark_filter=Prefill
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <filesystem>
#include <random>

#include "halo/model/forward.hpp"
#include "halo/model/model_loader.hpp"

namespace {

using namespace halo::model;

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

ModelConfig smollm2_135m_shape() {
    ModelConfig c;
    c.n_layers = 30;
    c.d_model = 576;
    c.n_heads = 9;
    c.n_kv_heads = 3;
    c.head_dim = 64;
    c.d_ff = 1536;
    c.vocab_size = 49152;
    c.context_length = 8192;
    c.rope_theta = 100000.0f;
    c.tied_embeddings = true;
    return c;
}

void fill(Matrix& m, std::int64_t rows, std::int64_t cols, std::minstd_rand& rng, float scale) {
    m = Matrix(rows, cols);
    std::uniform_real_distribution<float> ud(-scale, scale);
    for (auto& v : m.data) v = ud(rng);
}

const ModelWeights& synthetic_model() {
    static const ModelWeights w = [] {
        ModelWeights m;
        m.config = smollm2_135m_shape();
        const ModelConfig& c = m.config;
        std::minstd_rand rng(1);
        fill(m.token_embedding, c.vocab_size, c.d_model, rng, 0.05f);
        for (int l = 0; l < c.n_layers; ++l) {
            LayerWeights lw;
            lw.attn_norm.assign(static_cast<std::size_t>(c.d_model), 1.0f);
            lw.ffn_norm = lw.attn_norm;
            const std::int64_t dq = std::int64_t{c.n_heads} * c.head_dim, dkv = std::int64_t{c.n_kv_heads} * c.head_dim;
            fill(lw[LinearKind::attn_q], dq, c.d_model, rng, 0.04f);
            fill(lw[LinearKind::attn_k], dkv, c.d_model, rng, 0.04f);
            fill(lw[LinearKind::attn_v], dkv, c.d_model, rng, 0.04f);
            fill(lw[LinearKind::attn_output], c.d_model, dq, rng, 0.04f);
            fill(lw[LinearKind::ffn_gate], c.d_ff, c.d_model, rng, 0.04f);
            fill(lw[LinearKind::ffn_up], c.d_ff, c.d_model, rng, 0.04f);
            fill(lw[LinearKind::ffn_down], c.d_model, c.d_ff, rng, 0.025f);
            m.layers.push_back(std::move(lw));
        }
        m.output_norm.assign(static_cast<std::size_t>(c.d_model), 1.0f);
        return m;
    }();
    return w;
}

void run_prefill(benchmark::State& state, const ModelWeights& w) {
    const auto tokens_n = static_cast<std::size_t>(state.range(0));
    const auto threads = static_cast<unsigned>(state.range(1));
    std::vector<std::int32_t> tokens(tokens_n);
    for (std::size_t i = 0; i < tokens_n; ++i) tokens[i] = static_cast<std::int32_t>((i * 7919) % 49152);
    for (auto _ : state) {
        Matrix logits = forward_logits(w, tokens, {.threads = threads});
        benchmark::DoNotOptimize(logits.data.data());
    }
    state.counters["tokens_per_s"] =
        benchmark::Counter(static_cast<double>(tokens_n * state.iterations()), benchmark::Counter::kIsRate);
    state.counters["peak_rss_mib"] = peak_rss_mib();
}

void BM_PrefillSynthetic135M(benchmark::State& state) { run_prefill(state, synthetic_model()); }
BENCHMARK(BM_PrefillSynthetic135M)->Args({512, 2})->Args({512, 1})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

void BM_PrefillInstalledModel(benchmark::State& state) {
    const auto path = default_model_path();
    if (!std::filesystem::exists(path)) {
        state.SkipWithError("installed model not found (run scripts/setup_data.sh)");
        return;
    }
    static const ModelWeights w = load_model(path);
    run_prefill(state, w);
}
BENCHMARK(BM_PrefillInstalledModel)->Args({512, 2})->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(2);

}  // namespace
