#include "halo/jobs/run_job.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "halo/accel/energy.hpp"
#include "halo/accel/sim_config.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/mac/characterize.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"
#include "halo/util/provenance.hpp"

namespace halo::jobs {
using namespace hwq;  // the HALO algorithm this job runs
namespace {

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Tile levels of a uniformly quantized model: every tile at the nominal level, code histograms
// from the INT8 values its codes decode to (an INT4 code -8..7 is the INT8 weight -8..7).
accel::ModelTileLevels uniform_tile_levels(const quant::QuantizedModel& qm, const model::ModelConfig& c, std::int64_t tile) {
    accel::ModelTileLevels m;
    m.model_name = c.name;
    m.n_layers = c.n_layers;
    m.d_model = c.d_model;
    m.d_ff = c.d_ff;
    m.vocab_size = c.vocab_size;
    for (const auto& rec : qm.linears) {
        const auto& t = rec.tensor;
        accel::TileLevels tl;
        tl.tile_rows = tile;
        tl.tile_cols = tile;
        tl.n_tiles = (t.rows() + tile - 1) / tile;
        tl.k_tiles = (t.cols() + tile - 1) / tile;
        tl.weight_format = "int8";
        tl.level.assign(static_cast<std::size_t>(tl.n_tiles * tl.k_tiles), 0);
        tl.code_histogram.assign(tl.level.size(), std::vector<std::uint64_t>(256, 0));
        for (std::int64_t r = 0; r < t.rows(); ++r)
            for (std::int64_t cc = 0; cc < t.cols(); ++cc) {
                const int v = static_cast<int>(t.spec().value(t.code(r, cc)));
                ++tl.code_histogram[static_cast<std::size_t>((cc / tile) * tl.n_tiles + r / tile)][static_cast<std::uint8_t>(static_cast<std::int8_t>(v))];
            }
        m.layers.emplace_back(fmt::format("blk.{}.{}", rec.layer, model::linear_name(rec.kind)), std::move(tl));
    }
    return m;
}

struct SimOutcome {
    double speedup = 1, energy_ratio = 1, mac_energy_ratio = 1;
    int switches = 0;
};

SimOutcome simulate(const accel::ModelTileLevels& tile_levels, const model::ModelConfig& c, const accel::SystolicOptions& so,
                    std::int64_t seq_len) {
    auto work = accel::transformer_workload(c, {accel::Phase::Kind::prefill, seq_len, 1, seq_len});
    const auto base = accel::simulate_systolic(accel::baseline_workload(work), so);
    accel::attach_tile_levels(work, c, tile_levels, "tile_levels.json");
    const auto run = accel::simulate_systolic(work, so);
    SimOutcome o;
    o.speedup = base.total.time_s / run.total.time_s;
    o.energy_ratio = run.total.energy.total_j() / base.total.energy.total_j();
    o.mac_energy_ratio = run.total.energy.mac_j / base.total.energy.mac_j;
    o.switches = run.total.switches;
    return o;
}

std::string fmt_row(const VariantResult& v) {
    return fmt::format("{:<16} {:<10} {:>7.3f} {:>7.3f} {:>10.4f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8}\n", v.name, v.weights,
                       v.bits_per_weight, v.info_bits, v.perplexity, v.speedup, v.energy_ratio, v.mac_energy_ratio, v.switches);
}

}  // namespace

ProfileOutcome obtain_profile(const ProfileStep& o, ProgressSink sink, const std::function<void(const std::string&)>& say) {
    ProfileOutcome r;
    if (!o.profile.empty()) {
        say(fmt::format("reading MAC profile {}", o.profile.string()));
        r.profile = mac::read_profile(o.profile);
        r.info = {{"source", o.profile.string()}};
        return r;
    }
    say(fmt::format("characterizing the {} MAC ({}) on {}", o.mac, o.arch, o.liberty.filename().string()));
    mac::CharacterizeOptions co;
    co.builtin_mac = o.mac;
    co.arch = o.arch;
    co.liberty = o.liberty;
    co.work_dir = o.work_dir;
    co.analysis = o.energy ? mac::Analysis::both : mac::Analysis::static_only;
    co.transitions = o.transitions;
    co.threads = o.threads;
    co.progress = sink;
    const auto t0 = std::chrono::steady_clock::now();
    r.profile = mac::characterize(co);
    r.info = {{"source", "characterized"}, {"mac", o.mac}, {"arch", o.arch}, {"liberty", o.liberty.string()},
              {"analysis", co.analysis == mac::Analysis::both ? "both" : "static"}, {"transitions", o.transitions},
              {"seconds", since(t0)}};
    return r;
}

RunReport run_pipeline(const RunOptions& o, ProgressSink sink, const std::function<void(const std::string&)>& stage) {
    const auto t_all = std::chrono::steady_clock::now();
    const Provenance provenance = current_provenance();
    auto say = [&](const std::string& s) {
        if (stage) stage(s);
    };
    if (!o.force && std::filesystem::exists(o.out_dir))
        throw_bad_value("E9020", o.out_dir.string(), "output directory exists", "a new directory", "an existing one",
                        "pass --force to replace it");
    const unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    model::set_blas_threads(threads);
    AtomicDirectory out(o.out_dir, o.force);

    // 1. Profile.
    ProfileStep ps;
    ps.profile = o.profile;
    ps.liberty = o.liberty;
    ps.mac = o.mac;
    ps.arch = o.arch;
    ps.work_dir = o.work_dir;
    ps.energy = o.energy;
    ps.transitions = o.transitions;
    ps.threads = threads;
    auto step = obtain_profile(ps, sink, say);
    const mac::MacProfile& profile = step.profile;
    const nlohmann::json& profile_info = step.info;
    mac::write_profile(profile, out / "profile.json");
    const Ladder ladder = build_ladder(profile, o.ladder);
    say(fmt::format("ladder: {} levels ({} timing, guard band {})", ladder.levels.size(), ladder.timing, ladder.guard_band));

    // Simulator setup: the ladder's DVFS table, the profile's energies (flat without them).
    accel::SystolicOptions so;
    accel::parse_array_shape(o.array, so.array);
    so.dvfs = dvfs_table(ladder);
    accel::validate(so.dvfs);
    bool have_energy = std::all_of(profile.weights.begin(), profile.weights.end(), [](const auto& w) { return w.energy_fj.has_value(); });
    if (have_energy) so.mac = accel::mac_energy_table(profile, "profile.json");
    if (so.array.rows != o.halo.tile_k || so.array.cols != o.halo.tile_n)
        throw_bad_value("E9021", "--tile", "the simulated array runs one tile per fold: tile must equal the array",
                        o.array, fmt::format("{}x{}", o.halo.tile_k, o.halo.tile_n), "pass --array KxN matching --tile");

    // 2. Model, tokenizer, calibration.
    const auto model_path = model::resolve_model_path(o.model.string());
    const auto eval_path = o.eval_text.empty() ? model::default_eval_text_path() : o.eval_text;
    const auto calib_path = o.calib_text.empty() ? model::default_calib_text_path() : o.calib_text;
    auto tokenizer = model::load_tokenizer(model_path);
    const auto calib_tokens = tokenizer->encode(read_file(calib_path), false);
    const auto samples = quant::calibration_samples(calib_tokens, o.samples, o.seq_len, calib_path.string());
    const auto hooks = quant::activation_hooks_for("int8_per_token");
    model::PerplexityOptions po;
    po.ctx = o.ctx;
    po.max_chunks = o.max_chunks;
    po.bos = model::model_adds_bos(model_path) ? tokenizer->bos_id() : -1;
    po.progress = sink;
    auto ppl = [&](const model::ModelWeights& w, bool int8_act) {
        say("perplexity");
        return model::perplexity_of_text(w, *tokenizer, eval_path, po, {.threads = threads, .hooks = int8_act ? &hooks : nullptr})
            .result.perplexity;
    };

    // Check every HALO point and the tile against the model before the long work.
    for (const auto& point : o.halo_objectives) {
        const auto at = point.find('@');
        (void)objective(point.substr(0, at));
        double budget = o.halo.budget;
        if (at != std::string::npos) {
            try {
                budget = std::stod(point.substr(at + 1));
            } catch (const std::exception&) {
                throw_bad_value("E9014", point, "budget after @ is not a number", "e.g. perf@0.25", point.substr(at + 1));
            }
        }
        if (!(budget >= 0 && budget <= 1))
            throw_bad_value("E9014", point, "the sensitivity budget is a fraction of the error range", "0 <= budget <= 1",
                            fmt::format("{}", budget));
    }
    RunReport rep;
    double fp_ppl = 0;
    model::ModelConfig config;
    {
        const auto w = model::load_model(model_path);
        config = w.config;
        if (!o.halo_objectives.empty()) model::refuse_experts(w.config, "HALO quantization");
        if (!o.halo_objectives.empty())
            for (auto k : model::kLinearKinds)
                (void)make_grid(w.layers.at(0)[k].rows, w.layers.at(0)[k].cols, o.halo.tile_n, o.halo.tile_k,
                                fmt::format("blk.0.{}", model::linear_name(k)));
        if (o.fp_reference) {
            say("FP32 reference");
            fp_ppl = ppl(w, false);
        }
    }
    const std::int64_t tile = o.halo.tile_k;
    // 3-5. Baselines.
    struct Base {
        std::string name, format, wa;
        quant::Method method;
    };
    const std::vector<Base> bases = {{"rtn-w8", "int8", "W8A8", quant::Method::rtn},
                                     {"rtn-w4", "int4", "W4A8", quant::Method::rtn},
                                     {"gptq-w4", "int4", "W4A8", quant::Method::gptq}};
    for (const auto& name : o.baselines) {
        const auto it = std::find_if(bases.begin(), bases.end(), [&](const Base& b) { return b.name == name; });
        if (it == bases.end())
            throw_bad_value("E9022", "--baselines", "unknown baseline", "rtn-w8, rtn-w4, gptq-w4", name);
        const auto t0 = std::chrono::steady_clock::now();
        say(fmt::format("baseline {}", name));
        auto w = model::load_model(model_path);
        config = w.config;
        quant::QuantizeOptions qo;
        qo.method = it->method;
        qo.format = it->format;
        qo.threads = threads;
        qo.progress = sink;
        std::unique_ptr<quant::LayerwiseSource> src;
        if (it->method == quant::Method::gptq) src = std::make_unique<quant::LayerwiseSource>(w, samples, threads);
        const auto qm = quant::quantize_model(w, qo, src.get());
        VariantResult v;
        v.name = name;
        v.weights = it->wa;
        v.bits_per_weight = qm.bits.bits_per_weight();
        v.info_bits = v.bits_per_weight;
        v.perplexity = ppl(w, true);
        say("simulate");
        const auto s = simulate(uniform_tile_levels(qm, w.config, tile), w.config, so, o.sim_seq_len);
        v.speedup = s.speedup, v.energy_ratio = s.energy_ratio, v.mac_energy_ratio = s.mac_energy_ratio, v.switches = s.switches;
        v.tiles_per_level.assign(ladder.levels.size(), 0);
        v.seconds = since(t0);
        rep.variants.push_back(v);
    }
    // HALO variants.
    for (const auto& point : o.halo_objectives) {
        const auto t0 = std::chrono::steady_clock::now();
        // "perf" or "perf@0.25" (objective at a sensitivity budget)
        const auto at = point.find('@');
        const std::string obj = point.substr(0, at);
        HaloOptions ho = o.halo;
        if (at != std::string::npos) {
            try {
                ho.budget = std::stod(point.substr(at + 1));
            } catch (const std::exception&) {
                throw_bad_value("E9014", point, "budget after @ is not a number", "e.g. perf@0.25", point.substr(at + 1));
            }
        }
        ho.objective = objective(obj).id;
        say(fmt::format("HALO {}", point));
        auto w = model::load_model(model_path);
        config = w.config;
        ho.threads = threads;
        std::vector<std::array<model::Matrix, 7>> fisher;
        if (ho.sensitivity == SensitivitySource::fisher) {
            say("Fisher diagonal");
            fisher = model::fisher_diagonal(w, samples, threads, sink);
        }
        quant::LayerwiseSource src(w, samples, threads);
        auto r = quantize_model_halo(w, ladder, ho, &src, fisher.empty() ? nullptr : &fisher, sink);
        VariantResult v;
        v.name = "halo-" + point;
        v.weights = fmt::format("HALO A8");
        v.bits_per_weight = r.model.bits.bits_per_weight();
        v.info_bits = information_bits_per_weight(r);
        v.perplexity = ppl(w, true);
        say("simulate");
        const auto s = simulate(tile_levels_of(r, w.config, w.config.name), w.config, so, o.sim_seq_len);
        v.speedup = s.speedup, v.energy_ratio = s.energy_ratio, v.mac_energy_ratio = s.mac_energy_ratio, v.switches = s.switches;
        v.tiles_per_level = r.tiles_per_level;
        quant::RunInfo info;
        info.source_model = std::filesystem::absolute(model_path).string();
        info.source_format = w.source_format;
        info.calibration = {{"file", calib_path.string()}, {"samples", o.samples}, {"seq_len", o.seq_len}};
        info.provenance = provenance;
        info.flags = {{"method", "halo"}, {"objective", obj}, {"budget", ho.budget}, {"perplexity", v.perplexity}};
        say(fmt::format("writing {}", v.name));
        write_halo_dir(out / v.name, r, ladder, ho, info, w.config, w.config.name, true, so, have_energy ? &profile : nullptr);
        v.seconds = since(t0);
        rep.variants.push_back(v);
    }

    // 6. Table, JSON, report, plot.
    rep.table = fmt::format("{:<16} {:<10} {:>7} {:>7} {:>10} {:>8} {:>8} {:>8} {:>8}\n", "variant", "arith", "bits", "info_b",
                            "ppl", "speedup", "energy", "mac_en", "switches");
    if (o.fp_reference) rep.table += fmt::format("{:<16} {:<10} {:>7} {:>7} {:>10.4f}\n", "fp32", "FP32", 32, 32, fp_ppl);
    for (const auto& v : rep.variants) rep.table += fmt_row(v);
    nlohmann::json vj = nlohmann::json::array();
    for (const auto& v : rep.variants)
        vj.push_back({{"name", v.name}, {"arith", v.weights}, {"bits_per_weight", v.bits_per_weight}, {"info_bits", v.info_bits},
                      {"perplexity", v.perplexity}, {"speedup", v.speedup}, {"energy_ratio", v.energy_ratio},
                      {"mac_energy_ratio", v.mac_energy_ratio}, {"switches", v.switches},
                      {"tiles_per_level", v.tiles_per_level}, {"seconds", v.seconds}});
    rep.json = {{"format", "halo-run"}, {"version", 1}, {"date", provenance.date_utc},
                {"halo_version", provenance.halo_version}, {"git_commit", provenance.git_commit},
                {"command", provenance.command_line}, {"model", model_path.string()},
                {"model_name", config.name}, {"eval_text", eval_path.string()}, {"ctx", o.ctx}, {"max_chunks", o.max_chunks},
                {"calibration", {{"file", calib_path.string()}, {"samples", o.samples}, {"seq_len", o.seq_len}}},
                {"profile", profile_info}, {"ladder", ladder_json(ladder)}, {"mac_energy_from_profile", have_energy},
                {"simulator", {{"array", o.array}, {"dataflow", "ws"}, {"phase", "prefill"}, {"seq_len", o.sim_seq_len},
                               {"baseline", "uniform INT8 codes, every tile at L0 (nominal clock and voltage)"}}},
                {"fp32_perplexity", o.fp_reference ? nlohmann::json(fp_ppl) : nlohmann::json(nullptr)},
                {"variants", vj}, {"seconds", since(t_all)}};
    write_file_atomic(out / "results.json", rep.json.dump(1) + "\n");
    write_file_atomic(out / "pareto.svg", pareto_svg(rep.variants, fp_ppl));
    std::string md = fmt::format("# halo run ({})\n\nhalo {} (commit {}): `{}`  \n"
                                 "Model: {}  \nEval: {} (ctx {}, {} chunks); calibration {} x {} tokens "
                                 "of {}  \nArray: {} weight-stationary, prefill of {} tokens; baseline: uniform INT8 at L0.\n\n",
                                 provenance.date_utc, provenance.halo_version, provenance.git_commit, provenance.command_line,
                                 model_path.filename().string(), eval_path.filename().string(), o.ctx, o.max_chunks,
                                 o.samples, o.seq_len, calib_path.filename().string(), o.array, o.sim_seq_len);
    md += "## DVFS levels (ladder)\n\n| level | V | MHz | codes meeting it |\n| --- | --- | --- | --- |\n";
    for (const auto& lv : ladder.levels)
        md += fmt::format("| {} | {:.3f} | {:.1f} | {} |\n", lv.name, lv.voltage_v, lv.freq_mhz, lv.values.size());
    md += fmt::format("\nVoltage model: alpha-power, Vt = {} V, alpha = {}; timing {}, guard band {}; MAC energy from the "
                      "profile: {}.\n\n## Results\n\n```\n{}```\n\n![Pareto](pareto.svg)\n",
                      ladder.voltage.vt_v, ladder.voltage.alpha, ladder.timing, ladder.guard_band, have_energy ? "yes" : "no (flat)",
                      rep.table);
    write_file_atomic(out / "report.md", md);
    out.commit();
    return rep;
}

std::string pareto_svg(const std::vector<VariantResult>& vs, double fp_ppl) {
    const double W = 640, H = 420, L = 70, R = 20, T = 30, B = 50;
    double x0 = 0.9, x1 = 1.1, y0 = fp_ppl > 0 ? fp_ppl : 1e300, y1 = 0;
    for (const auto& v : vs) x0 = std::min(x0, v.speedup), x1 = std::max(x1, v.speedup), y0 = std::min(y0, v.perplexity), y1 = std::max(y1, v.perplexity);
    if (!(y1 > y0)) y1 = y0 + 1;
    const double pad = (y1 - y0) * 0.08, xpad = (x1 - x0) * 0.15;  // room for the labels right of a point
    y0 -= pad, y1 += pad, x1 += xpad;
    auto X = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    auto Y = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };
    std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
                                "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", W, H);
    s += fmt::format("<text x=\"{}\" y=\"18\" font-size=\"14\">Perplexity vs simulated speed-up (vs uniform INT8 at L0)</text>\n", L);
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", L, T, L, H - B);
    for (int i = 0; i <= 4; ++i) {
        const double x = x0 + (x1 - x0) * i / 4, y = y0 + (y1 - y0) * i / 4;
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.2f}</text>\n", X(x), H - B + 16, x);
        s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2f}</text>\n", L - 4, Y(y) + 4, y);
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">speed-up</text>\n", (L + W - R) / 2, H - 10);
    s += fmt::format("<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">perplexity</text>\n",
                     (T + H - B) / 2, (T + H - B) / 2);
    if (fp_ppl > 0)
        s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"gray\" stroke-dasharray=\"4 3\"/>"
                         "<text x=\"{}\" y=\"{:.1f}\" fill=\"gray\">FP32</text>\n",
                         L, Y(fp_ppl), W - R, Y(fp_ppl), W - R - 40, Y(fp_ppl) - 4);
    for (const auto& v : vs) {
        const bool halo = v.name.rfind("halo", 0) == 0;
        s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                         X(v.speedup), Y(v.perplexity), halo ? "#d62728" : "#1f77b4", X(v.speedup) + 7, Y(v.perplexity) - 6, v.name);
    }
    return s + "</svg>\n";
}

}  // namespace halo::jobs
