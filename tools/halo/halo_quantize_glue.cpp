#include "halo_quantize_glue.hpp"

#include <sstream>

#include <fmt/format.h>

#include "halo/halo/halo_dir.hpp"
#include "halo/halo/pipeline.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {
namespace {

void parse_tile(const std::string& text, std::int64_t& k, std::int64_t& n) {
    if (text.empty()) return;
    long a = 0, b = 0;
    char x = 0;
    std::istringstream in(text);
    if (!(in >> a >> x >> b) || x != 'x' || a < 1 || b < 1 || !in.eof())
        throw_bad_value("E9012", "--tile", "tile shape must be KxN", "e.g. 128x128", text);
    k = a, n = b;
}

std::vector<int> parse_counts(const std::string& text) {
    std::vector<int> v;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        try {
            v.push_back(std::stoi(item));
        } catch (const std::exception&) {
            throw_bad_value("E9003", "--counts", "code count is not an integer", "e.g. 0,16,9", item);
        }
    }
    return v;
}

}  // namespace

void add_halo_quantize_flags(CLI::App& app, HaloQuantizeFlags& f) {
    app.add_option("--profile", f.profile, "halo: MAC profile JSON (halo characterize); absent = characterize int8 on osu018");
    app.add_option("--objective", f.objective, "halo: perf, acc, bal or energy")->capture_default_str();
    app.add_option("--levels", f.levels, "halo: DVFS levels VOLTS:GHZ,... (absent: derived from the profile)");
    app.add_option("--counts", f.counts, "halo: derived levels' code counts, slowest first (0 = all)")->capture_default_str();
    app.add_option("--voltage-step", f.voltage_step, "halo: derived level i at V_nom*(1+step*i)")->capture_default_str();
    app.add_option("--vt", f.vt, "halo: alpha-power threshold voltage (V)")->capture_default_str();
    app.add_option("--alpha", f.alpha, "halo: alpha-power exponent")->capture_default_str();
    app.add_option("--guard-band", f.guard_band, "halo: fraction added to every delay")->capture_default_str();
    app.add_option("--timing", f.timing, "halo: static or dynamic delay field")->capture_default_str();
    app.add_option("--budget", f.budget, "halo: sensitivity budget in [0,1] (perf, energy)")->capture_default_str();
    app.add_option("--max-codes", f.max_codes, "halo: codebook size per tile")->capture_default_str();
    app.add_option("--salient", f.salient, "halo: fraction of most sensitive weights to the sparse part")->capture_default_str();
    app.add_option("--outlier-sigma", f.sigma, "halo: |w - mean| > k sigma goes to the sparse part")->capture_default_str();
    app.add_flag("--no-gptq", f.no_gptq, "halo: round to nearest instead of GPTQ error compensation");
    app.add_option("--sweep", f.sweep, "halo: comma list of objective[@budget] points; writes the front into --out");
}

int run_halo_quantize(const HaloCommonFlags& c, const HaloQuantizeFlags& f) {
    if (c.out.empty()) throw_usage("E9020", "--out DIR is required");
    halo::RunOptions ro;
    ro.out_dir = c.out;
    ro.force = c.force;
    ro.model = c.model;
    ro.calib_text = c.calib;
    ro.eval_text = c.eval_text;
    ro.profile = f.profile;
    ro.samples = c.samples, ro.seq_len = c.seq_len, ro.ctx = c.ctx, ro.max_chunks = c.max_chunks;
    ro.threads = c.threads;
    ro.ladder.timing = halo::timing_field(f.timing).id;
    ro.ladder.guard_band = f.guard_band;
    if (!f.levels.empty()) ro.ladder.levels = halo::parse_levels(f.levels);
    ro.ladder.counts = parse_counts(f.counts);
    ro.ladder.voltage_step = f.voltage_step;
    ro.ladder.voltage = {f.vt, f.alpha};
    ro.halo.budget = f.budget;
    ro.halo.fit.max_codes = f.max_codes;
    ro.halo.sparse = {f.salient, f.sigma};
    ro.halo.gptq = !f.no_gptq;
    ro.halo.gptq_options.block_size = c.block_size;
    ro.halo.gptq_options.damp = c.damp;
    if (!c.sensitivity.empty()) ro.halo.sensitivity = halo::sensitivity_source(c.sensitivity).id;
    parse_tile(c.tile, ro.halo.tile_k, ro.halo.tile_n);
    ro.array = fmt::format("{}x{}", ro.halo.tile_k, ro.halo.tile_n);
    (void)halo::objective(f.objective);
    ro.baselines.clear();
    ro.fp_reference = false;
    if (!f.sweep.empty()) {
        ro.halo_objectives.clear();
        std::stringstream in(f.sweep);
        std::string item;
        while (std::getline(in, item, ',')) ro.halo_objectives.push_back(item);
    } else {
        ro.halo_objectives = {fmt::format("{}@{}", f.objective, f.budget)};
    }
    const auto rep = halo::run_pipeline(ro, terminal_progress(c.quiet), [&](const std::string& s) {
        if (!c.quiet) fmt::print(stderr, "halo: {}\n", s);
    });
    fmt::print("{}", rep.table);
    fmt::print("wrote {} (one quantized model directory per point, results.json, pareto.svg)\n", c.out);
    return 0;
}

}  // namespace halo::cli
