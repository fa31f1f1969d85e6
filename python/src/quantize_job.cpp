// halo.quantize: the quantize job of `halo quantize` (tools/halo/cmd_quantize.cpp and
// halo_quantize_glue.cpp) over the library, returning the manifest instead of printing.
#include <algorithm>
#include <chrono>
#include <memory>

#include <fmt/format.h>

#include "halo/hwq/assign.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/hwq/sensitivity.hpp"
#include "halo/jobs/run_job.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"
#include "jobs_adapter.hpp"

namespace halo::python {

namespace {

quant::Granularity granularity_of(const QuantizeJob& j) {
    if (!j.tile.empty()) {
        long r = 0, c = 0;
        char x = 0;
        if (std::sscanf(j.tile.c_str(), "%ld%c%ld", &r, &x, &c) != 3 || x != 'x' || r < 1 || c < 1 ||
            j.tile.find_first_not_of("0123456789x") != std::string::npos)
            throw_bad_value("E6001", "tile", "tile shape must be ROWSxCOLS", "e.g. 128x128", j.tile);
        if (j.group) throw_bad_value("E6001", "group", "group and tile exclude each other", "one of them", "both");
        return quant::Granularity::per_tile(r, c);
    }
    if (j.group < 0) throw_bad_value("E6001", "group", "group size must be positive", ">= 1", fmt::format("{}", j.group));
    return j.group ? quant::Granularity::per_group(j.group) : quant::Granularity::per_channel();
}

std::string format_of(const QuantizeJob& j) {
    if (j.bits && (j.bits < 2 || j.bits > 8))
        throw_bad_value("E6001", "bits", "integer formats take 2 to 8 bits", "2..8", fmt::format("{}", j.bits));
    if (j.format.empty()) return quant::int_format_name(j.bits ? j.bits : 4, j.asym);
    const auto* row = quant::find_format(j.format);
    if (row && j.bits && row->element && quant::element_type(*row->element).bits != j.bits)
        throw_bad_value("E6001", "bits", fmt::format("{} has {}-bit elements", j.format, quant::element_type(*row->element).bits),
                        fmt::format("{} or no bits", quant::element_type(*row->element).bits), fmt::format("{}", j.bits));
    return j.format;
}

nlohmann::json run_halo_job(const QuantizeJob& j, const ProgressSink& progress) {
    if (j.out.empty()) throw_usage("E9020", "out=DIR is required");
    jobs::RunOptions ro;
    ro.out_dir = j.out;
    ro.force = j.force;
    ro.model = j.model;
    ro.calib_text = j.calib;
    ro.eval_text = j.eval;
    ro.profile = j.profile;
    ro.samples = j.samples, ro.seq_len = j.seq_len, ro.ctx = j.ctx, ro.max_chunks = j.max_chunks;
    ro.threads = j.threads;
    ro.ladder.timing = hwq::timing_field(j.timing).id;
    ro.ladder.guard_band = j.guard_band;
    if (!j.levels.empty()) ro.ladder.levels = hwq::parse_levels(j.levels);
    ro.ladder.counts = j.counts;
    ro.ladder.voltage_step = j.voltage_step;
    ro.ladder.voltage = {j.vt, j.alpha};
    ro.halo.budget = j.budget;
    ro.halo.fit.max_codes = j.max_codes;
    ro.halo.sparse = {j.salient, j.outlier_sigma};
    ro.halo.gptq = j.gptq;
    ro.halo.gptq_options.block_size = j.block_size;
    ro.halo.gptq_options.damp = j.damp;
    if (!j.sensitivity.empty()) ro.halo.sensitivity = hwq::sensitivity_source(j.sensitivity).id;
    if (!j.tile.empty()) {
        const auto g = granularity_of(j);
        ro.halo.tile_k = g.group_rows, ro.halo.tile_n = g.group_cols;
    }
    ro.array = fmt::format("{}x{}", ro.halo.tile_k, ro.halo.tile_n);
    (void)hwq::objective(j.objective);
    ro.baselines.clear();
    ro.fp_reference = false;
    ro.halo_objectives = j.sweep.empty() ? std::vector<std::string>{fmt::format("{}@{}", j.objective, j.budget)} : j.sweep;
    const auto rep = jobs::run_pipeline(ro, progress, [](const std::string&) {});
    nlohmann::json result = rep.json;
    nlohmann::json manifests = nlohmann::json::object();
    for (const auto& v : rep.variants) {
        const auto path = std::filesystem::path(j.out) / v.name / "manifest.json";
        if (std::filesystem::exists(path)) manifests[v.name] = nlohmann::json::parse(read_file(path));
    }
    result["manifests"] = std::move(manifests);
    return result;
}

}  // namespace

nlohmann::json run_quantize_job(const QuantizeJob& j, const ProgressSink& progress) {
    if (j.method == "halo") return run_halo_job(j, progress);
    const auto t0 = std::chrono::steady_clock::now();
    if (j.out.empty()) throw_usage("E6009", "out=DIR is required");
    if (!j.force && std::filesystem::exists(j.out))
        throw_bad_value("E6009", j.out, "output directory exists", "a new directory", "an existing one", "pass force=True to replace it");
    const std::filesystem::path model_path = model::resolve_model_path(j.model);
    model::set_blas_threads(j.threads);

    quant::QuantizeOptions opt;
    const auto& meth = quant::method(j.method);
    opt.method = meth.id;
    opt.format = format_of(j);
    opt.granularity = granularity_of(j);
    if (!j.scale_format.empty()) {
        const auto* sf = quant::find_scale_format(j.scale_format);
        if (!sf) throw_bad_value("E6001", "scale_format", "unknown scale format", "fp16, e8m0, e4m3, fp32", j.scale_format);
        opt.scale = sf->id;
    }
    std::vector<float> codebook = j.codebook;
    std::sort(codebook.begin(), codebook.end());
    if (!codebook.empty()) opt.codebook = quant::Codebook(std::move(codebook));
    opt.gptq.block_size = j.block_size;
    opt.gptq.damp = j.damp;
    opt.gptq.act_order = j.act_order;
    opt.kmeans.sparse_fraction = j.sparse_fraction;
    if (j.sensitivity != "hessian" && j.sensitivity != "fisher")
        throw_bad_value("E6001", "sensitivity", "unknown sensitivity", "hessian or fisher", j.sensitivity);
    opt.kmeans_fisher = j.sensitivity == "fisher";
    opt.smooth_alpha = j.smooth_alpha;
    opt.threads = resolve_threads(j.threads);
    opt.progress = progress;
    const auto spec = quant::make_spec(opt.format, opt.granularity, opt.scale, opt.codebook);  // bad options fail before loading
    if (meth.error_feedback) quant::check_error_feedback(spec, meth.name);

    model::ModelWeights weights = model::load_model(model_path);
    const bool needs_calib = meth.needs_gram || meth.needs_channel_stats || opt.method == quant::Method::kmeans;
    std::unique_ptr<quant::LayerwiseSource> source;
    std::vector<std::array<model::Matrix, 7>> fisher;
    nlohmann::json calib_info = nullptr;
    std::unique_ptr<model::Tokenizer> tokenizer;
    if (needs_calib || !j.eval.empty()) tokenizer = model::load_tokenizer(model_path);
    if (needs_calib) {
        const std::filesystem::path calib_path = j.calib.empty() ? model::default_calib_text_path() : std::filesystem::path(j.calib);
        const auto tokens = tokenizer->encode(read_file(calib_path), false);
        auto samples = quant::calibration_samples(tokens, j.samples, j.seq_len, calib_path.string());
        calib_info = {{"file", calib_path.string()}, {"samples", j.samples}, {"seq_len", j.seq_len},
                      {"tokens", static_cast<std::int64_t>(j.samples) * j.seq_len}};
        if (opt.kmeans_fisher) fisher = model::fisher_diagonal(weights, samples, opt.threads, progress);
        source = std::make_unique<quant::LayerwiseSource>(weights, std::move(samples), opt.threads);
    }
    auto qm = quant::quantize_model(weights, opt, source.get(), fisher.empty() ? nullptr : &fisher);
    if (!j.act_format.empty()) qm.activation_format = j.act_format;

    quant::RunInfo info;
    info.source_model = std::filesystem::absolute(model_path).string();
    info.source_format = weights.source_format;
    info.calibration = calib_info;
    info.flags = {{"method", j.method}, {"format", opt.format}, {"granularity", opt.granularity.describe()},
                  {"act_order", j.act_order}, {"damp", j.damp}, {"block_size", j.block_size},
                  {"sparse_fraction", j.sparse_fraction}, {"smooth_alpha", j.smooth_alpha},
                  {"sensitivity", j.sensitivity}, {"threads", opt.threads}};
    if (!j.eval.empty()) {
        const auto hooks = quant::activation_hooks_for(qm.activation_format);
        model::PerplexityOptions po;
        po.ctx = j.ctx;
        po.max_chunks = j.max_chunks;
        po.bos = model::model_adds_bos(model_path) ? tokenizer->bos_id() : -1;
        po.progress = progress;
        const auto r = model::perplexity_of_text(weights, *tokenizer, j.eval, po,
                                                 {.threads = j.threads, .hooks = qm.activation_format.empty() ? nullptr : &hooks});
        info.flags["eval"] = {{"text", j.eval}, {"perplexity", r.result.perplexity}, {"ctx", j.ctx}, {"chunks", r.result.chunks},
                              {"tokens_scored", r.result.tokens_scored}};
    }
    info.flags["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    quant::write_quantized_dir(j.out, qm, opt, info, j.force);
    return nlohmann::json::parse(read_file(std::filesystem::path(j.out) / "manifest.json"));
}

}  // namespace halo::python
