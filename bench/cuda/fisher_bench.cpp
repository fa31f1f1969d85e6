// The Fisher diagonal (the backward pass of every calibration sequence), CPU against GPU, on
// synthetic checkpoints (model/synthetic_checkpoint.hpp, F16, written once per shape under
// $HALO_BENCH_DIR or the temp directory) of a small Llama shape (SmolLM2-135M's: 30 blocks,
// d_model 576, 9 heads on 3 KV heads, vocabulary 49152, tied) and of TinyLlama-1.1B's. Each case
// runs once; counters: tokens/s, peak GPU memory (GiB, cudaMemGetInfo), peak host RSS (GiB),
// the mean loss, and, for a GPU case whose workload the CPU ran just before, the worst relative
// error of the GPU's diagonal over every linear (Frobenius, per tensor), the LM head's included
// where both computed it. "-head" cases compute the head's entries (what HALO's --quantize-head
// asks for; session 21 on the GPU); the others skip them on both sides (before session 21 the
// CPU case computed them and the GPU case did not).
// Run: build/bench/cuda/bench_cuda --benchmark_filter=Fisher (the GPU cases need the CUDA module
// and a GPU; without them they report the error and skip).
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "halo/cuda/cuda_fisher.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/util/diagnostics.hpp"

namespace {

using namespace halo;

const model::SyntheticShape kSmolLm2{"smollm2-135m", "llama", 30, 576, 9, 3, 1536, 49152, 8192, 100000.0, 1e-5, false, true,
                                     "HuggingFaceTB/SmolLM2-135M config.json"};

const model::SyntheticShape& shape_named(const std::string& name) {
    return name == kSmolLm2.name ? kSmolLm2 : model::synthetic_shape(name);
}

double peak_rss_gib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / (1 << 20);  // Linux: KiB
}

// One model in memory at a time (the 1.1B shape is 4.4 GB in FP32).
const model::ModelWeights& model_of(const std::string& name) {
    static std::string loaded;
    static std::unique_ptr<model::ModelWeights> weights;
    if (loaded != name) {
        weights.reset();
        const char* env = std::getenv("HALO_BENCH_DIR");
        const auto dir = std::filesystem::path(env ? env : std::filesystem::temp_directory_path().string()) / ("fisher-" + name);
        if (!std::filesystem::exists(dir)) {
            model::SyntheticOptions o;
            o.dtype = "f16";
            model::write_synthetic_checkpoint(dir, shape_named(name), o);
        }
        weights = std::make_unique<model::ModelWeights>(model::LazyModel(dir).load_all());
        loaded = name;
    }
    return *weights;
}

std::vector<std::vector<std::int32_t>> samples_for(const model::ModelWeights& w, int samples, int seq_len) {
    std::vector<std::vector<std::int32_t>> s(static_cast<std::size_t>(samples));
    std::uint64_t x = 12345;
    for (auto& t : s)
        for (int j = 0; j < seq_len; ++j) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            t.push_back(static_cast<std::int32_t>((x >> 33) % static_cast<std::uint64_t>(w.config.vocab_size)));
        }
    return s;
}

double relative_error(const std::vector<float>& g, const std::vector<float>& w) {
    double d = 0, n = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        d += (double(g[i]) - w[i]) * (double(g[i]) - w[i]);
        n += double(w[i]) * w[i];
    }
    return n > 0 ? std::sqrt(d / n) : std::sqrt(d);
}

double worst_relative_error(const model::FisherDiagonal& got, const model::FisherDiagonal& want) {
    double worst = 0;
    for (std::size_t l = 0; l < want.linear.size(); ++l)
        for (std::size_t k = 0; k < 7; ++k) worst = std::max(worst, relative_error(got.linear[l][k].data, want.linear[l][k].data));
    if (!want.head.data.empty() && got.head.data.size() == want.head.data.size())
        worst = std::max(worst, relative_error(got.head.data, want.head.data));
    return worst;
}

// The CPU's last result, by workload, for the GPU case that follows it.
std::map<std::string, model::FisherDiagonal>& cpu_results() {
    static std::map<std::string, model::FisherDiagonal> r;
    return r;
}

// device: "cpu" (all cores), "cuda" (strict FP32) or "cuda-tf32"; "cpu-head" and "cuda-head"
// (strict FP32) compute the LM head's entries too.
void BM_Fisher(benchmark::State& state, const char* shape, const char* device, int samples, int seq_len) {
    const std::string dev = device;
    const std::string workload = std::string(shape) + "/" + std::to_string(samples) + "x" + std::to_string(seq_len);
    try {
        const model::ModelWeights& w = model_of(shape);
        const auto s = samples_for(w, samples, seq_len);
        for (auto _ : state) {
            const auto t0 = std::chrono::steady_clock::now();
            model::FisherDiagonal f;
            cuda::FisherRun run;
            const auto head = dev.ends_with("-head") ? model::HeadGradient::compute : model::HeadGradient::skip;
            if (dev.starts_with("cpu")) {
                f = model::fisher_diagonal(w, s, 0, {}, head);
            } else {
                f = cuda::fisher_diagonal_on_device(w, s, 0, dev == "cuda-tf32", {}, &run, head);
                state.counters["peak_gpu_gib"] = static_cast<double>(run.peak_device_bytes) / (1 << 30);
                state.counters["loss"] = run.mean_loss;
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            state.SetIterationTime(seconds);
            state.counters["tokens_per_s"] = static_cast<double>(samples) * seq_len / seconds;
            if (dev.starts_with("cpu")) {
                cpu_results()[workload] = std::move(f);
            } else if (const auto it = cpu_results().find(workload); it != cpu_results().end()) {
                state.counters["rel_err_vs_cpu"] = worst_relative_error(f, it->second);
            }
        }
        state.counters["peak_rss_gib"] = peak_rss_gib();
    } catch (const Error& e) {
        state.SkipWithError(e.what());
    }
}

// In order of importance (the device call may stop the run): the small shape CPU vs GPU on the
// same workload, the 1.1B shape on the GPU at 2048 tokens, the 1.1B shape CPU vs GPU, TF32.
#define HALO_FISHER_CASE(name, shape, device, samples, seq_len) \
    BENCHMARK_CAPTURE(BM_Fisher, name, shape, device, samples, seq_len)->Iterations(1)->UseManualTime()->Unit(benchmark::kSecond)
HALO_FISHER_CASE(smollm2_135m_cpu_4x512, "smollm2-135m", "cpu", 4, 512);
HALO_FISHER_CASE(smollm2_135m_cuda_4x512, "smollm2-135m", "cuda", 4, 512);
HALO_FISHER_CASE(smollm2_135m_cuda_tf32_4x512, "smollm2-135m", "cuda-tf32", 4, 512);
HALO_FISHER_CASE(smollm2_135m_cpu_head_4x512, "smollm2-135m", "cpu-head", 4, 512);
HALO_FISHER_CASE(smollm2_135m_cuda_head_4x512, "smollm2-135m", "cuda-head", 4, 512);
HALO_FISHER_CASE(smollm2_135m_cuda_head_32x2048, "smollm2-135m", "cuda-head", 32, 2048);
HALO_FISHER_CASE(smollm2_135m_cuda_32x2048, "smollm2-135m", "cuda", 32, 2048);
HALO_FISHER_CASE(tinyllama_cuda_16x2048, "tinyllama-1.1b", "cuda", 16, 2048);
HALO_FISHER_CASE(tinyllama_cuda_tf32_16x2048, "tinyllama-1.1b", "cuda-tf32", 16, 2048);
HALO_FISHER_CASE(tinyllama_cpu_1x512, "tinyllama-1.1b", "cpu", 1, 512);
HALO_FISHER_CASE(tinyllama_cuda_1x512, "tinyllama-1.1b", "cuda", 1, 512);
#undef HALO_FISHER_CASE

}  // namespace
