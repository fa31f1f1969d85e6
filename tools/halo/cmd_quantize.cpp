// `halo quantize`: parses the flags into jobs::QuantizeJobOptions and runs the chosen method's
// row of the method table (jobs/methods.hpp); `--stream` goes to the block-streaming driver.
#include <algorithm>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flags.hpp"
#include "menus.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/cuda/cuda_quant_backend.hpp"
#include "halo/jobs/methods.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/quant/expert_quantizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "streaming_glue.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {
namespace {

struct QuantizeFlags {
    jobs::QuantizeJobOptions job;
    std::string model, calib, out, eval_text, codebook;
    bool quiet = false, no_gptq = false;
    std::string device = "cpu", cuda_math = "fp32";  // --device cuda[:N]: calibration and GPTQ on the GPU
    StreamFlags stream;  // --stream (streaming_glue)
    // Per-layer-only HALO flags, refused with --assign model (never silently ignored).
    CLI::Option* objective_opt = nullptr;
    CLI::Option* budget_opt = nullptr;
};

std::vector<float> codebook_of(const std::string& text) {
    std::vector<float> v;
    if (text.empty()) return v;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            v.push_back(std::stof(item));
        } catch (const std::exception&) {
            throw_bad_value("E6002", "--codebook", "codebook entry is not a number", "comma-separated numbers", item);
        }
    }
    return v;
}

// The method-specific flags given on the command line (jobs::check_flags_apply refuses those the
// method does not take).
std::vector<std::string> given_method_flags(const CLI::App& app) {
    std::vector<std::string> given;
    for (const auto flag : quant::method_specific_flags()) {
        try {
            if (app.count(std::string(flag)) > 0) given.emplace_back(flag);
        } catch (const CLI::OptionNotFound&) {
        }
    }
    return given;
}

void print_summary(const jobs::QuantizeJobOptions& o, const jobs::QuantizeJobResult& r) {
    const std::string perplexity_line =
        r.perplexity ? fmt::format("perplexity: {:.4f} ({}{} chunks of {} tokens of {})\n", *r.perplexity,
                                   r.halo ? "INT8 activations per token; " : "", r.eval_chunks, o.ctx, o.eval_text.string())
                     : "";
    if (r.halo) {
        std::string levels;
        for (auto n : r.halo->tiles_per_level) levels += fmt::format("{}{}", levels.empty() ? "" : " ", n);
        fmt::print("{}: halo {} tile {}x{} -> {}\nbits per weight (stored): {:.4f}, information bits: {:.4f}; tiles per level: {}\n{}",
                   r.model_name, r.halo->objective.rfind("model@", 0) == 0 ? r.halo->objective
                                                                           : fmt::format("{}@{}", r.halo->objective, r.halo->budget),
                   r.halo->tile_k, r.halo->tile_n, o.out_dir.string(),
                   r.bits_per_weight, r.halo->info_bits, levels, perplexity_line);
        if (r.streamed)
            fmt::print("streamed: {} blocks, one resident ({:.0f} MiB FP32), {:.1f} s per block; calibration {} tokens, hidden "
                       "states {:.0f} MiB {}\nwall {:.1f} s, peak host memory {:.0f} MiB\ntime by phase: {}\n",
                       r.streamed->blocks, static_cast<double>(r.streamed->block_fp32_bytes) / (1 << 20),
                       r.streamed->wall_seconds / std::max(1, r.streamed->blocks), r.streamed->calibration_tokens,
                       static_cast<double>(r.streamed->activation_bytes) / (1 << 20),
                       r.streamed->activations_spilled ? "(spilled to disk)" : "(in memory)", r.streamed->wall_seconds,
                       r.peak_rss_mib, r.streamed->phases.empty() ? std::string("not timed") : r.streamed->phases);
        return;
    }
    fmt::print("{}: {} {} -> {}\nbits per weight (linears, with scales/zeros/extras): {:.4f}\nquantization time: {:.1f} s, "
               "peak memory {:.0f} MiB\n{}",
               r.model_path.filename().string(), r.method, r.spec, o.out_dir.string(), r.bits_per_weight, r.quantize_seconds,
               r.peak_rss_mib, perplexity_line);
}

// --device: the quant::DeviceBackend (null for cpu). The only place quantize picks a device.
std::unique_ptr<quant::DeviceBackend> device_backend(const QuantizeFlags& f, const CLI::App& app, const quant::MethodTraits& row) {
    const auto gpu = cuda::parse_device(f.device);
    if (f.cuda_math != "fp32" && f.cuda_math != "tf32") throw_usage("E6190", "--cuda-math takes fp32 or tf32");
    if (!gpu) {
        if (app.count("--cuda-math")) throw_usage("E6191", "--cuda-math applies to --device cuda only");
        return nullptr;
    }
    if (app.count("--activation-budget-mb") || app.count("--spill-dir"))
        throw_usage("E6194", "--activation-budget-mb and --spill-dir do not apply with --device cuda (the hidden states stay "
                             "on the GPU)");
    return std::make_unique<cuda::CudaQuantBackend>(*gpu, f.cuda_math == "tf32");  // E8109/E8101/E8108 before any reading
}

int run_quantize(QuantizeFlags& f, const CLI::App& app) {
    jobs::QuantizeJobOptions& o = f.job;
    o.model = f.model, o.calib_text = f.calib, o.out_dir = f.out, o.eval_text = f.eval_text;
    o.codebook = codebook_of(f.codebook);
    o.halo.gptq = !f.no_gptq;
    const auto& row = jobs::method_table().find(o.method).traits;  // E6007 lists every registered method
    jobs::check_flags_apply(row, given_method_flags(app));
    if (!o.act_format.empty()) require_valid_value("--act-format", [&] { (void)quant::activation_hooks_for(o.act_format); });
    o.halo.objective_given = f.objective_opt && f.objective_opt->count() > 0;
    o.halo.budget_given = f.budget_opt && f.budget_opt->count() > 0;
    o.min_expert_tokens_given = app.count("--min-expert-tokens") > 0;
    const auto device = device_backend(f, app, row);
    o.device = device.get();
    if (f.stream.stream) {
        if (!o.eval_text.empty() || !o.act_format.empty() || o.sensitivity == "fisher")
            throw_usage("E6141", "--stream does not combine with --eval, --act-format or --sensitivity fisher (yet)");
    }
    if (f.stream.stream && row.id == quant::Method::halo) {  // HALO's job streams itself (hwq/halo_streaming.hpp)
        o.stream = true;
        o.activation_budget_bytes = static_cast<std::int64_t>(f.stream.activation_budget_mb) << 20;
        o.spill_dir = f.stream.spill_dir;
    } else if (f.stream.stream) {
        if (o.out_dir.empty()) throw_usage("E6009", "--out DIR is required");
        if (!o.force && std::filesystem::exists(o.out_dir))
            throw_bad_value("E6009", f.out, "output directory exists", "a new directory", "an existing one", "pass --force to replace it");
        quant::QuantizeOptions opt = jobs::table_quantize_options(o, row);
        opt.progress = terminal_progress(f.quiet);
        opt.device = device.get();
        jobs::check_calib_int8_inputs(o);
        return run_streaming_quantize({model::resolve_model_path(o.model), f.calib, f.out, o.samples, o.seq_len, o.force, f.quiet,
                                       o.calib_int8_inputs, jobs::table_method_flags(o, opt)},
                                      opt, f.stream);
    }
    const jobs::JobCallbacks callbacks{terminal_progress(f.quiet), [&f](const std::string& s) {
                                           if (!f.quiet) fmt::print(stderr, "halo: {}\n", s);
                                       }};
    const auto result = jobs::run_quantize_job(o, callbacks);
    print_summary(o, result);
    if (!result.expert_tokens.empty()) {  // MoE: did calibration reach every expert?
        fmt::print("calibration tokens routed per expert (top-{} of {}):\n", result.n_experts_used, result.n_experts);
        for (const auto& b : result.expert_tokens) fmt::print("  block {}: {}\n", b.layer, fmt::join(b.tokens, " "));
        for (const auto& line : quant::expert_coverage_warnings(result.expert_tokens, o.min_expert_tokens))
            fmt::print(stderr, "warning: {} (--min-expert-tokens)\n", line);
    }
    if (device && row.id == quant::Method::rtn)
        fmt::print("device: {} opened, unused (RTN needs no calibration; it ran on the CPU)\n", device->describe());
    else if (device)
        fmt::print("device: {} (calibration{} on the GPU, peak {:.2f} GiB in use; the rest on the CPU)\n", device->describe(),
                   row.id == quant::Method::gptq                               ? " and GPTQ's algebra"
                   : row.id == quant::Method::awq                              ? " and AWQ's candidate errors"
                   : row.id == quant::Method::kmeans && o.sensitivity == "fisher" ? " and the Fisher backward passes"
                   : row.id == quant::Method::halo                                ? ", GPTQ's algebra and the tile costs' fits"
                                                                                   : "",
                   device->peak_device_gib());
    return 0;
}

void add_halo_flags(CLI::App& app, jobs::HaloJobOptions& h, QuantizeFlags& f) {
    app.add_option("--profile", h.profile, "halo: MAC profile JSON (halo characterize); absent = characterize int8 on osu018");
    f.objective_opt = app.add_option("--objective", h.objective, "halo: perf, acc, bal, energy or least-error (per-layer assignment)")->capture_default_str();
    app.add_option("--levels", h.levels, "halo: DVFS levels VOLTS:GHZ,... (absent: derived from the profile)");
    app.add_option("--counts", h.counts, "halo: derived levels' code counts, slowest first (0 = all)")
        ->delimiter(',')
        ->default_str("0,16,9");
    app.add_option("--voltage-step", h.voltage_step, "halo: derived level i at V_nom*(1+step*i)")->check(finite_in(0, 1))->capture_default_str();
    app.add_option("--level-voltages", h.voltage_factors,
                   "halo: derived level i at V_nom*factor_i, one per --counts entry (overrides --voltage-step; 1 = frequency only)")
        ->delimiter(',');
    app.add_option("--vt", h.vt, "halo: alpha-power threshold voltage (V)")->check(finite_in(0, 5))->capture_default_str();
    app.add_option("--alpha", h.alpha, "halo: alpha-power exponent")->check(finite_in(1, 3))->capture_default_str();
    app.add_option("--guard-band", h.guard_band, "halo: fraction added to every delay")->check(finite_in(0, 10))->capture_default_str();
    app.add_option("--timing", h.timing, "halo: static or dynamic delay field")->capture_default_str();
    f.budget_opt = app.add_option("--budget", h.budget, "halo: sensitivity budget in [0,1] (perf, energy)")->check(finite_in(0, 1))->capture_default_str();
    app.add_option("--level-codes", h.level_codes, "halo: codebook budget per level, slowest first, or one for all (0 = every code the level allows)")
        ->capture_default_str();
    app.add_option("--max-codes", h.max_codes, "halo: cap on every level's codebook budget (0 = none)")->check(integer_in(0, 256))->capture_default_str();
    app.add_option("--assign", h.assign, "halo: layer (objective per linear) or model (model-wide --level-shares)")->capture_default_str();
    app.add_option("--level-shares", h.level_shares, "halo, --assign model: share of the weights per level, slowest first (e.g. 0.2/0.5/0.3)");
    app.add_option("--rank", h.rank, "halo, --assign model: tile ranking, error or sensitivity")->capture_default_str();
    app.add_option("--salient", h.salient, "halo: fraction of most sensitive weights to the sparse part")->check(finite_in(0, 1))->capture_default_str();
    app.add_option("--outlier-sigma", h.outlier_sigma, "halo: |w - mean| > k sigma goes to the sparse part")->check(finite_in(0, 1000))->capture_default_str();
    app.add_option("--sparse-grid", h.sparse_grid, sparse_grid_help())->capture_default_str();
    app.add_flag("--no-gptq", f.no_gptq, "halo: round to nearest instead of GPTQ error compensation");
    app.add_flag("--quantize-head", h.quantize_head,
                 "halo: quantize the LM head (a tied embedding as head) and assign its tiles like any linear (DIR/output.hqt)");
}

}  // namespace

Command quantize_command() {
    return {"quantize", "quantize a model's linear layers (RTN, GPTQ, AWQ, k-means, SmoothQuant, HALO) into a directory",
            [](CLI::App& app) -> std::function<int()> {
                auto f = std::make_shared<QuantizeFlags>();
                app.add_option("--model", f->model, "GGUF file, safetensors checkpoint dir, or an installed model: smollm2-135m (default), gemma3-270m");
                app.add_option("--method", f->job.method, jobs::method_table().names());
                app.add_option("--format", f->job.format,
                               "int2..int8[-asym], fp8-e4m3, fp8-e5m2, fp6-e3m2, fp6-e2m3, fp4-e2m1, mxint8, mxfp8, mxfp6, "
                               "mxfp4, mxfp3[-e1m1], nvfp4, codebook[-asym], amove-*, bitmod-fp4, bitmod-fp3 (g128), ant4, olive4 "
                               "(RTN only) (default int<bits>)");
                app.add_option("--bits", f->job.bits, "integer bits when no --format (default 4); k-means codebook bits")
                    ->check(integer_in(1, 8));
                app.add_flag("--asym", f->job.asym, "with --bits: asymmetric (zero point)");
                app.add_option("--group", f->job.group, "group size along the input dim (absent: per output channel)")
                    ->check(integer_in(1, 1 << 24));
                app.add_option("--tile", f->job.tile, "RxC: per-tile scales (the systolic array's tile); halo: its tile KxN (default 128x128)");
                app.add_option("--scale-format", f->job.scale_format, "fp16 (default), e8m0, e4m3, fp32");
                app.add_option("--codebook", f->codebook, "codebook values, comma-separated (codebook formats)");
                app.add_option("--calib", f->calib, "calibration text (default: data/text/calib.txt)");
                app.add_option("--samples", f->job.samples, "calibration samples")->check(integer_in(1, 1 << 20));
                app.add_option("--seq-len", f->job.seq_len, "tokens per calibration sample")->check(integer_in(2, 1 << 20));
                std::vector<std::string> calib_modes;
                for (const auto& m : quant::calibration_inputs_modes()) calib_modes.push_back(fmt::format("{} ({})", m.name, m.summary));
                app.add_option("--calib-inputs", f->job.calib_inputs, fmt::format("{}", fmt::join(calib_modes, "; ")));
                app.add_flag("--calib-int8-inputs", f->job.calib_int8_inputs, calib_int8_inputs_help());
                app.add_option("--out", f->out, "output directory")->required();
                app.add_flag("--force", f->job.force, "replace an existing --out");
                app.add_option("--threads", f->job.threads, "threads (0 = all cores)")->check(integer_in(0, 4096));
                app.add_flag("--act-order", f->job.act_order, "gptq: quantize columns by decreasing Hessian diagonal");
                app.add_option("--damp", f->job.damp, "gptq: dampening, fraction of the mean Hessian diagonal")
                    ->check(finite_in(0, 1000));
                app.add_option("--block-size", f->job.block_size, "gptq: lazy-update block")->check(integer_in(1, 1 << 20));
                app.add_option("--sparse-fraction", f->job.sparse_fraction, "kmeans: fraction of weights kept in FP16")->check(finite_in(0, 1));
                app.add_option("--sensitivity", f->job.sensitivity, "kmeans: hessian (Gram diagonal) or fisher")
                    ->check(CLI::IsMember({"hessian", "fisher"}));
                app.add_option("--smooth-alpha", f->job.smooth_alpha, "smoothquant: migration strength")->check(finite_in(0, 1));
                app.add_option("--act-format", f->job.act_format, "quantize activations in the forward pass: int8_per_token, amove-conservative, int4@g64+attn, ... (docs/design/amove.md)");
                app.add_option("--eval", f->eval_text, "after quantizing, perplexity of the result on this text");
                app.add_option("--max-chunks", f->job.max_chunks, "--eval: chunks to score (-1 all)")->check(all_or_count(1 << 30));
                app.add_option("--ctx", f->job.ctx, "--eval: tokens per chunk")->check(integer_in(4, 1 << 20));
                app.add_flag("--quiet", f->quiet, "no progress display");
                app.add_option("--min-expert-tokens", f->job.min_expert_tokens,
                               "mixture-of-experts: warn about experts that calibration routed fewer tokens to (default 16)");
                app.add_option("--device", f->device,
                               "cpu (default), cuda or cuda:N: calibration forwards, X^T X, GPTQ's algebra and HALO's tile "
                               "fits on the GPU (never falls back to cpu)");
                app.add_option("--cuda-math", f->cuda_math, "--device cuda calibration GEMMs: fp32 (default, strict) or tf32");
                add_halo_flags(app, f->job.halo, *f);
                add_stream_flags(app, f->stream);
                return [f, &app] { return run_quantize(*f, app); };
            }};
}

}  // namespace halo::cli
