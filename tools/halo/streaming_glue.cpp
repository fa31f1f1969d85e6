#include "streaming_glue.hpp"

#include <algorithm>
#include <chrono>
#include <optional>

#include <fmt/format.h>

#include "halo/model/blas.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/streaming_perplexity.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/device_backend.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/streaming_quantizer.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/memory_usage.hpp"
#include "halo/util/provenance.hpp"
#include "halo/util/json_view.hpp"
#include "flags.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {
namespace {

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::int64_t budget_bytes(const StreamFlags& s) { return static_cast<std::int64_t>(s.activation_budget_mb) << 20; }

}  // namespace

void add_stream_flags(CLI::App& app, StreamFlags& f) {
    app.add_flag("--stream", f.stream, "keep one decoder block resident (models larger than memory)");
    app.add_option("--activation-budget-mb", f.activation_budget_mb,
                   "--stream: hidden states kept in memory up to this size, else spilled to a file (default 2048)")
        ->check(integer_in(0, 1 << 24));
    app.add_option("--spill-dir", f.spill_dir, "--stream: directory for the activation spill file (default: system temp)");
}

int run_streaming_quantize(const StreamQuantizeArgs& a, const quant::QuantizeOptions& opt, const StreamFlags& s) {
    const auto t0 = std::chrono::steady_clock::now();
    const model::LazyModel source(a.model_path);
    const auto& meth = quant::methods()[static_cast<std::size_t>(opt.method)];
    const bool needs_calib = meth.needs_gram || meth.needs_channel_stats || opt.method == quant::Method::kmeans;
    quant::StreamingQuantizeOptions so;
    so.quantize = opt;
    so.activation_budget_bytes = budget_bytes(s);
    so.spill_dir = s.spill_dir;
    so.block_progress = terminal_progress(a.quiet);
    const int n_blocks = source.config().n_layers;
    if (!a.quiet)
        so.block_done = [&](int l, const quant::PhaseSeconds& p) {
            fmt::print(stderr, "\nhalo: block {}/{} done at {:.1f} s; time so far: {}\n", l + 1, n_blocks, since(t0), p.describe());
        };
    nlohmann::json calib_info = nullptr;
    if (needs_calib) {
        const auto tokenizer = model::load_tokenizer(a.model_path);
        const std::filesystem::path calib_path = a.calib.empty() ? model::default_calib_text_path() : std::filesystem::path(a.calib);
        const auto tokens = tokenizer->encode(read_file(calib_path), false);
        so.samples = quant::calibration_samples(tokens, a.samples, a.seq_len, calib_path.string());
        calib_info = {{"file", calib_path.string()}, {"samples", a.samples}, {"seq_len", a.seq_len},
                      {"tokens", static_cast<std::int64_t>(a.samples) * a.seq_len},
                      {"inputs", a.calib_int8_inputs ? "int8_per_token" : "fp32"}};
    }
    const auto int8_hooks = quant::activation_hooks_for("int8_per_token");
    if (a.calib_int8_inputs) so.calib_hooks = &int8_hooks;
    quant::QuantizedDirWriter out(a.out, a.force);
    const auto r = quant::quantize_streaming(source, so, out);
    quant::RunInfo info;
    info.source_model = std::filesystem::absolute(a.model_path).string();
    info.source_format = source.source_format();
    info.calibration = calib_info;
    info.flags = a.flags;
    info.flags["stream"] = {{"blocks", r.blocks},
                            {"activation_bytes", r.activation_bytes},
                            {"activations_spilled", r.activations_spilled},
                            {"block_fp32_bytes", source.layer_bytes()},
                            {"phase_seconds", {{"load", r.phases.load}, {"capture", r.phases.capture},
                                               {"gram_host", r.phases.gram_host}, {"gptq_factor", r.phases.factor},
                                               {"gptq_columns", r.phases.columns}, {"gptq_update", r.phases.update},
                                               {"output_error", r.phases.output_error}, {"decode", r.phases.decode},
                                               {"advance", r.phases.advance}, {"write", r.phases.write}}}};
    info.flags["peak_rss_mb"] = peak_rss_mib();
    if (opt.device) info.flags["peak_gpu_gib"] = opt.device->peak_device_gib();
    info.flags["wall_s"] = since(t0);
    out.finish(r.totals, opt, info);
    if (opt.device && opt.method == quant::Method::rtn)
        fmt::print("device: {} opened, unused (RTN needs no calibration; it ran on the CPU)\n", opt.device->describe());
    else if (opt.device)
        fmt::print("device: {} (calibration{} on the GPU, peak {:.2f} GiB in use; the rest on the CPU)\n", opt.device->describe(),
                   opt.method == quant::Method::gptq ? " and GPTQ's algebra" : "", opt.device->peak_device_gib());
    fmt::print("{}: {} {} -> {} (streamed, {} blocks, one resident: {:.0f} MiB FP32)\n"
               "bits per weight (linears, with scales/zeros/extras): {:.4f}\n"
               "calibration: {} tokens, hidden states {:.0f} MiB {}\n"
               "quantization time: {:.1f} s ({:.1f} s per block), wall {:.1f} s, peak host memory {:.0f} MiB\n"
               "time by phase: {}\n",
               a.model_path.filename().string(), r.totals.method, r.totals.spec, a.out, r.blocks,
               static_cast<double>(source.layer_bytes()) / (1 << 20), r.totals.bits.bits_per_weight(), r.calibration_tokens,
               static_cast<double>(r.activation_bytes) / (1 << 20), opt.device ? "(on the GPU)" : r.activations_spilled ? "(spilled to disk)" : "(in memory)",
               r.totals.seconds, r.totals.seconds / std::max(1, r.blocks), since(t0), peak_rss_mib(), r.phases.describe());
    return 0;
}

int run_streaming_eval(const StreamEvalArgs& a, const StreamFlags& s) {
    const auto t0 = std::chrono::steady_clock::now();
    const model::LazyModel source(a.model_path);
    const auto tokenizer = model::load_tokenizer(a.model_path);
    const auto tokens = tokenizer->encode(read_file(a.text_path), false);
    model::PerplexityOptions po = a.options;
    if (po.bos >= 0) po.bos = tokenizer->bos_id();
    po.text_name = a.text_path.string();
    model::StreamingEvalOptions so;
    so.threads = a.threads;
    so.activation_budget_bytes = budget_bytes(s);
    so.spill_dir = s.spill_dir;
    so.block_progress = terminal_progress(a.quiet || a.json == "-");
    // A quantized directory: each block's decoded codes replace its weights as it is materialised;
    // only that block's .hqt files are read. Activation quantizers: --act-format, else the
    // directory's own format (SmoothQuant, HALO: INT8 per token), as the in-memory eval does.
    std::optional<quant::QuantizedDirReader> qdir;
    if (!a.quantized.empty()) {
        qdir.emplace(a.quantized, source.config().n_layers, a.verify);
        if (a.verify) quant::check_source_model(qdir->manifest(), a.quantized / "manifest.json", a.model_path);
        so.transform_block = [&](int layer, model::LayerWeights& w) { qdir->apply_block(layer, w); };
        so.transform_head = [&](model::ModelWeights& w) { qdir->apply_head(w); };  // a quantized LM head (HALO)
    }
    const std::string act_format = !a.act_format.empty() ? a.act_format : qdir ? qdir->activation_format() : std::string();
    const model::ForwardHooks hooks = quant::activation_hooks_for(act_format, qdir && qdir->has_head());
    if (!act_format.empty()) so.hooks = &hooks;
    const auto ts = std::chrono::steady_clock::now();
    const auto r = model::streaming_perplexity(source, tokens, po, so);
    const double seconds = since(ts);
    const double tokens_per_s = seconds > 0 ? static_cast<double>(r.result.tokens_evaluated) / seconds : 0.0;
    if (!a.json.empty()) {
        nlohmann::json j = {{"perplexity", r.result.perplexity},    {"nll_sum", r.result.nll_sum},
                                  {"tokens_scored", r.result.tokens_scored}, {"tokens_evaluated", r.result.tokens_evaluated},
                                  {"text_tokens", tokens.size()},          {"method", "llamacpp"},
                                  {"ctx", r.result.ctx},                   {"chunks", r.result.chunks},
                                  {"bos", po.bos >= 0},                    {"model", a.model_path.string()},
                                  {"weights", source.source_format()},     {"text", a.text_path.string()},
                                  {"threads", a.threads},                  {"cpu_gemm", model::gemm_kernel_name()},
                                  {"seconds", seconds},
                                  {"tokens_per_s", tokens_per_s},          {"streamed", true},                      {"quantized", a.quantized.string()},
                                  {"act_format", act_format},             {"blocks", source.config().n_layers},
                                  {"activations_spilled", r.activations_spilled},
                                  {"peak_rss_mb", peak_rss_mib()},         {"wall_s", since(t0)}};
        j.update(provenance_json(current_provenance()));  // date, halo_version, git_commit, command
        write_json_output(a.json, dump_json(j, 2, a.json));
    }
    if (a.json != "-") {
        fmt::print("model: {} ({}, streamed block by block{})\ntext: {} ({} tokens)\nmethod: llamacpp, ctx {}, {} chunks, {} tokens scored{}\n",
                   a.model_path.string(), source.source_format(),
                   a.quantized.empty() ? "" : fmt::format(", quantized {}", a.quantized.string()) +
                                              (act_format.empty() ? "" : fmt::format(", activations {}", act_format)),
                   a.text_path.string(), tokens.size(), r.result.ctx, r.result.chunks, r.result.tokens_scored,
                   po.bos >= 0 ? ", BOS added" : "");
        const int blocks = source.config().n_layers;
        fmt::print("perplexity: {:.4f}\ntime: {:.1f} s ({:.1f} tokens/s; {} blocks, {:.1f} s per block), hidden states {:.0f} MiB {}, "
                   "peak host memory {:.0f} MiB\n",
                   r.result.perplexity, seconds, tokens_per_s, blocks, seconds / std::max(1, blocks),
                   static_cast<double>(r.activation_bytes) / (1 << 20), r.activations_spilled ? "(spilled)" : "(in memory)",
                   peak_rss_mib());
    }
    return 0;
}

}  // namespace halo::cli
