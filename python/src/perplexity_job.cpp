// halo.perplexity: the job of `halo eval` (tools/halo/cmd_eval.cpp) over the library, returning
// what `halo eval --json` prints.
#include <optional>

#include "halo/model/blas.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "jobs_adapter.hpp"

namespace halo::python {

nlohmann::json run_perplexity_job(const PerplexityJob& j, const ProgressSink& progress) {
    if (j.bos != "auto" && j.bos != "yes" && j.bos != "no")
        throw_bad_value("E0094", "bos", "unknown BOS rule", "auto, yes or no", j.bos);
    if (j.ctx < 4) throw_bad_value("E0094", "ctx", "chunk size too small", ">= 4", std::to_string(j.ctx));
    if (j.stride < 0) throw_bad_value("E0094", "stride", "stride must not be negative", ">= 0", std::to_string(j.stride));
    const std::filesystem::path model_path = j.model.empty() ? model::default_model_path() : std::filesystem::path(j.model);
    const std::filesystem::path text_path = j.text.empty() ? model::default_eval_text_path() : std::filesystem::path(j.text);
    model::PerplexityOptions opt;
    opt.method = model::parse_method(j.method);
    model::set_blas_threads(j.threads);
    const model::ForwardHooks act_hooks = quant::activation_hooks_for(j.act_format);
    model::ModelWeights weights = model::load_model(model_path);
    std::optional<quant::LoadedQuantized> quantized;
    const model::ForwardHooks* hooks = nullptr;
    if (!j.quantized.empty()) {
        quantized = quant::load_quantized(j.quantized, weights);
        hooks = quantized->hooks();
    }
    if (!j.act_format.empty()) hooks = &act_hooks;
    const auto tokenizer = model::load_tokenizer(model_path);
    opt.ctx = j.ctx;
    opt.stride = j.stride;
    opt.max_chunks = j.max_chunks;
    const bool add_bos = j.bos == "yes" || (j.bos == "auto" && model::model_adds_bos(model_path));
    opt.bos = add_bos ? tokenizer->bos_id() : -1;
    opt.progress = progress;
    const auto r = model::perplexity_of_text(weights, *tokenizer, text_path, opt, {.threads = j.threads, .hooks = hooks});
    const double tokens_per_s = r.seconds > 0 ? static_cast<double>(r.result.tokens_evaluated) / r.seconds : 0.0;
    return {{"perplexity", r.result.perplexity},
            {"nll_sum", r.result.nll_sum},
            {"tokens_scored", r.result.tokens_scored},
            {"tokens_evaluated", r.result.tokens_evaluated},
            {"text_tokens", r.text_tokens},
            {"method", std::string(model::method_name(r.result.method))},
            {"ctx", r.result.ctx},
            {"stride", r.result.stride},
            {"chunks", r.result.chunks},
            {"bos", add_bos},
            {"model", model_path.string()},
            {"weights", weights.source_format},
            {"quantized", j.quantized},
            {"text", text_path.string()},
            {"threads", j.threads},
            {"seconds", r.seconds},
            {"tokens_per_s", tokens_per_s}};
}

}  // namespace halo::python
