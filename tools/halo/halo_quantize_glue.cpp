#include "halo_quantize_glue.hpp"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/jobs/halo_quantize_job.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/memory_usage.hpp"
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
}

int run_halo_quantize(const HaloCommonFlags& c, const HaloQuantizeFlags& f) {
    jobs::HaloQuantizeOptions o;
    o.out_dir = c.out;
    o.force = c.force;
    o.model = c.model;
    o.calib_text = c.calib;
    o.eval_text = c.eval_text;
    o.profile = f.profile;
    o.samples = c.samples, o.seq_len = c.seq_len, o.ctx = c.ctx, o.max_chunks = c.max_chunks;
    o.threads = c.threads;
    o.stream = c.stream.stream;
    o.activation_budget_bytes = static_cast<std::int64_t>(c.stream.activation_budget_mb) << 20;
    o.spill_dir = c.stream.spill_dir;
    o.ladder.timing = hwq::timing_field(f.timing).id;
    o.ladder.guard_band = f.guard_band;
    if (!f.levels.empty()) o.ladder.levels = hwq::parse_levels(f.levels);
    o.ladder.counts = parse_counts(f.counts);
    o.ladder.voltage_step = f.voltage_step;
    o.ladder.voltage = {f.vt, f.alpha};
    o.halo.objective = hwq::objective(f.objective).id;
    if (!(f.budget >= 0 && f.budget <= 1))
        throw_bad_value("E9014", "--budget", "the sensitivity budget is a fraction of the error range", "0 <= budget <= 1",
                        fmt::format("{}", f.budget));
    o.halo.budget = f.budget;
    o.halo.fit.max_codes = f.max_codes;
    o.halo.sparse = {f.salient, f.sigma};
    o.halo.gptq = !f.no_gptq;
    o.halo.gptq_options.block_size = c.block_size;
    o.halo.gptq_options.damp = c.damp;
    if (!c.sensitivity.empty()) o.halo.sensitivity = hwq::sensitivity_source(c.sensitivity).id;
    parse_tile(c.tile, o.halo.tile_k, o.halo.tile_n);
    const auto r = jobs::run_halo_quantize(o, terminal_progress(c.quiet), [&](const std::string& s) {
        if (!c.quiet) fmt::print(stderr, "halo: {}\n", s);
    });
    std::string levels;
    for (auto n : r.tiles_per_level) levels += fmt::format("{}{}", levels.empty() ? "" : " ", n);
    fmt::print("{}: halo {}@{} tile {}x{} -> {}\nbits per weight (stored): {:.4f}, information bits: {:.4f}; tiles per level: {}\n",
               r.model_name, f.objective, f.budget, o.halo.tile_k, o.halo.tile_n, c.out, r.bits_per_weight, r.info_bits, levels);
    if (r.streamed)
        fmt::print("streamed: {} blocks, one resident ({:.0f} MiB FP32), {:.1f} s per block; calibration {} tokens, hidden "
                   "states {:.0f} MiB {}\nwall {:.1f} s, peak host memory {:.0f} MiB\n",
                   r.streamed->blocks, static_cast<double>(r.streamed->block_fp32_bytes) / (1 << 20),
                   r.seconds / std::max(1, r.streamed->blocks), r.streamed->calibration_tokens,
                   static_cast<double>(r.streamed->activation_bytes) / (1 << 20),
                   r.streamed->activations_spilled ? "(spilled to disk)" : "(in memory)", r.seconds, peak_rss_mib());
    if (r.perplexity) fmt::print("perplexity: {:.4f} (INT8 activations per token; {} chunks of {} tokens of {})\n", *r.perplexity,
                                 c.max_chunks, c.ctx, c.eval_text);
    return 0;
}

}  // namespace halo::cli
