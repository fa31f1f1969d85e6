#include "halo/jobs/halo_quantize_job.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "halo/accel/simulate.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/head_quantizer.hpp"
#include "halo/hwq/sparse_grid.hpp"
#include "halo/hwq/halo_streaming.hpp"
#include "halo/jobs/run_job.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/memory_usage.hpp"
#include "halo/util/shape.hpp"

namespace halo::jobs {

namespace {

nlohmann::json halo_flags(const hwq::HaloOptions& ho, const nlohmann::json& profile_info, unsigned threads) {
    return {{"method", "halo"},
            {"objective", hwq::objectives()[static_cast<std::size_t>(ho.objective)].name},
            {"budget", ho.budget},
            {"assignment", hwq::assign_scopes()[static_cast<std::size_t>(ho.scope)].name},
            {"level_shares", ho.level_shares},
            {"tile", fmt::format("{}x{}", ho.tile_k, ho.tile_n)},
            {"quantize_head", ho.quantize_head},
            {"calib_inputs", quant::calibration_inputs_modes()[static_cast<std::size_t>(ho.calib_inputs)].name},
            {"profile", profile_info},
            {"threads", threads}};
}

struct HaloOutcome {
    std::string model_name;
    double bits_per_weight = 0, info_bits = 0;
    std::optional<double> perplexity;
    int eval_chunks = 0;
    std::vector<std::int64_t> tiles_per_level;
    std::optional<StreamSummary> streamed;
    std::vector<quant::ExpertTokens> expert_tokens;  // MoE: calibration tokens routed per expert
    int n_experts = 0, n_experts_used = 0;
};

// --min-expert-tokens sets the coverage warnings of a MoE model's experts; on any other model,
// or streamed (which has no expert path), it would be silently ignored.
void check_min_expert_tokens(const HaloQuantizeOptions& o, const model::ModelConfig& c) {
    if (o.min_expert_tokens_given && (!c.moe() || o.stream))
        throw_usage("E9083", "--min-expert-tokens applies to a mixture-of-experts model quantized in memory (HALO without --stream)");
}

// --stream: the block loop of hwq/halo_streaming.hpp writes the directory as it goes.
HaloOutcome run_streamed(const HaloQuantizeOptions& o, const hwq::HaloOptions& ho, const std::filesystem::path& model_path,
                         const std::filesystem::path& calib_path, const std::vector<std::vector<std::int32_t>>& samples,
                         const hwq::Ladder& ladder, const accel::SystolicOptions& machine,
                         const mac::MacProfile* energy_profile, const nlohmann::json& profile_info, unsigned threads,
                         const JobCallbacks& cb) {
    const auto t0 = std::chrono::steady_clock::now();
    hwq::check_streamable(ho);  // before opening the model
    const model::LazyModel source(model_path);
    check_min_expert_tokens(o, source.config());
    hwq::StreamingHaloOptions so;
    so.halo = ho;
    so.samples = samples;
    so.threads = threads;
    so.activation_budget_bytes = o.activation_budget_bytes;
    so.spill_dir = o.spill_dir;
    so.block_progress = cb.progress;
    so.device = o.device;
    const auto int8_hooks = quant::activation_hooks_for("int8_per_token", ho.quantize_head);  // the head's input too
    if (o.calib_int8_inputs) so.calib_hooks = &int8_hooks;
    so.block_done = [&cb](int l, const quant::PhaseSeconds& p) {  // per block, so a stopped run still says where time went
        cb.say(fmt::format("block {} done; so far: {}", l, p.describe()));
    };
    quant::RunInfo info;
    info.source_model = std::filesystem::absolute(model_path).string();
    info.source_format = source.source_format();
    info.calibration = {{"file", calib_path.string()}, {"samples", o.samples}, {"seq_len", o.seq_len},
                        {"tokens", static_cast<std::int64_t>(o.samples) * o.seq_len},
                        {"inputs", o.calib_int8_inputs ? "int8_per_token" : "fp32"}};
    info.flags = halo_flags(so.halo, profile_info, threads);
    info.flags["stream"] = {{"blocks", source.config().n_layers}, {"block_fp32_bytes", source.layer_bytes()}};
    info.flags["device"] = o.device ? o.device->placement("halo") : nlohmann::json("cpu");
    cb.say(fmt::format("HALO {}@{}, streamed block by block into {}",
                       hwq::objectives()[static_cast<std::size_t>(so.halo.objective)].name, so.halo.budget, o.out_dir.string()));
    quant::QuantizedDirWriter out(o.out_dir, o.force);
    const auto r = hwq::quantize_halo_streaming(source, ladder, so, out, info, machine, energy_profile);
    HaloOutcome res;
    res.model_name = source.config().name;
    res.bits_per_weight = r.totals.model.bits.bits_per_weight();
    res.info_bits = r.information_bits;
    res.tiles_per_level = r.totals.tiles_per_level;
    res.streamed = StreamSummary{r.blocks, source.layer_bytes(), r.activation_bytes, r.calibration_tokens,
                                 r.activations_spilled,
                                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(),
                                 r.phases.describe()};
    return res;
}

HaloOutcome quantize_halo(const HaloQuantizeOptions& o, const JobCallbacks& cb) {
    const ProgressSink& sink = cb.progress;
    auto say = [&](const std::string& s) { cb.say(s); };
    if (o.out_dir.empty()) throw_usage("E9020", "--out DIR is required");
    if (!o.force && std::filesystem::exists(o.out_dir))
        throw_bad_value("E9020", o.out_dir.string(), "output directory exists", "a new directory", "an existing one",
                        "pass --force to replace it");
    if (o.stream) {  // before the profile and the calibration
        if (!o.eval_text.empty())
            throw_usage("E9075", "--stream does not combine with --eval for --method halo (yet): evaluate the directory with "
                                 "`halo eval --stream --quantized DIR`");
        hwq::check_streamable(o.halo);
    }
    const unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    model::set_blas_threads(threads);
    // The tile against the model's shapes before the profile step (which may characterize a MAC).
    const std::filesystem::path model_path = model::resolve_model_path(o.model.string());
    hwq::check_tiles_fit(model::LazyModel(model_path).config(), o.halo);

    ProfileStep ps;
    ps.profile = o.profile;
    ps.work_dir = o.work_dir;
    ps.threads = threads;
    const auto prof = obtain_profile(ps, sink, say);
    const hwq::Ladder ladder = hwq::build_ladder(prof.profile, o.ladder);
    // The machine the tiles are meant for: an array one tile wide (one tile per fold), the
    // ladder's DVFS table; the profile's energies travel as DIR/mac_profile.json.
    accel::SystolicOptions machine;
    machine.array.rows = static_cast<int>(o.halo.tile_k);
    machine.array.cols = static_cast<int>(o.halo.tile_n);
    accel::validate(machine.array);
    machine.dvfs = hwq::dvfs_table(ladder);
    accel::validate(machine.dvfs);

    const auto calib_path = o.calib_text.empty() ? model::default_calib_text_path() : o.calib_text;
    auto tokenizer = model::load_tokenizer(model_path);
    const auto samples = quant::calibration_samples(tokenizer->encode(read_file(calib_path), false), o.samples, o.seq_len,
                                                    calib_path.string());
    const bool have_energy = std::all_of(prof.profile.weights.begin(), prof.profile.weights.end(),
                                         [](const auto& pw) { return pw.energy_fj.has_value(); });
    hwq::HaloOptions ho = o.halo;
    ho.threads = threads;
    std::optional<hwq::RoutedTileFitter> fitter;
    if (o.device) {  // the tile fits (large batches) and GPTQ's algebra on the GPU
        fitter.emplace(*o.device->tile_fitter(), threads, hwq::kDeviceTileFitMinJobs);
        ho.fitter = &*fitter;
        ho.gptq_options.device = o.device;
    }
    ho.sparse_macs_per_cycle = machine.energy.sparse_macs_per_cycle;
    hwq::check_options(ho, ladder);
    if (o.stream)
        return run_streamed(o, ho, model_path, calib_path, samples, ladder, machine, have_energy ? &prof.profile : nullptr,
                            prof.info, threads, cb);
    auto w = model::load_model(model_path);
    check_min_expert_tokens(o, w.config);
    model::FisherDiagonal fisher;
    if (ho.sensitivity == hwq::SensitivitySource::fisher) {
        say("Fisher diagonal");
        // The head's gradient only where the head is quantized (HALO reads it for the head's tiles).
        const auto head = ho.quantize_head ? model::HeadGradient::compute : model::HeadGradient::skip;
        fisher = quant::fisher_diagonal_on(o.device, w, samples, threads, sink, head);
    }
    const auto int8_hooks = quant::activation_hooks_for("int8_per_token", ho.quantize_head);  // the head's input too
    const model::ForwardHooks* calib_hooks = o.calib_int8_inputs ? &int8_hooks : nullptr;  // --calib-int8-inputs
    hwq::ModelPlan plan;
    const bool model_wide = ho.scope == hwq::AssignScope::model;
    if (model_wide) {
        say(o.calib_int8_inputs ? "model-wide plan (statistics of INT8-per-token inputs)" : "model-wide plan (FP32 statistics)");
        quant::LayerwiseSource plan_src(w, samples, threads, calib_hooks);
        plan = hwq::plan_model_wide(w, ladder, ho, &plan_src, fisher.empty() ? nullptr : &fisher, sink);
    }
    say(model_wide ? std::string("HALO, model-wide shares")
                   : fmt::format("HALO {}@{}", hwq::objectives()[static_cast<std::size_t>(ho.objective)].name, ho.budget));
    std::unique_ptr<quant::CalibrationSource> src;  // on the device when there is one
    if (o.device) src = o.device->calibration(w, samples);
    else src = std::make_unique<quant::LayerwiseSource>(w, samples, threads, calib_hooks);
    auto r = hwq::quantize_model_halo(w, ladder, ho, src.get(), fisher.empty() ? nullptr : &fisher, sink, model_wide ? &plan : nullptr);

    HaloOutcome res;
    res.model_name = w.config.name;
    res.bits_per_weight = r.model.bits.bits_per_weight();
    res.info_bits = hwq::information_bits_per_weight(r);
    res.tiles_per_level = r.tiles_per_level;
    res.expert_tokens = r.model.expert_tokens;
    res.n_experts = w.config.n_experts, res.n_experts_used = w.config.n_experts_used;
    quant::RunInfo info;
    info.source_model = std::filesystem::absolute(model_path).string();
    info.source_format = w.source_format;
    info.calibration = {{"file", calib_path.string()}, {"samples", o.samples}, {"seq_len", o.seq_len},
                        {"tokens", static_cast<std::int64_t>(o.samples) * o.seq_len},
                        {"inputs", o.calib_int8_inputs ? "int8_per_token" : "fp32"}};
    info.flags = halo_flags(ho, prof.info, threads);
    info.flags["device"] = o.device ? o.device->placement("halo") : nlohmann::json("cpu");
    src.reset();  // frees the device's hidden states
    if (o.device) info.flags["peak_gpu_gib"] = o.device->peak_device_gib();
    if (!o.eval_text.empty()) {
        if (o.device) info.flags["device"]["eval"] = "cpu (INT8 activation hooks)";
        say("perplexity");
        const auto hooks = quant::activation_hooks_for("int8_per_token", ho.quantize_head);  // the head's input too
        model::PerplexityOptions po;
        po.ctx = o.ctx;
        po.max_chunks = o.max_chunks;
        po.bos = model::model_adds_bos(model_path) ? tokenizer->bos_id() : -1;
        po.progress = sink;
        const auto pr = model::perplexity_of_text(w, *tokenizer, o.eval_text, po, {.threads = threads, .hooks = &hooks});
        res.perplexity = pr.result.perplexity;
        res.eval_chunks = pr.result.chunks;
        info.flags["eval"] = {{"text", o.eval_text.string()}, {"perplexity", pr.result.perplexity}, {"ctx", o.ctx},
                              {"chunks", pr.result.chunks}, {"tokens_scored", pr.result.tokens_scored}};
    }
    say(fmt::format("writing {}", o.out_dir.string()));
    hwq::write_halo_dir(o.out_dir, r, ladder, ho, info, w.config, w.config.name, o.force, machine,
                        have_energy ? &prof.profile : nullptr);
    return res;
}

}  // namespace

HaloQuantizeOptions halo_quantize_options(const QuantizeJobOptions& c) {
    const HaloJobOptions& f = c.halo;
    HaloQuantizeOptions o;
    o.out_dir = c.out_dir;
    o.force = c.force;
    o.model = c.model;
    o.calib_text = c.calib_text;
    o.eval_text = c.eval_text;
    o.profile = f.profile;
    o.work_dir = f.work_dir;
    o.samples = c.samples, o.seq_len = c.seq_len, o.ctx = c.ctx, o.max_chunks = c.max_chunks;
    o.threads = c.threads;
    o.stream = c.stream;
    o.activation_budget_bytes = c.activation_budget_bytes;
    o.spill_dir = c.spill_dir;
    o.device = c.device;
    if (c.min_expert_tokens < 0)
        throw_bad_flag("E9084", "--min-expert-tokens", "the expert coverage threshold is a token count", ">= 0",
                       std::to_string(c.min_expert_tokens));
    o.min_expert_tokens_given = c.min_expert_tokens_given;
    o.ladder.timing = hwq::timing_field(f.timing).id;
    o.ladder.guard_band = f.guard_band;
    if (!f.levels.empty()) o.ladder.levels = hwq::parse_levels(f.levels);
    o.ladder.counts = f.counts;
    o.ladder.voltage_step = f.voltage_step;
    o.ladder.voltage_factors = f.voltage_factors;
    o.ladder.voltage = {f.vt, f.alpha};
    o.halo.scope = hwq::assign_scope(f.assign).id;
    o.halo.rank = hwq::rank_key(f.rank).id;
    if (o.halo.scope == hwq::AssignScope::model) {
        if (f.objective_given || f.budget_given)
            throw_usage("E9070", "--objective and --budget pick a point per layer; with --assign model the shares are --level-shares");
        o.halo.level_shares = hwq::parse_level_shares(f.level_shares);
    } else if (!f.level_shares.empty()) {
        throw_usage("E9071", "--level-shares is the model-wide budget; it needs --assign model");
    }
    o.halo.level_codes = hwq::parse_level_codes(f.level_codes);
    o.halo.objective = hwq::objective(f.objective).id;
    if (!(f.budget >= 0 && f.budget <= 1))
        throw_bad_value("E9014", "--budget", "the sensitivity budget is a fraction of the error range", "0 <= budget <= 1",
                        fmt::format("{}", f.budget));
    o.halo.budget = f.budget;
    o.halo.fit.max_codes = f.max_codes;
    o.halo.sparse = {f.salient, f.outlier_sigma};
    o.halo.sparse_grid = hwq::sparse_grid(f.sparse_grid).id;  // E9176
    o.halo.gptq = f.gptq;
    o.halo.quantize_head = f.quantize_head;
    o.halo.calib_inputs = quant::calibration_inputs(c.calib_inputs).id;  // E6195
    o.calib_int8_inputs = c.calib_int8_inputs;
    o.halo.gptq_options.block_size = c.block_size;
    o.halo.gptq_options.damp = c.damp;
    if (!c.sensitivity.empty()) o.halo.sensitivity = hwq::sensitivity_source(c.sensitivity).id;
    if (!c.tile.empty()) {
        const ShapeRc tile = parse_shape_rc("--tile", c.tile);
        o.halo.tile_k = tile.rows, o.halo.tile_n = tile.cols;
    }
    return o;
}

QuantizeJobResult run_halo_quantize(const QuantizeJobOptions& options, const JobCallbacks& callbacks) {
    const HaloQuantizeOptions o = halo_quantize_options(options);
    const HaloOutcome r = quantize_halo(o, callbacks);
    QuantizeJobResult res;
    res.method = "halo";
    res.model_path = model::resolve_model_path(o.model.string());
    res.model_name = r.model_name;
    res.bits_per_weight = r.bits_per_weight;
    res.perplexity = r.perplexity;
    res.streamed = r.streamed;
    res.eval_chunks = r.eval_chunks;
    res.expert_tokens = r.expert_tokens;
    res.n_experts = r.n_experts, res.n_experts_used = r.n_experts_used;
    res.peak_rss_mib = peak_rss_mib();
    const std::string point = o.halo.scope == hwq::AssignScope::model ? "model@" + options.halo.level_shares : options.halo.objective;
    res.halo = HaloSummary{point, o.halo.budget, o.halo.tile_k, o.halo.tile_n, r.info_bits, r.tiles_per_level};
    return res;
}

}  // namespace halo::jobs
