// `halo quantize`: quantize a model's linear layers with one method and format, streaming the
// calibration block by block, and write a quantized model directory (docs/formats.md).
#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "halo/jobs/methods.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/parallel.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo_quantize_glue.hpp"
#include "streaming_glue.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {
namespace {

struct QuantizeFlags {
    std::string model, method = "rtn", format, scale_format, codebook, calib, out, sensitivity = "hessian", eval_text;
    int bits = 0, group = 0, samples = 32, seq_len = 256, block_size = 128, max_chunks = 8, ctx = 512;
    std::string tile, act_format;
    bool asym = false, force = false, act_order = false, quiet = false;
    double damp = 0.01;
    float sparse_fraction = 0.0f, smooth_alpha = 0.5f;
    unsigned threads = 0;
    HaloQuantizeFlags halo;  // --method halo (halo module)
    StreamFlags stream;      // --stream (streaming_glue)
};

quant::Granularity granularity_of(const QuantizeFlags& f) {
    if (!f.tile.empty()) {
        long r = 0, c = 0;
        char x = 0;
        std::istringstream in(f.tile);
        if (!(in >> r >> x >> c) || x != 'x' || r < 1 || c < 1 || !in.eof())
            throw_bad_value("E6001", "--tile", "tile shape must be ROWSxCOLS", "e.g. 128x128", f.tile);
        if (f.group) throw_bad_value("E6001", "--group", "--group and --tile exclude each other", "one of them", "both");
        return quant::Granularity::per_tile(r, c);
    }
    if (f.group < 0) throw_bad_value("E6001", "--group", "group size must be positive", ">= 1", fmt::format("{}", f.group));
    return f.group ? quant::Granularity::per_group(f.group) : quant::Granularity::per_channel();
}

std::string format_of(const QuantizeFlags& f) {
    if (f.bits && (f.bits < 2 || f.bits > 8))
        throw_bad_value("E6001", "--bits", "integer formats take 2 to 8 bits", "2..8", fmt::format("{}", f.bits));
    if (f.format.empty()) return quant::int_format_name(f.bits ? f.bits : 4, f.asym);
    const auto* fmt_row = quant::find_format(f.format);
    if (fmt_row && f.bits && fmt_row->element && quant::element_type(*fmt_row->element).bits != f.bits)
        throw_bad_value("E6001", "--bits", fmt::format("{} has {}-bit elements", f.format, quant::element_type(*fmt_row->element).bits),
                        fmt::format("{} or no --bits", quant::element_type(*fmt_row->element).bits), fmt::format("{}", f.bits));
    return f.format;
}

quant::Codebook codebook_of(const std::string& text) {
    if (text.empty()) return {};
    std::vector<float> v;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            v.push_back(std::stof(item));
        } catch (const std::exception&) {
            throw_bad_value("E6002", "--codebook", "codebook entry is not a number", "comma-separated numbers", item);
        }
    }
    std::sort(v.begin(), v.end());
    return quant::Codebook(std::move(v));
}

double peak_rss_mb() {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
}

// The method table, filled once, explicitly, from the program's start (jobs::register_methods).
const quant::MethodRegistry& method_registry() {
    static const quant::MethodRegistry registry = [] {
        quant::MethodRegistry r;
        jobs::register_methods(r);
        return r;
    }();
    return registry;
}

// A method-specific flag the chosen method does not take is a usage error (exit 1), never ignored.
void check_flags_apply(const CLI::App& app, const quant::MethodTraits& row) {
    for (const auto flag : quant::method_specific_flags()) {
        std::size_t given = 0;
        try {
            given = app.count(std::string(flag));
        } catch (const CLI::OptionNotFound&) {
            continue;  // a flag of another command
        }
        if (given == 0) continue;
        if (std::find(row.flags.begin(), row.flags.end(), flag) != row.flags.end()) continue;
        std::string takes;
        for (const auto g : row.flags) takes += fmt::format("{}{}", takes.empty() ? "" : " ", g);
        throw_usage("E6035", fmt::format("{} does not apply to --method {} (it takes: {})", flag, row.name, takes));
    }
}

int run_quantize(const QuantizeFlags& f, const CLI::App& app) {
    const auto& row = method_registry().find(f.method);  // E6007 lists every registered method
    check_flags_apply(app, row);
    if (row.id == quant::Method::halo)
        return run_halo_quantize({f.model, f.calib, f.out, f.tile, f.sensitivity, f.eval_text, f.samples, f.seq_len, f.ctx,
                                  f.max_chunks, f.block_size, f.damp, f.force, f.quiet, f.threads, f.stream},
                                 f.halo);
    const auto t0 = std::chrono::steady_clock::now();
    if (f.out.empty()) throw_usage("E6009", "--out DIR is required");
    if (!f.force && std::filesystem::exists(f.out))
        throw_bad_value("E6009", f.out, "output directory exists", "a new directory", "an existing one", "pass --force to replace it");
    const std::filesystem::path model_path = model::resolve_model_path(f.model);
    model::set_blas_threads(f.threads);

    quant::QuantizeOptions opt;
    const auto& meth = row;
    opt.method = meth.id;
    opt.format = format_of(f);
    opt.granularity = granularity_of(f);
    if (!f.scale_format.empty()) {
        const auto* sf = quant::find_scale_format(f.scale_format);
        if (!sf) throw_bad_value("E6001", "--scale-format", "unknown scale format", "fp16, e8m0, e4m3, fp32", f.scale_format);
        opt.scale = sf->id;
    }
    opt.codebook = codebook_of(f.codebook);
    opt.gptq.block_size = f.block_size;
    opt.gptq.damp = f.damp;
    opt.gptq.act_order = f.act_order;
    opt.kmeans.sparse_fraction = f.sparse_fraction;
    opt.kmeans_fisher = f.sensitivity == "fisher";
    opt.smooth_alpha = f.smooth_alpha;
    opt.threads = resolve_threads(f.threads);
    opt.progress = terminal_progress(f.quiet);
    const auto spec = quant::make_spec(opt.format, opt.granularity, opt.scale, opt.codebook);  // bad flags fail before loading
    if (meth.error_feedback) quant::check_error_feedback(spec, meth.name);
    if (f.stream.stream) {
        if (!f.eval_text.empty() || !f.act_format.empty() || opt.kmeans_fisher)
            throw_usage("E6141", "--stream does not combine with --eval, --act-format or --sensitivity fisher (yet)");
        return run_streaming_quantize({model_path, f.calib, f.out, f.samples, f.seq_len, f.force, f.quiet,
                                       {{"method", f.method}, {"format", opt.format}, {"granularity", opt.granularity.describe()},
                                        {"act_order", f.act_order}, {"damp", f.damp}, {"block_size", f.block_size},
                                        {"sparse_fraction", f.sparse_fraction}, {"smooth_alpha", f.smooth_alpha},
                                        {"sensitivity", f.sensitivity}, {"threads", opt.threads}}},
                                      opt, f.stream);
    }

    model::ModelWeights weights = model::load_model(model_path);
    const bool needs_calib = meth.needs_gram || meth.needs_channel_stats || opt.method == quant::Method::kmeans;
    std::unique_ptr<quant::LayerwiseSource> source;
    std::vector<std::array<model::Matrix, 7>> fisher;
    nlohmann::json calib_info = nullptr;
    std::unique_ptr<model::Tokenizer> tokenizer;
    if (needs_calib || !f.eval_text.empty()) tokenizer = model::load_tokenizer(model_path);
    if (needs_calib) {
        const std::filesystem::path calib_path = f.calib.empty() ? model::default_calib_text_path() : std::filesystem::path(f.calib);
        const auto tokens = tokenizer->encode(read_file(calib_path), false);
        auto samples = quant::calibration_samples(tokens, f.samples, f.seq_len, calib_path.string());
        calib_info = {{"file", calib_path.string()}, {"samples", f.samples}, {"seq_len", f.seq_len},
                      {"tokens", static_cast<std::int64_t>(f.samples) * f.seq_len}};
        if (opt.kmeans_fisher) fisher = model::fisher_diagonal(weights, samples, opt.threads, terminal_progress(f.quiet));
        source = std::make_unique<quant::LayerwiseSource>(weights, std::move(samples), opt.threads);
    }
    auto qm = quant::quantize_model(weights, opt, source.get(), fisher.empty() ? nullptr : &fisher);
    if (!f.act_format.empty()) qm.activation_format = f.act_format;  // weight-activation mode (e.g. Amove W4A4)

    quant::RunInfo info;  // date, version, commit and command line from util/provenance
    info.source_model = std::filesystem::absolute(model_path).string();
    info.source_format = weights.source_format;
    info.calibration = calib_info;
    info.flags = {{"method", f.method}, {"format", opt.format}, {"granularity", opt.granularity.describe()},
                  {"act_order", f.act_order}, {"damp", f.damp}, {"block_size", f.block_size},
                  {"sparse_fraction", f.sparse_fraction}, {"smooth_alpha", f.smooth_alpha},
                  {"sensitivity", f.sensitivity}, {"threads", opt.threads}};
    nlohmann::json eval = nullptr;
    if (!f.eval_text.empty()) {
        const auto hooks = quant::activation_hooks_for(qm.activation_format);
        model::PerplexityOptions po;
        po.ctx = f.ctx;
        po.max_chunks = f.max_chunks;
        po.bos = model::model_adds_bos(model_path) ? tokenizer->bos_id() : -1;
        po.progress = terminal_progress(f.quiet);
        const auto r = model::perplexity_of_text(weights, *tokenizer, f.eval_text, po,
                                                 {.threads = f.threads, .hooks = qm.activation_format.empty() ? nullptr : &hooks});
        eval = {{"text", f.eval_text}, {"perplexity", r.result.perplexity}, {"ctx", f.ctx}, {"chunks", r.result.chunks},
                {"tokens_scored", r.result.tokens_scored}};
    }
    info.flags["peak_rss_mb"] = peak_rss_mb();
    info.flags["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!eval.is_null()) info.flags["eval"] = eval;
    quant::write_quantized_dir(f.out, qm, opt, info, f.force);
    fmt::print("{}: {} {} -> {}\nbits per weight (linears, with scales/zeros/extras): {:.4f}\nquantization time: {:.1f} s, "
               "peak memory {:.0f} MiB\n",
               model_path.filename().string(), qm.method, qm.spec, f.out, qm.bits.bits_per_weight(), qm.seconds, peak_rss_mb());
    if (!eval.is_null())
        fmt::print("perplexity: {:.4f} ({} chunks of {} tokens of {})\n", eval["perplexity"].get<double>(),
                   eval["chunks"].get<int>(), f.ctx, f.eval_text);
    return 0;
}

}  // namespace

Command quantize_command() {
    return {"quantize", "quantize a model's linear layers (RTN, GPTQ, AWQ, k-means, SmoothQuant, HALO) into a directory",
            [](CLI::App& app) -> std::function<int()> {
                auto f = std::make_shared<QuantizeFlags>();
                app.add_option("--model", f->model, "GGUF file, safetensors checkpoint dir, or an installed model: smollm2-135m (default), gemma3-270m");
                app.add_option("--method", f->method, method_registry().names());
                app.add_option("--format", f->format,
                               "int2..int8[-asym], fp8-e4m3, fp8-e5m2, fp6-e3m2, fp6-e2m3, fp4-e2m1, mxint8, mxfp8, mxfp6, "
                               "mxfp4, mxfp3[-e1m1], nvfp4, codebook[-asym], amove-*, bitmod-fp4, bitmod-fp3 (g128), ant4, olive4 "
                               "(RTN only) (default int<bits>)");
                app.add_option("--bits", f->bits, "integer bits when no --format (default 4); k-means codebook bits");
                app.add_flag("--asym", f->asym, "with --bits: asymmetric (zero point)");
                app.add_option("--group", f->group, "group size along the input dim (absent: per output channel)");
                app.add_option("--tile", f->tile, "per-tile scales, ROWSxCOLS (the systolic array's tile)");
                app.add_option("--scale-format", f->scale_format, "fp16 (default), e8m0, e4m3, fp32");
                app.add_option("--codebook", f->codebook, "codebook values, comma-separated (codebook formats)");
                app.add_option("--calib", f->calib, "calibration text (default: data/text/calib.txt)");
                app.add_option("--samples", f->samples, "calibration samples");
                app.add_option("--seq-len", f->seq_len, "tokens per calibration sample");
                app.add_option("--out", f->out, "output directory")->required();
                app.add_flag("--force", f->force, "replace an existing --out");
                app.add_option("--threads", f->threads, "threads (0 = all cores)");
                app.add_flag("--act-order", f->act_order, "gptq: quantize columns by decreasing Hessian diagonal");
                app.add_option("--damp", f->damp, "gptq: dampening, fraction of the mean Hessian diagonal");
                app.add_option("--block-size", f->block_size, "gptq: lazy-update block");
                app.add_option("--sparse-fraction", f->sparse_fraction, "kmeans: fraction of weights kept in FP16");
                app.add_option("--sensitivity", f->sensitivity, "kmeans: hessian (Gram diagonal) or fisher")
                    ->check(CLI::IsMember({"hessian", "fisher"}));
                app.add_option("--smooth-alpha", f->smooth_alpha, "smoothquant: migration strength");
                app.add_option("--act-format", f->act_format, "quantize activations in the forward pass: int8_per_token, amove-conservative, int4@g64+attn, ... (docs/design/amove.md)");
                app.add_option("--eval", f->eval_text, "after quantizing, perplexity of the result on this text");
                app.add_option("--max-chunks", f->max_chunks, "--eval: chunks to score (-1 all)");
                app.add_option("--ctx", f->ctx, "--eval: tokens per chunk");
                app.add_flag("--quiet", f->quiet, "no progress display");
                add_halo_quantize_flags(app, f->halo);
                add_stream_flags(app, f->stream);
                return [f, &app] { return run_quantize(*f, app); };
            }};
}

}  // namespace halo::cli
