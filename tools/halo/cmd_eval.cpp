// `halo eval`: perplexity of a model (or a quantized model) on a text.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "flags.hpp"
#include "menus.hpp"
#include "halo/jobs/eval_job.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "cuda_glue.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/util/json_view.hpp"
#include "streaming_glue.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {

namespace {

struct EvalFlags {
    std::string model;
    std::string text;
    int ctx = 512;
    int stride = 0;
    std::string method = "llamacpp";
    int max_chunks = -1;
    unsigned threads = 0;
    std::string quantized;
    std::string act_format;
    bool no_verify = false;  // --no-verify: trust the --quantized directory
    std::string bos = "auto";
    std::string json;  // "" none, "-" stdout, else a path
    bool quiet = false;
    CLI::Option* stride_flag = nullptr;
    StreamFlags stream;
    std::string device = "cpu";
    std::string cuda_math = "fp32";
};

int run_eval(const EvalFlags& f) {
    if (f.method != "hf") {
        const CLI::Option* const hf_only[] = {f.stride_flag};
        refuse_flags(hf_only, "to --ppl-method llamacpp (its chunks do not overlap)");
    }
    const NamedPath inputs[] = {{"--model", f.model}, {"--text", f.text}};
    require_not_input("--json", f.json, inputs);
    const std::filesystem::path model_path = model::resolve_model_path(jobs::eval_model_of(f.model, f.quantized));
    const std::filesystem::path text_path = f.text.empty() ? model::default_eval_text_path() : std::filesystem::path(f.text);
    model::set_blas_threads(f.threads);
    if (const auto gpu = cuda::parse_device(f.device)) {
        if (!f.quantized.empty() || f.stream.stream)
            throw_usage("E0017", "--device cuda evaluates a base model: no --quantized or --stream (yet)");
        require_valid_value("--act-format", [&] { (void)quant::activation_hooks_for(f.act_format); });  // exit 1 before any work
        CudaEvalArgs a{model_path, text_path, {}, *gpu, f.cuda_math == "tf32", f.json, f.quiet, f.act_format};
        a.options.method = model::parse_method(f.method);
        a.options.ctx = f.ctx;
        a.options.stride = f.stride;
        a.options.max_chunks = f.max_chunks;
        a.options.bos = f.bos == "yes" || (f.bos == "auto" && model::model_adds_bos(model_path)) ? 0 : -1;
        return run_cuda_eval(a);
    }
    if (f.cuda_math != "fp32") throw_usage("E0018", "--cuda-math applies to --device cuda only");
    require_valid_value("--act-format", [&] { (void)quant::activation_hooks_for(f.act_format); });  // exit 1 before any work
    if (f.stream.stream) {
        if (f.method != "llamacpp") throw_usage("E5605", "--stream runs the llamacpp method only (hf windows overlap)");
        StreamEvalArgs a{model_path, text_path, {}, f.threads, f.json, f.quiet, f.quantized, f.act_format};
        a.options.ctx = f.ctx;
        a.options.max_chunks = f.max_chunks;
        a.options.bos = f.bos == "yes" || (f.bos == "auto" && model::model_adds_bos(model_path)) ? 0 : -1;  // id set from the tokenizer
        a.verify = !f.no_verify;
        return run_streaming_eval(a, f.stream);
    }
    jobs::EvalJobOptions o;
    o.model = f.model, o.text = f.text, o.quantized = f.quantized, o.act_format = f.act_format, o.method = f.method, o.bos = f.bos;
    o.ctx = f.ctx, o.stride = f.stride, o.max_chunks = f.max_chunks, o.threads = f.threads;
    o.verify = !f.no_verify;
    const jobs::EvalJobResult r = jobs::run_eval_job(o, terminal_progress(f.quiet || f.json == "-"));
    const bool add_bos = r.bos;
    if (!f.json.empty()) {
        write_json_output(f.json, dump_json(r.json(), 2, f.json));
    }
    if (f.json != "-") {
        fmt::print("model: {} ({})\ntext: {} ({} tokens)\nmethod: {}, ctx {}{}, {} chunks, {} tokens scored{}\n",
                   r.model_path.string(), r.weights, r.text_path.string(), r.text_tokens,
                   model::method_name(r.result.method), r.result.ctx,
                   r.result.stride ? fmt::format(", stride {}", r.result.stride) : "", r.result.chunks,
                   r.result.tokens_scored, add_bos ? ", BOS added" : "");
        fmt::print("perplexity: {:.4f}\ntime: {:.1f} s ({:.1f} tokens/s)\n", r.result.perplexity, r.seconds,
                   r.tokens_per_s);
    }
    return 0;
}

}  // namespace

Command eval_command() {
    return {"eval", "perplexity of a model or quantized model on a text (llama.cpp or Hugging Face method)",
            [](CLI::App& app) -> std::function<int()> {
                auto f = std::make_shared<EvalFlags>();
                app.add_option("--model", f->model, "GGUF file, safetensors checkpoint dir, or an installed model: smollm2-135m (default), gemma3-270m; with --quantized the default is the directory's source model");
                app.add_option("--text", f->text, "UTF-8 text file (default: data/text/eval.txt)");
                app.add_option("--ctx", f->ctx, "tokens per chunk / window")->check(CLI::Range(4, 1 << 20));
                f->stride_flag = app.add_option("--stride", f->stride, "--ppl-method hf: window step (default ctx/2)")->check(integer_in(0, 1 << 20));
                app.add_option("--ppl-method", f->method,
                               "llamacpp: non-overlapping chunks, score the second half; hf: sliding window")
                    ->check(CLI::IsMember(perplexity_method_names()))
                    ->capture_default_str();
                app.add_option("--max-chunks", f->max_chunks, "evaluate at most this many chunks/windows (-1 all)")->check(all_or_count(1 << 30));
                app.add_option("--threads", f->threads, "BLAS threads (0 = all cores)")->check(integer_in(0, 4096));
                auto* quantized = app.add_option("--quantized", f->quantized, "quantized model directory (from halo quantize)");
                app.add_flag("--no-verify", f->no_verify, "--quantized: skip the SHA-256 checks of its files and source model")
                    ->needs(quantized);
                app.add_option("--act-format", f->act_format, "quantize activations: int8_per_token, amove-conservative, int4@g64+attn, ...");
                app.add_option("--bos", f->bos, "add BOS per chunk: auto (GGUF add_bos_token), yes, no")
                    ->check(CLI::IsMember({"auto", "yes", "no"}));
                add_json_option(app, f->json, "the result as JSON");
                app.add_flag("--quiet", f->quiet, "no progress display");
                add_stream_flags(app, f->stream);
                app.add_option("--device", f->device, "cpu (default), cuda or cuda:N (the CUDA forward; never falls back to cpu)");
                app.add_option("--cuda-math", f->cuda_math, "--device cuda GEMMs: fp32 (default, strict) or tf32 (tensor cores)")
                    ->check(CLI::IsMember({"fp32", "tf32"}));
                return [f] { return run_eval(*f); };
            }};
}

}  // namespace halo::cli
