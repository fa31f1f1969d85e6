#include "cuda_glue.hpp"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/cuda/cuda_model.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/memory_usage.hpp"
#include "halo/util/provenance.hpp"
#include "halo/util/json_view.hpp"
#include "flags.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {

int run_cuda_eval(const CudaEvalArgs& a) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto since = [](auto t) { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count(); };
    const cuda::ActivationQuant act = cuda::device_activation_quant(a.act_format);  // every format the CPU takes
    cuda::open_device(a.device);  // fail before reading anything when there is no GPU
    const model::LazyModel source(a.model_path);
    const auto tokenizer = model::load_tokenizer(a.model_path);
    const auto tokens = tokenizer->encode(read_file(a.text_path), false);
    model::PerplexityOptions po = a.options;
    if (po.bos >= 0) po.bos = tokenizer->bos_id();
    po.text_name = a.text_path.string();
    po.progress = terminal_progress(a.quiet || a.json == "-");
    cuda::CudaModel gpu(source, a.device, po.ctx, terminal_progress(a.quiet || a.json == "-"), a.tf32);
    gpu.set_activation_quant(act);
    const double load_s = since(t0);
    const auto ts = std::chrono::steady_clock::now();
    const model::NllFn fn = [&](std::span<const std::int32_t> window, std::int64_t first_target, std::int64_t end_target) {
        return gpu.next_token_nll(window, first_target, end_target);
    };
    const auto r = model::perplexity(fn, tokens, po);
    const double seconds = since(ts);
    const double tokens_per_s = seconds > 0 ? static_cast<double>(r.tokens_evaluated) / seconds : 0.0;
    const double gib = 1 << 30;
    if (!a.json.empty()) {
        nlohmann::json j = {{"perplexity", r.perplexity},
                                  {"nll_sum", r.nll_sum},
                                  {"tokens_scored", r.tokens_scored},
                                  {"tokens_evaluated", r.tokens_evaluated},
                                  {"text_tokens", tokens.size()},
                                  {"method", std::string(model::method_name(r.method))},
                                  {"ctx", r.ctx},
                                  {"stride", r.stride},
                                  {"chunks", r.chunks},
                                  {"bos", po.bos >= 0},
                                  {"model", a.model_path.string()},
                                  {"weights", source.source_format()},
                                  {"text", a.text_path.string()},
                                  {"device", fmt::format("cuda:{} {}", gpu.device().index, gpu.device().name)},
                                  {"gemm_math", a.tf32 ? "tf32" : "fp32"},
                                  {"act_format", a.act_format},
                                  {"seconds", seconds},
                                  {"load_s", load_s},
                                  {"tokens_per_s", tokens_per_s},
                                  {"gpu_allocated_gib", static_cast<double>(gpu.device_bytes()) / gib},
                                  {"gpu_peak_used_gib", static_cast<double>(gpu.peak_device_bytes()) / gib},
                                  {"peak_rss_mb", peak_rss_mib()}};
        j.update(provenance_json(current_provenance()));  // date, halo_version, git_commit, command
        write_json_output(a.json, dump_json(j, 2, a.json));
    }
    if (a.json != "-") {
        fmt::print("model: {} ({}) on cuda:{} {} ({} GEMMs{})\ntext: {} ({} tokens)\nmethod: {}, ctx {}, {} chunks, {} tokens scored\n",
                   a.model_path.string(), source.source_format(), gpu.device().index, gpu.device().name, a.tf32 ? "TF32" : "FP32",
                   a.act_format.empty() ? "" : fmt::format(", activations {}", a.act_format), a.text_path.string(),
                   tokens.size(), model::method_name(r.method), r.ctx, r.chunks, r.tokens_scored);
        fmt::print("perplexity: {:.4f}\ntime: {:.1f} s ({:.1f} tokens/s), upload {:.1f} s\n"
                   "GPU memory: {:.2f} GiB allocated, {:.2f} GiB in use at peak; peak host memory {:.0f} MiB\n",
                   r.perplexity, seconds, tokens_per_s, load_s, static_cast<double>(gpu.device_bytes()) / gib,
                   static_cast<double>(gpu.peak_device_bytes()) / gib, peak_rss_mib());
    }
    return 0;
}

}  // namespace halo::cli
