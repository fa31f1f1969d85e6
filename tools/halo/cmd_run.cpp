// `halo run`: the end-to-end HALO job (what `make demo` runs). All logic is in
// halo/jobs/run_job.hpp; this parses flags and prints progress and the table.
#include <sstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "menus.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/cuda/cuda_quant_backend.hpp"
#include "halo/jobs/run_job.hpp"
#include "halo/util/diagnostics.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {
namespace {

std::vector<std::string> split(const std::string& s) {
    std::vector<std::string> v;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ','))
        if (!item.empty()) v.push_back(item);
    return v;
}

}  // namespace

Command run_command() {
    return {"run", "end to end: characterize the INT8 MAC, quantize with HALO and baselines, perplexity, simulate, report",
            [](CLI::App& app) -> std::function<int()> {
                struct Flags {
                    jobs::RunOptions o;
                    std::string out = "halo-run", model, eval, calib, profile, liberty, levels, objectives = "perf,bal,acc,least-error",
                                baselines = "rtn-w8,rtn-w4,gptq-w4", timing = "static", tile = "128x128", level_codes = "0",
                                rank = "sensitivity", sensitivity = "hessian", sparse_grid = "row", device = "cpu", cuda_math = "fp32", bf16_profile, decode_batches = "1,16",
                                halo_storage = "codes";
                    bool quiet = false, full = false, no_energy = false, no_gptq = false, no_fp_reference = false;
                };
                auto f = std::make_shared<Flags>();
                app.add_option("--out", f->out, "output directory (report.md, results.json, pareto.svg, profile, models)")
                    ->capture_default_str();
                app.add_flag("--force", f->o.force, "replace an existing --out");
                app.add_option("--model", f->model, "GGUF or safetensors model (default: installed SmolLM2-135M)");
                app.add_option("--eval", f->eval, "evaluation text (default: data/text/eval.txt)");
                app.add_option("--calib", f->calib, "calibration text (default: data/text/calib.txt)");
                app.add_option("--profile", f->profile, "use this MAC profile instead of characterizing");
                app.add_option("--liberty", f->liberty, "Liberty library (default osu018)");
                app.add_flag("--no-energy", f->no_energy, "static timing only (MAC energy flat in the simulator)");
                app.add_option("--transitions", f->o.transitions, "dynamic analysis transitions per weight")->check(integer_in(0, 1 << 24))->capture_default_str();
                app.add_option("--levels", f->levels, "DVFS levels VOLTS:GHZ,... (default: derived from the profile)");
                app.add_option("--counts", f->o.ladder.counts,
                               "derived levels' code counts, slowest first (0 = all; the clock the count-th fastest code meets)")
                    ->delimiter(',')
                    ->default_str("0,16,9");
                app.add_option("--voltage-step", f->o.ladder.voltage_step,
                               "derived level i at V_nom*(1+step*i); 0 = every level at the nominal voltage (clock only)")
                    ->check(finite_in(0, 1))
                    ->capture_default_str();
                app.add_option("--level-voltages", f->o.ladder.voltage_factors,
                               "derived level i at V_nom*factor_i, one per --counts entry (overrides --voltage-step; "
                               "1 = a frequency-only level)")
                    ->delimiter(',');
                app.add_option("--guard-band", f->o.ladder.guard_band, "fraction added to every delay")->check(finite_in(0, 10))->capture_default_str();
                app.add_option("--timing", f->timing, "static or dynamic")->capture_default_str();
                app.add_option("--objectives", f->objectives,
                               "HALO points: objective[@budget] (per layer), model@S0/S1/.. (model-wide shares per level) or model@objective "
                               "(on the model's pooled front),...")
                    ->capture_default_str();
                app.add_option("--level-codes", f->level_codes,
                               "codebook budget per level, slowest first, or one for all (0 = every code the level allows)")
                    ->capture_default_str();
                app.add_option("--max-codes", f->o.halo.fit.max_codes, "cap on every level's codebook budget (0 = none)")
                    ->capture_default_str();
                app.add_option("--rank", f->rank, "model-wide points: tile ranking, error or sensitivity")->capture_default_str();
                app.add_option("--sensitivity", f->sensitivity,
                               "HALO points: hessian (w^2 x the Gram's diagonal) or fisher (mean squared gradient: a backward "
                               "pass per calibration sample, on the GPU with --device cuda)")
                    ->capture_default_str();
                app.add_option("--baselines", f->baselines,
                               "comma list, may be empty: rtn-w8, rtn-w4, gptq-w4, gptq-w4-g128, {rtn,gptq}-w{4,8}-{sym,asym}-dvfs (tile "
                               "scale/zero, each tile at its fastest level), iso (rtn-w8 at every ladder voltage), bf16, or "
                               "'all' (every row; bf16 only with --bf16-profile)")
                    ->capture_default_str();
                app.add_option("--halo-storage", f->halo_storage,
                               "HALO rows' weights in DRAM, one row each: codes (the INT8 codes, as the paper stores them), "
                               "indices (per-tile codebook indices, a lookup per weight read; row halo-<point>+idx) or codes,indices")
                    ->capture_default_str();
                app.add_option("--bf16-profile", f->bf16_profile, "BF16 MAC profile for the bf16 row (its clock)");
                app.add_option("--seed", f->o.seed, "calibration windows: 0 = evenly spread, else seeded random starts")
                    ->capture_default_str();
                app.add_option("--mac-energy-scale", f->o.mac_energy_scale,
                               "multiply the profile's MAC energies (technology scaling, docs/results/halo.md)")
                    ->capture_default_str();
                app.add_option("--extra-mac-energy-scales", f->o.extra_mac_energy_scales,
                               "also simulate every row at these MAC energy scales (results.json)")
                    ->delimiter(',');
                app.add_option("--decode-batches", f->decode_batches, "decode batches simulated (comma list, may be empty)")
                    ->capture_default_str();
                app.add_option("--budget", f->o.halo.budget, "sensitivity budget for perf/energy")->check(finite_in(0, 1))->capture_default_str();
                app.add_option("--tile", f->tile, "tile KxN = the simulated array; square (the baselines' uniform tiles)")->capture_default_str();
                app.add_flag("--no-gptq", f->no_gptq, "HALO: round to nearest instead of GPTQ");
                app.add_option("--salient", f->o.halo.sparse.salient_fraction, "HALO: fraction of most sensitive weights to the sparse part")
                    ->check(finite_in(0, 1))->capture_default_str();
                app.add_option("--outlier-sigma", f->o.halo.sparse.outlier_sigma, "HALO: |w - mean| > k sigma goes to the sparse part")
                    ->check(finite_in(0, 1000))->capture_default_str();
                app.add_option("--sparse-grid", f->sparse_grid, sparse_grid_help())->capture_default_str();
                app.add_flag("--quantize-head", f->o.halo.quantize_head,
                             "quantize the LM head (a tied embedding as head): HALO assigns its tiles like any linear's; "
                             "each baseline row quantizes it with its own method and format");
                app.add_flag("--no-fp-reference", f->no_fp_reference,
                             "skip the FP32 perplexity (a run split into parts measures it once)");
                app.add_option("--damp", f->o.gptq_damp,
                               "GPTQ's dampening (baselines and HALO): fraction of the mean Hessian diagonal")
                    ->check(finite_in(0, 1000))->capture_default_str();
                app.add_flag("--calib-int8-inputs", f->o.calib_int8_inputs, calib_int8_inputs_help());
                app.add_option("--samples", f->o.samples, "calibration samples")->check(integer_in(1, 1 << 20))->capture_default_str();
                app.add_option("--seq-len", f->o.seq_len, "tokens per calibration sample")->check(integer_in(2, 1 << 20))->capture_default_str();
                app.add_option("--ctx", f->o.ctx, "perplexity chunk length")->check(integer_in(4, 1 << 20))->capture_default_str();
                app.add_option("--max-chunks", f->o.max_chunks, "perplexity chunks (-1 = whole text)")->check(all_or_count(1 << 30))->capture_default_str();
                app.add_flag("--full", f->full, "the full setting: 32 x 256 calibration, whole eval text at ctx 512");
                app.add_option("--sim-seq-len", f->o.sim_seq_len, "prefill tokens simulated")->check(integer_in(1, 1 << 24))->capture_default_str();
                app.add_option("--threads", f->o.threads, "threads (0 = all cores)")->check(integer_in(0, 4096));
                app.add_flag("--quiet", f->quiet, "no progress display");
                app.add_option("--device", f->device,
                               "cpu (default), cuda or cuda:N: calibration and GPTQ's algebra on the GPU (HALO's fitting, "
                               "perplexity and simulation stay on the CPU; never falls back to cpu)");
                app.add_option("--cuda-math", f->cuda_math, "--device cuda calibration GEMMs: fp32 (default, strict) or tf32")
                    ->check(CLI::IsMember({"fp32", "tf32"}));
                return [f, &app] {
                    auto o = f->o;
                    o.out_dir = f->out;
                    o.model = f->model, o.eval_text = f->eval, o.calib_text = f->calib, o.profile = f->profile;
                    if (!f->liberty.empty()) o.liberty = f->liberty;
                    o.energy = !f->no_energy;
                    o.fp_reference = !f->no_fp_reference;
                    if (!f->levels.empty()) o.ladder.levels = hwq::parse_levels(f->levels);
                    o.ladder.timing = hwq::timing_field(f->timing).id;
                    o.halo_objectives = split(f->objectives);
                    o.baselines = f->baselines == "all" ? jobs::baseline_names() : split(f->baselines);
                    o.bf16_profile = f->bf16_profile;
                    o.halo_storage = split(f->halo_storage);
                    if (f->baselines == "all" && f->bf16_profile.empty()) std::erase(o.baselines, "bf16");
                    o.decode_batches.clear();
                    for (const auto& b : split(f->decode_batches)) {
                        try {
                            std::size_t used = 0;
                            o.decode_batches.push_back(std::stoll(b, &used));
                            if (used != b.size()) throw std::invalid_argument(b);
                        } catch (const std::exception&) {
                            throw_bad_flag("E9058", "--decode-batches", "a decode batch is not an integer", "e.g. 1,16", b);
                        }
                    }
                    o.halo.gptq = !f->no_gptq;
                    o.halo.level_codes = hwq::parse_level_codes(f->level_codes);
                    o.halo.rank = hwq::rank_key(f->rank).id;
                    o.halo.sensitivity = hwq::sensitivity_source(f->sensitivity).id;  // E9011
                    o.halo.sparse_grid = hwq::sparse_grid(f->sparse_grid).id;  // E9176
                    const ShapeRc tile = parse_shape_rc("--tile", f->tile);
                    if (tile.rows != tile.cols)
                        throw_bad_flag("E9012", "--tile", "halo run's tile is square (its baselines use uniform square tiles)",
                                       "KxK, e.g. 128x128", fmt::format("\"{}\"", f->tile));
                    o.halo.tile_k = o.halo.tile_n = tile.rows;
                    o.array = fmt::format("{}x{}", o.halo.tile_k, o.halo.tile_n);
                    if (f->full) o.samples = 32, o.seq_len = 256, o.ctx = 512, o.max_chunks = -1;
                    std::unique_ptr<cuda::CudaQuantBackend> device;  // the only place run picks a device
                    if (const auto gpu = cuda::parse_device(f->device))
                        device = std::make_unique<cuda::CudaQuantBackend>(*gpu, f->cuda_math == "tf32");
                    else if (app.count("--cuda-math"))
                        throw_usage("E9090", "--cuda-math applies to --device cuda only");
                    o.device = device.get();
                    const auto rep = jobs::run_pipeline(o, terminal_progress(f->quiet), [&](const std::string& s) {
                        if (!f->quiet) fmt::print(stderr, "halo run: {}\n", s);
                    });
                    fmt::print("{}", rep.table);
                    fmt::print("report: {}/report.md\n", f->out);
                    return 0;
                };
            }};
}

}  // namespace halo::cli
