// Host side of the GPU Fisher diagonal: checks the input, uploads the model to the module's
// FisherEngine, runs every sample through it and downloads the sums.
#include "halo/cuda/cuda_fisher.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

// Bad input first, before the device is touched.
std::int64_t check_samples(const model::ModelWeights& w, const std::vector<std::vector<std::int32_t>>& samples) {
    if (samples.empty())
        throw_bad_value("E8160", "calibration samples", "the Fisher diagonal needs at least one sample", ">= 1 sample", "0");
    std::size_t longest = 0;
    for (std::size_t s = 0; s < samples.size(); ++s) {
        const auto& t = samples[s];
        if (t.size() < 2)
            throw_bad_value("E8161", fmt::format("calibration sample {}", s), "a next-token loss needs two tokens",
                            "at least 2 tokens", std::to_string(t.size()));
        for (std::size_t i = 0; i < t.size(); ++i)
            if (t[i] < 0 || t[i] >= w.config.vocab_size)
                throw_bad_value("E8162", fmt::format("calibration sample {} token {}", s, i), "token id outside the vocabulary",
                                fmt::format("0..{}", w.config.vocab_size - 1), std::to_string(t[i]),
                                "the tokenizer and the model disagree on the vocabulary");
        longest = std::max(longest, t.size());
    }
    return static_cast<std::int64_t>(longest);
}

// The model on the device, accumulators zeroed.
std::unique_ptr<FisherEngine> upload(const model::ModelWeights& w, int device, std::int64_t max_tokens, bool tf32,
                                     model::HeadGradient head) {
    check_supported(w.config, w.source_path);  // E8103, MoE included
    open_device(device);                       // E8109 / E8101 / E8108
    std::unique_ptr<FisherEngine> engine(backend_api().make_fisher(device, w.config, max_tokens, tf32, head == model::HeadGradient::compute));
    const RopeFloats rope = rope_floats(w.config, max_tokens);
    engine->upload_rope(rope.cos, rope.sin);
    engine->upload_embedding(w.token_embedding);
    for (int l = 0; l < w.config.n_layers; ++l) engine->upload_block(l, w.layers[static_cast<std::size_t>(l)]);
    engine->upload_head(w.output_norm, w.output.size() ? &w.output : nullptr);
    return engine;
}

model::FisherDiagonal download(FisherEngine& engine, const model::ModelWeights& w, model::HeadGradient head) {
    model::FisherDiagonal f;
    f.linear.resize(w.layers.size());
    f.experts.resize(w.layers.size());  // dense blocks: no experts
    for (std::size_t l = 0; l < w.layers.size(); ++l)
        for (const auto kind : model::kLinearKinds) {
            const model::Matrix& wk = w.layers[l][kind];
            model::Matrix& m = f.linear[l][static_cast<std::size_t>(kind)];
            m = model::Matrix(wk.rows, wk.cols);
            engine.download(static_cast<int>(l), kind, m.data.data());
        }
    if (head == model::HeadGradient::compute) {  // model::fisher_diagonal's head: [vocab x d_model]
        f.head = model::Matrix(w.config.vocab_size, w.config.d_model);
        engine.download_head(f.head.data.data());
    }
    return f;
}

}  // namespace

model::FisherDiagonal fisher_diagonal_on_device(const model::ModelWeights& weights,
                                                const std::vector<std::vector<std::int32_t>>& samples, int device, bool tf32,
                                                ProgressSink progress_sink, FisherRun* run, model::HeadGradient head) {
    const std::int64_t longest = check_samples(weights, samples);
    const auto engine = upload(weights, device, longest, tf32, head);
    Progress progress(progress_sink ? progress_sink : ProgressSink([](const ProgressUpdate&) {}), "fisher (cuda)", samples.size());
    const float inv_n = 1.0f / static_cast<float>(samples.size());  // model::fisher_diagonal's weight
    double loss = 0;
    for (const auto& s : samples) {
        loss += engine->accumulate(s, inv_n, true) / static_cast<double>(samples.size());
        progress.advance();
    }
    progress.finish();
    model::FisherDiagonal f = download(*engine, weights, head);
    if (run != nullptr) *run = FisherRun{loss, engine->peak_device_bytes()};
    return f;
}

model::FisherDiagonal linear_gradients_on_device(const model::ModelWeights& weights, std::span<const std::int32_t> tokens,
                                                 int device, bool tf32, double* loss) {
    const std::vector<std::vector<std::int32_t>> one{std::vector<std::int32_t>(tokens.begin(), tokens.end())};
    const auto engine = upload(weights, device, check_samples(weights, one), tf32, model::HeadGradient::compute);
    const double l = engine->accumulate(tokens, 1.0f, false);
    if (loss != nullptr) *loss = l;
    return download(*engine, weights, model::HeadGradient::compute);
}

}  // namespace halo::cuda
