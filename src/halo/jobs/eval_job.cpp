#include "halo/jobs/eval_job.hpp"

#include <optional>

#include "halo/model/blas.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/provenance.hpp"

namespace halo::jobs {

nlohmann::json EvalJobResult::json() const {
    nlohmann::json j = {{"perplexity", result.perplexity},
            {"nll_sum", result.nll_sum},
            {"tokens_scored", result.tokens_scored},
            {"tokens_evaluated", result.tokens_evaluated},
            {"text_tokens", text_tokens},
            {"method", std::string(model::method_name(result.method))},
            {"ctx", result.ctx},
            {"stride", result.stride},
            {"chunks", result.chunks},
            {"bos", bos},
            {"model", model_path.string()},
            {"weights", weights},
            {"quantized", quantized},
            {"text", text_path.string()},
            {"threads", threads},
            {"cpu_gemm", model::gemm_kernel_name()},
            {"seconds", seconds},
            {"tokens_per_s", tokens_per_s}};
    j.update(provenance_json(current_provenance()));  // date, halo_version, git_commit, command
    return j;
}

std::string eval_model_of(const std::string& model, const std::filesystem::path& quantized) {
    if (!model.empty() || quantized.empty()) return model;
    const quant::ManifestSummary m = quant::read_manifest_summary(quantized);
    if (m.source_model.empty())
        throw_bad_value("E9045", (quantized / "manifest.json").string(), "the manifest records no source model",
                        "\"source_model\": the model the directory was quantized from", "none",
                        "pass --model with the directory's source model");
    return m.source_model;
}

EvalJobResult run_eval_job(const EvalJobOptions& o, const ProgressSink& progress) {
    if (o.bos != "auto" && o.bos != "yes" && o.bos != "no")
        throw_bad_flag("E9042", "--bos", "unknown BOS rule", "auto, yes or no", o.bos);
    if (o.ctx < 4) throw_bad_flag("E9043", "--ctx", "chunk size too small", ">= 4", std::to_string(o.ctx));
    if (o.stride < 0) throw_bad_flag("E9044", "--stride", "stride must not be negative", ">= 0", std::to_string(o.stride));
    EvalJobResult res;
    res.model_path = model::resolve_model_path(eval_model_of(o.model, o.quantized));
    res.text_path = o.text.empty() ? model::default_eval_text_path() : o.text;
    res.quantized = o.quantized.string();
    res.threads = o.threads;
    model::PerplexityOptions opt;
    opt.method = model::parse_method(o.method);
    model::set_blas_threads(o.threads);
    model::ForwardHooks act_hooks;
    model::ModelWeights weights = model::load_model(res.model_path);
    res.weights = weights.source_format;
    // A quantized model: its decoded (fake-quant) linear weights replace the base model's, and
    // weight-activation formats bring their activation quantizers as forward hooks.
    std::optional<quant::LoadedQuantized> quantized;
    const model::ForwardHooks* hooks = nullptr;
    if (!o.quantized.empty()) {
        quantized = quant::load_quantized(o.quantized, weights, {.verify = o.verify, .source_model = res.model_path});
        hooks = quantized->hooks();
    }
    if (!o.act_format.empty()) {  // --act-format overrides the directory's; a quantized head's input gets it too
        act_hooks = quant::activation_hooks_for(o.act_format, quantized && quantized->head);
        hooks = &act_hooks;
    }
    const auto tokenizer = model::load_tokenizer(res.model_path);
    opt.ctx = o.ctx;
    opt.stride = o.stride;
    opt.max_chunks = o.max_chunks;
    res.bos = o.bos == "yes" || (o.bos == "auto" && model::model_adds_bos(res.model_path));
    opt.bos = res.bos ? tokenizer->bos_id() : -1;
    opt.progress = progress;
    const auto r = model::perplexity_of_text(weights, *tokenizer, res.text_path, opt, {.threads = o.threads, .hooks = hooks});
    res.result = r.result;
    res.text_tokens = r.text_tokens;
    res.seconds = r.seconds;
    res.tokens_per_s = r.seconds > 0 ? static_cast<double>(r.result.tokens_evaluated) / r.seconds : 0.0;
    return res;
}

}  // namespace halo::jobs
