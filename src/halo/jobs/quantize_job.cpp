#include "halo/jobs/quantize_job.hpp"

#include <algorithm>
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "halo/jobs/methods.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/device_backend.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/memory_usage.hpp"
#include "halo/util/parallel.hpp"
#include "halo/util/shape.hpp"

namespace halo::jobs {

namespace {

quant::Granularity granularity_of(const QuantizeJobOptions& o) {
    if (!o.tile.empty()) {
        const ShapeRc tile = parse_shape_rc("--tile", o.tile);
        if (o.group) throw_bad_value("E6001", "--group", "--group and --tile exclude each other", "one of them", "both");
        return quant::Granularity::per_tile(tile.rows, tile.cols);
    }
    if (o.group < 0) throw_bad_value("E6001", "--group", "group size must be positive", ">= 1", fmt::format("{}", o.group));
    return o.group ? quant::Granularity::per_group(o.group) : quant::Granularity::per_channel();
}

std::string format_of(const QuantizeJobOptions& o) {
    if (o.bits && (o.bits < 2 || o.bits > 8))
        throw_bad_value("E6001", "--bits", "integer formats take 2 to 8 bits", "2..8", fmt::format("{}", o.bits));
    if (o.format.empty()) return quant::int_format_name(o.bits ? o.bits : 4, o.asym);
    const auto* row = quant::find_format(o.format);
    if (row && o.bits && row->element && quant::element_type(*row->element).bits != o.bits)
        throw_bad_value("E6001", "--bits", fmt::format("{} has {}-bit elements", o.format, quant::element_type(*row->element).bits),
                        fmt::format("{} or no --bits", quant::element_type(*row->element).bits), fmt::format("{}", o.bits));
    return o.format;
}

}  // namespace

quant::QuantizeOptions table_quantize_options(const QuantizeJobOptions& o, const quant::MethodTraits& row) {
    quant::QuantizeOptions opt;
    opt.method = row.id;
    opt.format = format_of(o);
    opt.granularity = granularity_of(o);
    if (!o.scale_format.empty()) {
        const auto* sf = quant::find_scale_format(o.scale_format);
        if (!sf) throw_bad_value("E6001", "--scale-format", "unknown scale format", "fp16, e8m0, e4m3, fp32", o.scale_format);
        opt.scale = sf->id;
    }
    if (!o.codebook.empty()) {
        std::vector<float> values = o.codebook;
        std::sort(values.begin(), values.end());
        opt.codebook = quant::Codebook(std::move(values));
    }
    opt.gptq.block_size = o.block_size;
    opt.gptq.damp = o.damp;
    opt.gptq.act_order = o.act_order;
    opt.calib_inputs = quant::calibration_inputs(o.calib_inputs).id;  // E6195
    if (opt.calib_inputs == quant::CalibrationInputs::unquantized &&
        !(row.needs_gram || row.needs_channel_stats || row.id == quant::Method::kmeans))
        throw_usage("E6196", fmt::format("--calib-inputs applies to methods that calibrate; {} reads no calibration", row.name));
    opt.kmeans.sparse_fraction = o.sparse_fraction;
    if (o.sensitivity != "hessian" && o.sensitivity != "fisher")
        throw_bad_value("E6001", "--sensitivity", "unknown sensitivity", "hessian or fisher", o.sensitivity);
    opt.kmeans_fisher = o.sensitivity == "fisher";
    opt.smooth_alpha = o.smooth_alpha;
    opt.threads = resolve_threads(o.threads);
    const auto spec = quant::make_spec(opt.format, opt.granularity, opt.scale, opt.codebook);  // bad options fail before loading
    if (row.error_feedback) quant::check_error_feedback(spec, row.name);
    return opt;
}

nlohmann::json table_method_flags(const QuantizeJobOptions& o, const quant::QuantizeOptions& opt) {
    return {{"method", o.method}, {"format", opt.format}, {"granularity", opt.granularity.describe()},
            {"act_order", o.act_order}, {"damp", o.damp}, {"block_size", o.block_size}, {"calib_inputs", o.calib_inputs},
            {"sparse_fraction", o.sparse_fraction}, {"smooth_alpha", o.smooth_alpha},
            {"sensitivity", o.sensitivity}, {"threads", opt.threads},
            {"device", o.device ? o.device->placement(o.method) : nlohmann::json("cpu")}};
}

void check_calib_int8_inputs(const QuantizeJobOptions& o) {
    if (o.calib_int8_inputs && o.device)
        throw_usage("E6197", "--calib-int8-inputs calibrates through the CPU forward's activation hooks; the device "
                             "calibration has none (quantize without --device)");
}

QuantizeJobResult run_quantize_job(const QuantizeJobOptions& options, const JobCallbacks& callbacks) {
    check_calib_int8_inputs(options);  // every method's job, before any work
    return method_table().find(options.method).job(options, callbacks);  // E6007 lists every method
}

QuantizeJobResult run_table_quantize(const QuantizeJobOptions& o, const JobCallbacks& cb) {
    const auto t0 = std::chrono::steady_clock::now();
    const quant::MethodTraits& row = method_table().find(o.method).traits;
    if (o.out_dir.empty()) throw_usage("E6009", "--out DIR is required");
    if (o.min_expert_tokens < 0)
        throw_bad_flag("E6163", "--min-expert-tokens", "the expert coverage threshold is a token count", ">= 0",
                       std::to_string(o.min_expert_tokens));
    if (!o.force && std::filesystem::exists(o.out_dir))
        throw_bad_value("E6009", o.out_dir.string(), "output directory exists", "a new directory", "an existing one",
                        "pass --force to replace it");
    const std::filesystem::path model_path = model::resolve_model_path(o.model);
    model::set_blas_threads(o.threads);
    quant::QuantizeOptions opt = table_quantize_options(o, row);
    opt.progress = cb.progress;
    opt.device = o.device;

    model::ModelWeights weights = model::load_model(model_path);
    const bool needs_calib = row.needs_gram || row.needs_channel_stats || opt.method == quant::Method::kmeans;
    if (o.min_expert_tokens_given && !(weights.config.moe() && needs_calib))
        throw_usage("E6164", "--min-expert-tokens applies to a mixture-of-experts model quantized with calibration (gptq, awq, kmeans)");
    const auto int8_hooks = quant::activation_hooks_for("int8_per_token");  // --calib-int8-inputs (outlives the source)
    std::unique_ptr<quant::CalibrationSource> source;
    model::FisherDiagonal fisher;
    nlohmann::json calib_info = nullptr;
    std::unique_ptr<model::Tokenizer> tokenizer;
    if (needs_calib || !o.eval_text.empty()) tokenizer = model::load_tokenizer(model_path);
    if (needs_calib) {
        const std::filesystem::path calib_path = o.calib_text.empty() ? model::default_calib_text_path() : o.calib_text;
        const auto tokens = tokenizer->encode(read_file(calib_path), false);
        auto samples = quant::calibration_samples(tokens, o.samples, o.seq_len, calib_path.string());
        calib_info = {{"file", calib_path.string()}, {"samples", o.samples}, {"seq_len", o.seq_len},
                      {"tokens", static_cast<std::int64_t>(o.samples) * o.seq_len},
                      {"inputs", o.calib_int8_inputs ? "int8_per_token" : "fp32"}};
        if (opt.kmeans_fisher)  // the backward passes on the device when there is one; k-means never reads the head's entries
            fisher = quant::fisher_diagonal_on(o.device, weights, samples, opt.threads, cb.progress, model::HeadGradient::skip);
        if (o.device)
            source = o.device->calibration(weights, samples);
        else
            source = std::make_unique<quant::LayerwiseSource>(weights, std::move(samples), opt.threads,
                                                              o.calib_int8_inputs ? &int8_hooks : nullptr);
    }
    auto qm = quant::quantize_model(weights, opt, source.get(), fisher.empty() ? nullptr : &fisher);
    if (!o.act_format.empty()) qm.activation_format = o.act_format;  // weight-activation mode (e.g. Amove W4A4)

    quant::RunInfo info;  // date, version, commit and command line from util/provenance
    info.source_model = std::filesystem::absolute(model_path).string();
    info.source_format = weights.source_format;
    info.calibration = calib_info;
    info.flags = table_method_flags(o, opt);
    if (weights.config.moe()) info.flags["min_expert_tokens"] = o.min_expert_tokens;
    if (o.device && !o.eval_text.empty()) info.flags["device"]["eval"] = "cpu";
    source.reset();  // frees the device's hidden states before the peak is read
    QuantizeJobResult res;
    nlohmann::json eval = nullptr;
    if (!o.eval_text.empty()) {
        const auto hooks = quant::activation_hooks_for(qm.activation_format);
        model::PerplexityOptions po;
        po.ctx = o.ctx;
        po.max_chunks = o.max_chunks;
        po.bos = model::model_adds_bos(model_path) ? tokenizer->bos_id() : -1;
        po.progress = cb.progress;
        const auto r = model::perplexity_of_text(weights, *tokenizer, o.eval_text, po,
                                                 {.threads = o.threads, .hooks = qm.activation_format.empty() ? nullptr : &hooks});
        eval = {{"text", o.eval_text.string()}, {"perplexity", r.result.perplexity}, {"ctx", o.ctx}, {"chunks", r.result.chunks},
                {"tokens_scored", r.result.tokens_scored}};
        res.perplexity = r.result.perplexity;
        res.eval_chunks = r.result.chunks;
    }
    info.flags["peak_rss_mb"] = peak_rss_mib();
    if (o.device) info.flags["peak_gpu_gib"] = o.device->peak_device_gib();
    info.flags["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!eval.is_null()) info.flags["eval"] = eval;
    quant::write_quantized_dir(o.out_dir, qm, opt, info, o.force);

    res.method = qm.method;
    res.model_path = model_path;
    res.model_name = weights.config.name;
    res.spec = qm.spec;
    res.bits_per_weight = qm.bits.bits_per_weight();
    res.quantize_seconds = qm.seconds;
    res.peak_rss_mib = peak_rss_mib();
    res.expert_tokens = qm.expert_tokens;
    res.n_experts = weights.config.n_experts;
    res.n_experts_used = weights.config.n_experts_used;
    return res;
}

}  // namespace halo::jobs
