// `halo run`: the end-to-end HALO job (what `make demo` runs). All logic is in
// halo/jobs/run_job.hpp; this parses flags and prints progress and the table.
#include <sstream>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
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
                    std::string out = "halo-run", model, eval, calib, profile, liberty, levels, objectives = "perf,bal,acc",
                                baselines = "rtn-w8,rtn-w4,gptq-w4", timing = "static", tile = "128";
                    bool quiet = false, full = false, no_energy = false, no_gptq = false;
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
                app.add_option("--guard-band", f->o.ladder.guard_band, "fraction added to every delay")->check(finite_in(0, 10))->capture_default_str();
                app.add_option("--timing", f->timing, "static or dynamic")->capture_default_str();
                app.add_option("--objectives", f->objectives, "HALO points: objective[@budget],...")->capture_default_str();
                app.add_option("--baselines", f->baselines, "rtn-w8, rtn-w4, gptq-w4 (comma list, may be empty)")
                    ->capture_default_str();
                app.add_option("--budget", f->o.halo.budget, "sensitivity budget for perf/energy")->check(finite_in(0, 1))->capture_default_str();
                app.add_option("--tile", f->tile, "tile = array side (KxN square)")->capture_default_str();
                app.add_flag("--no-gptq", f->no_gptq, "HALO: round to nearest instead of GPTQ");
                app.add_option("--samples", f->o.samples, "calibration samples")->check(integer_in(1, 1 << 20))->capture_default_str();
                app.add_option("--seq-len", f->o.seq_len, "tokens per calibration sample")->check(integer_in(2, 1 << 20))->capture_default_str();
                app.add_option("--ctx", f->o.ctx, "perplexity chunk length")->check(integer_in(4, 1 << 20))->capture_default_str();
                app.add_option("--max-chunks", f->o.max_chunks, "perplexity chunks (-1 = whole text)")->check(all_or_count(1 << 30))->capture_default_str();
                app.add_flag("--full", f->full, "the full setting: 32 x 256 calibration, whole eval text at ctx 512");
                app.add_option("--sim-seq-len", f->o.sim_seq_len, "prefill tokens simulated")->check(integer_in(1, 1 << 24))->capture_default_str();
                app.add_option("--threads", f->o.threads, "threads (0 = all cores)")->check(integer_in(0, 4096));
                app.add_flag("--quiet", f->quiet, "no progress display");
                return [f] {
                    auto o = f->o;
                    o.out_dir = f->out;
                    o.model = f->model, o.eval_text = f->eval, o.calib_text = f->calib, o.profile = f->profile;
                    if (!f->liberty.empty()) o.liberty = f->liberty;
                    o.energy = !f->no_energy;
                    if (!f->levels.empty()) o.ladder.levels = hwq::parse_levels(f->levels);
                    o.ladder.timing = hwq::timing_field(f->timing).id;
                    o.halo_objectives = split(f->objectives);
                    o.baselines = split(f->baselines);
                    o.halo.gptq = !f->no_gptq;
                    try {
                        o.halo.tile_k = o.halo.tile_n = std::stoll(f->tile);
                    } catch (const std::exception&) {
                        throw_bad_value("E9012", "--tile", "tile side is not an integer", "e.g. 128", f->tile);
                    }
                    o.array = fmt::format("{}x{}", o.halo.tile_k, o.halo.tile_n);
                    if (f->full) o.samples = 32, o.seq_len = 256, o.ctx = 512, o.max_chunks = -1;
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
