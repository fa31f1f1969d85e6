// Peak memory of layer-wise calibration: resident hidden-state bytes and process peak RSS for
// models of growing depth (tiny widths so it runs in seconds). The hidden states stay
// samples x tokens x d_model floats; RSS grows only with the weights themselves.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <random>

#include "halo/model/calibration.hpp"

namespace {

using namespace halo::model;

ModelWeights model_with_layers(int layers) {
    ModelWeights m;
    ModelConfig& c = m.config;
    c.n_layers = layers;
    c.d_model = 128;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.head_dim = 32;
    c.d_ff = 384;
    c.vocab_size = 1000;
    c.tied_embeddings = true;
    std::minstd_rand rng(2);
    std::uniform_real_distribution<float> ud(-0.05f, 0.05f);
    auto mat = [&](std::int64_t r, std::int64_t k) {
        Matrix x(r, k);
        for (auto& v : x.data) v = ud(rng);
        return x;
    };
    m.token_embedding = mat(c.vocab_size, c.d_model);
    for (int l = 0; l < layers; ++l) {
        LayerWeights lw;
        lw.attn_norm.assign(128, 1.0f);
        lw.ffn_norm = lw.attn_norm;
        lw[LinearKind::attn_q] = mat(128, 128);
        lw[LinearKind::attn_k] = mat(64, 128);
        lw[LinearKind::attn_v] = mat(64, 128);
        lw[LinearKind::attn_output] = mat(128, 128);
        lw[LinearKind::ffn_gate] = mat(384, 128);
        lw[LinearKind::ffn_up] = mat(384, 128);
        lw[LinearKind::ffn_down] = mat(128, 384);
        m.layers.push_back(std::move(lw));
    }
    m.output_norm.assign(128, 1.0f);
    return m;
}

void BM_CalibrationMemory(benchmark::State& state) {
    const ModelWeights w = model_with_layers(static_cast<int>(state.range(0)));
    std::vector<std::vector<std::int32_t>> samples(16, std::vector<std::int32_t>(256));
    for (std::size_t s = 0; s < samples.size(); ++s)
        for (std::size_t t = 0; t < 256; ++t) samples[s][t] = static_cast<std::int32_t>((s * 131 + t * 17) % 1000);
    std::size_t peak_resident = 0;
    for (auto _ : state) {
        LayerwiseCalibration cal(w, samples, 2);
        for (int l = 0; l < w.config.n_layers; ++l) {
            auto stats = cal.capture(l, {});
            benchmark::DoNotOptimize(stats[0].gram.data.data());
            cal.advance(l);
            peak_resident = std::max(peak_resident, cal.resident_bytes());
        }
    }
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    state.counters["hidden_mib"] = static_cast<double>(peak_resident) / (1 << 20);
    state.counters["peak_rss_mib"] = static_cast<double>(u.ru_maxrss) / 1024.0;
}
BENCHMARK(BM_CalibrationMemory)->Arg(2)->Arg(8)->Arg(32)->Unit(benchmark::kMillisecond)->Iterations(1);

}  // namespace
