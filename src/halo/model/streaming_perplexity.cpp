#include "halo/model/streaming_perplexity.hpp"

#include "halo/model/architecture.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "halo/model/activation_store.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/forward_core.hpp"
#include "halo/model/parallel_ops.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {

StreamingPerplexity streaming_perplexity(const LazyModel& model, std::span<const std::int32_t> text_tokens,
                                         const PerplexityOptions& o, const StreamingEvalOptions& so) {
    const std::string where = o.text_name.empty() ? "tokens" : o.text_name;
    if (o.method != PerplexityMethod::llamacpp)
        throw_bad_value("E5604", "--method", "streamed perplexity runs the llamacpp method only (hf windows overlap)",
                        "llamacpp", std::string(method_name(o.method)));
    if (o.ctx < 4) throw_bad_value("E5521", "--ctx", "context too small for perplexity", ">= 4", std::to_string(o.ctx));
    std::vector<std::int32_t> tokens;
    if (o.bos >= 0) tokens.push_back(o.bos);
    tokens.insert(tokens.end(), text_tokens.begin(), text_tokens.end());
    const auto N = static_cast<std::int64_t>(tokens.size());
    if (text_tokens.empty() || N < o.ctx)
        throw_bad_input("E5520", where, 0, "text too short for one perplexity chunk", "at least " + std::to_string(o.ctx) + " tokens",
                        std::to_string(N) + " tokens", "use a longer text or a smaller --ctx");
    std::int64_t chunks = N / o.ctx;
    if (o.max_chunks >= 0) chunks = std::min<std::int64_t>(chunks, o.max_chunks);
    std::vector<std::vector<std::int32_t>> windows;
    for (std::int64_t c = 0; c < chunks; ++c) {
        windows.emplace_back(tokens.begin() + c * o.ctx, tokens.begin() + (c + 1) * o.ctx);
        if (o.bos >= 0) windows.back()[0] = o.bos;
    }

    set_blas_threads(so.threads);
    const ModelConfig& cfg = model.config();
    const std::int64_t S = o.ctx, D = cfg.d_model;
    ModelWeights w = model.skeleton();
    w.layers.resize(1);
    StreamingPerplexity out;
    ActivationStore store(std::vector<std::int64_t>(static_cast<std::size_t>(chunks), S), D, so.activation_budget_bytes,
                          so.spill_dir);
    out.activations_spilled = store.spilled();
    out.activation_bytes = store.total_bytes();
    std::vector<float> x;
    {
        w.token_embedding = model.token_embedding();
        for (std::size_t c = 0; c < windows.size(); ++c) {
            x.assign(static_cast<std::size_t>(S * D), 0.0f);
            embed_tokens(w, windows[c], x.data());
            store.store(c, x);
        }
        if (!cfg.tied_embeddings) w.token_embedding = {};  // a tied model needs it again as the LM head
    }
    refuse_layer_patterns(cfg, "streamed perplexity");
    const LayerRopes ropes(cfg, S);
    const RopeTable& rope = ropes.for_layer(0);  // every layer alike (checked above)
    Progress progress(so.block_progress ? so.block_progress : ProgressSink([](const ProgressUpdate&) {}), "perplexity blocks",
                      static_cast<std::size_t>(cfg.n_layers));
    for (int l = 0; l < cfg.n_layers; ++l) {
        w.layers[0] = model.layer(l);
        if (so.transform_block) so.transform_block(l, w.layers[0]);
        const ModelView<float> view = make_view<float>(w);
        for (std::size_t c = 0; c < windows.size(); ++c) {
            store.load(c, x);
            block_forward(view, 0, x.data(), S, rope, so.hooks,
                          static_cast<const LinearInputObserver*>(nullptr), static_cast<BlockCache<float>*>(nullptr));
            store.store(c, x);
        }
        w.layers[0] = {};
        progress.advance();
    }
    progress.finish();

    w.output_norm = model.output_norm();
    w.output = model.output();
    if (so.transform_head) so.transform_head(w);  // a quantized LM head replaces (or unties) the head
    const ModelView<float> view = make_view<float>(w);
    PerplexityResult& r = out.result;
    r.method = o.method;
    r.ctx = o.ctx;
    const std::int64_t first = o.ctx / 2;
    for (std::size_t c = 0; c < windows.size(); ++c) {
        store.load(c, x);
        Matrix logits(S, cfg.vocab_size);
        final_logits(view, x.data() + first * D, S - first, logits.row(first), static_cast<float*>(nullptr), so.hooks);
        // Summed in token order, as before: the same total for every thread count.
        const auto targets = std::span<const std::int32_t>(windows[c]).subspan(static_cast<std::size_t>(first + 1));
        for (const double nll : token_nlls(logits, first, targets.first(static_cast<std::size_t>(S - first - 1)))) {
            r.nll_sum += nll;
            ++r.tokens_scored;
        }
        r.tokens_evaluated += S;
        ++r.chunks;
    }
    r.perplexity = std::exp(r.nll_sum / static_cast<double>(r.tokens_scored));
    return out;
}

}  // namespace halo::model
