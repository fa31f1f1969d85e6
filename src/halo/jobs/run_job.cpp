#include "halo/jobs/run_job.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <thread>

#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "halo/accel/energy.hpp"
#include "halo/accel/sim_config.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/hwq/dvfs_baselines.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/head_quantizer.hpp"
#include "halo/mac/characterize.hpp"
#include "halo/model/blas.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/float_convert.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity_text.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"
#include "halo/util/provenance.hpp"
#include "halo/util/shape.hpp"
#include "halo/util/json_view.hpp"

namespace halo::jobs {
using namespace hwq;  // the HALO algorithm this job runs
namespace {

double since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Tile levels of a uniformly quantized model: every tile at the nominal level, code histograms
// from the INT8 values its codes decode to (an INT4 code -8..7 is the INT8 weight -8..7).
// One uniform tensor's GEMM: every tile at L0, each tile's histogram of the INT8 values its codes drive.
accel::TileLevels uniform_gemm_levels(const quant::QuantizedTensor& t, std::int64_t tile) {
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
    return tl;
}

accel::ModelTileLevels uniform_tile_levels(const quant::QuantizedModel& qm, const model::ModelConfig& c, std::int64_t tile) {
    accel::ModelTileLevels m = hwq::empty_tile_levels(c, c.name);
    for (const auto& rec : qm.linears)
        m.layers.emplace_back(accel::linear_gemm_name(rec.layer, rec.kind, rec.expert), uniform_gemm_levels(rec.tensor, tile));  // experts too
    if (qm.head) m.layers.emplace_back(hwq::kHeadName, uniform_gemm_levels(qm.head->tensor, tile));  // its codes' energies
    return m;
}

// What one row runs on the array: its tile levels (none = uniform codes), per-layer stored
// bits (decode reads them from DRAM) and the machine (the ladder's, an iso-voltage level, or
// the BF16 array); the baseline is always uniform INT8 at L0 on the INT8 machine.
struct SimRow {
    const accel::ModelTileLevels* tiles = nullptr;
    std::vector<std::pair<std::string, double>> weight_bits;
    const accel::SystolicOptions* machine = nullptr;  // null: the INT8 machine
    accel::WeightStorage storage = accel::WeightStorage::codes;  // how weight_bits sit in DRAM
};

std::vector<accel::Phase> simulated_phases(const RunOptions& o) {
    std::vector<accel::Phase> v = {{accel::Phase::Kind::prefill, o.sim_seq_len, 1, o.sim_seq_len}};
    for (auto b : o.decode_batches) v.push_back({accel::Phase::Kind::decode, o.sim_seq_len, b, o.sim_seq_len});
    return v;
}
std::string phase_name(const accel::Phase& p) {
    return p.kind == accel::Phase::Kind::prefill ? "prefill" : fmt::format("decode-b{}", p.batch);
}

std::vector<PhaseResult> simulate(const SimRow& row, const model::ModelConfig& c, const accel::SystolicOptions& so,
                                  const std::vector<accel::Phase>& phases, int& prefill_switches) {
    std::vector<PhaseResult> out;
    for (const auto& phase : phases) {
        auto work = accel::transformer_workload(c, phase);
        const auto base = accel::simulate_systolic(accel::baseline_workload(work), so);
        if (row.tiles) accel::attach_tile_levels(work, c, *row.tiles, "tile_levels.json");
        accel::attach_weight_bits(work, row.weight_bits, row.storage);
        const auto run = accel::simulate_systolic(work, row.machine ? *row.machine : so);
        out.push_back({phase_name(phase), base.total.time_s / run.total.time_s, run.total.energy.total_j() / base.total.energy.total_j()});
        if (phase.kind == accel::Phase::Kind::prefill) prefill_switches = run.total.switches;
    }
    return out;
}
// The prefill MAC energy ratio (the table's "mac_en" column).
double prefill_mac_energy_ratio(const SimRow& row, const model::ModelConfig& c, const accel::SystolicOptions& so, std::int64_t seq_len) {
    auto work = accel::transformer_workload(c, {accel::Phase::Kind::prefill, seq_len, 1, seq_len});
    const auto base = accel::simulate_systolic(accel::baseline_workload(work), so);
    if (row.tiles) accel::attach_tile_levels(work, c, *row.tiles, "tile_levels.json");
    const auto run = accel::simulate_systolic(work, row.machine ? *row.machine : so);
    return run.total.energy.mac_j / base.total.energy.mac_j;
}

std::vector<std::pair<std::string, double>> layer_bits(const quant::QuantizedModel& qm) {
    std::vector<std::pair<std::string, double>> v;
    for (const auto& rec : qm.linears)
        v.emplace_back(accel::linear_gemm_name(rec.layer, rec.kind, rec.expert), rec.tensor.bits().bits_per_weight());  // the workload's GEMM names, MoE experts included
    if (qm.head) v.emplace_back("output", qm.head->tensor.bits().bits_per_weight());  // decode reads the head's codes
    return v;
}

void fill_sim(VariantResult& v, const SimRow& row, const model::ModelConfig& c, const accel::SystolicOptions& so, const RunOptions& o) {
    v.phases = simulate(row, c, so, simulated_phases(o), v.switches);
    v.speedup = v.phases.at(0).speedup;
    v.energy_ratio = v.phases.at(0).energy_ratio;
    v.mac_energy_ratio = prefill_mac_energy_ratio(row, c, so, o.sim_seq_len);
    for (double scale : o.extra_mac_energy_scales) {
        accel::SystolicOptions so_s = so;
        so_s.energy.mac_energy_scale = scale;
        std::optional<accel::SystolicOptions> machine_s;
        if (row.machine) {
            machine_s = *row.machine;
            machine_s->energy.mac_energy_scale = scale;
        }
        SimRow r = row;
        r.machine = machine_s ? &*machine_s : nullptr;
        int unused = 0;
        v.phases_at_scale.emplace_back(scale, simulate(r, c, so_s, simulated_phases(o), unused));
    }
}

struct Base {
    std::string name, format, wa;
    quant::Method method;
    bool dvfs_aware;        // per-tile scale/zero, each tile at its fastest level
    std::int64_t group = 0;  // scale per `group` input columns (0 = per channel); every tile at L0
};
std::vector<Base> baseline_table() {
    std::vector<Base> b = {{"rtn-w8", "int8", "W8A8", quant::Method::rtn, false},
                           {"rtn-w4", "int4", "W4A8", quant::Method::rtn, false},
                           {"gptq-w4", "int4", "W4A8", quant::Method::gptq, false},
                           {"gptq-w4-g128", "int4", "W4A8 g128", quant::Method::gptq, false, 128}};
    for (auto m : {quant::Method::rtn, quant::Method::gptq})
        for (int bits : {4, 8})
            for (bool asym : {false, true})
                b.push_back({fmt::format("{}-w{}-{}-dvfs", m == quant::Method::rtn ? "rtn" : "gptq", bits, asym ? "asym" : "sym"),
                             quant::int_format_name(bits, asym), fmt::format("W{}A8 tile", bits), m, true});
    return b;
}

std::string fmt_row(const VariantResult& v) {
    std::string decode;
    for (std::size_t i = 1; i < v.phases.size(); ++i) decode += fmt::format(" {:>5.3f}/{:<5.3f}", v.phases[i].speedup, v.phases[i].energy_ratio);
    return fmt::format("{:<22} {:<10} {:>7.3f} {:>7.3f} {:>10.4f} {:>8.3f} {:>8.3f} {:>8.3f} {:>8}{}\n", v.name, v.weights,
                       v.bits_per_weight, v.info_bits, v.perplexity, v.speedup, v.energy_ratio, v.mac_energy_ratio, v.switches, decode);
}

}  // namespace

std::string_view obj_name(const HaloOptions& ho) { return objectives()[static_cast<std::size_t>(ho.objective)].name; }

HaloOptions halo_point(const std::string& point, const HaloOptions& base, const Ladder& ladder) {
    HaloOptions ho = base;
    const auto at = point.find('@');
    const std::string head = point.substr(0, at);
    if (head == "model") {
        if (at == std::string::npos)
            throw_bad_value("E9068", point, "a model-wide point needs its level shares", "model@S0/S1/... (e.g. model@0.2/0.5/0.3)",
                            point);
        ho.scope = AssignScope::model;
        const std::string rest = point.substr(at + 1);
        if (!rest.empty() && std::isalpha(static_cast<unsigned char>(rest[0]))) {
            // model@bal: the objective on the model's pooled front (one lambda for every linear)
            ho.model_objective = true;
            ho.objective = objective(rest).id;
        } else {
            ho.level_shares = parse_level_shares(rest);
            check_level_shares(ho.level_shares, ladder.levels.size());
        }
    } else {
        ho.scope = AssignScope::layer;
        ho.objective = objective(head).id;
        if (at != std::string::npos) {
            try {
                ho.budget = std::stod(point.substr(at + 1));
            } catch (const std::exception&) {
                throw_bad_value("E9014", point, "budget after @ is not a number", "e.g. perf@0.25", point.substr(at + 1));
            }
        }
        if (!(ho.budget >= 0 && ho.budget <= 1))
            throw_bad_value("E9014", point, "the sensitivity budget is a fraction of the error range", "0 <= budget <= 1",
                            fmt::format("{}", ho.budget));
    }
    check_options(ho, ladder);
    return ho;
}

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
    const auto storage_names = halo_storage_names();
    const bool store_codes = std::find(o.halo_storage.begin(), o.halo_storage.end(), "codes") != o.halo_storage.end();
    const bool store_indices = std::find(o.halo_storage.begin(), o.halo_storage.end(), "indices") != o.halo_storage.end();
    for (const auto& name : o.halo_storage)
        if (std::find(storage_names.begin(), storage_names.end(), name) == storage_names.end())
            throw_bad_flag("E9177", "--halo-storage", "unknown weight storage", fmt::format("{}", fmt::join(storage_names, ", ")), name);
    if (!store_codes && !store_indices)
        throw_bad_flag("E9177", "--halo-storage", "no weight storage for the HALO rows", "codes, indices or both", "an empty list");
    if (o.calib_int8_inputs && o.device)
        throw_usage("E9175", "--calib-int8-inputs calibrates through the CPU forward's activation hooks; the device "
                             "calibration has none (run without --device)");
    const unsigned threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    model::set_blas_threads(threads);
    AtomicDirectory out(o.out_dir, o.force);
    // The tile against the array and the model's shapes before the profile step, which may
    // characterize a MAC for tens of seconds.
    const ShapeRc array = parse_shape_rc("--array", o.array);
    if (array.rows != o.halo.tile_k || array.cols != o.halo.tile_n)
        throw_bad_value("E9021", "--tile", "the simulated array runs one tile per fold: tile must equal the array",
                        o.array, fmt::format("{}x{}", o.halo.tile_k, o.halo.tile_n), "pass --array KxN matching --tile");
    const auto model_path = model::resolve_model_path(o.model.string());
    if (!o.halo_objectives.empty()) check_tiles_fit(model::LazyModel(model_path).config(), o.halo);

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
    so.array.rows = static_cast<int>(array.rows);
    so.array.cols = static_cast<int>(array.cols);
    so.dvfs = dvfs_table(ladder);
    accel::validate(so.dvfs);
    bool have_energy = std::all_of(profile.weights.begin(), profile.weights.end(), [](const auto& w) { return w.energy_fj.has_value(); });
    if (have_energy) so.mac = accel::mac_energy_table(profile, "profile.json");
    if (!(o.mac_energy_scale > 0 && std::isfinite(o.mac_energy_scale)))
        throw_bad_value("E9054", "--mac-energy-scale", "the MAC energy scale must be a positive number", "> 0",
                        fmt::format("{}", o.mac_energy_scale));
    so.energy.mac_energy_scale = o.mac_energy_scale;
    for (double scale : o.extra_mac_energy_scales)
        if (!(scale > 0 && std::isfinite(scale)))
            throw_bad_value("E9054", "--extra-mac-energy-scales", "the MAC energy scale must be a positive number", "> 0",
                            fmt::format("{}", scale));
    for (auto b : o.decode_batches)
        if (b < 1) throw_bad_value("E9055", "--decode-batches", "a decode batch must be at least 1", ">= 1", std::to_string(b));

    // 2. Model, tokenizer, calibration.
    const auto eval_path = o.eval_text.empty() ? model::default_eval_text_path() : o.eval_text;
    const auto calib_path = o.calib_text.empty() ? model::default_calib_text_path() : o.calib_text;
    auto tokenizer = model::load_tokenizer(model_path);
    const auto calib_tokens = tokenizer->encode(read_file(calib_path), false);
    const auto samples = quant::calibration_samples(calib_tokens, o.samples, o.seq_len, calib_path.string(), o.seed);
    const auto hooks = quant::activation_hooks_for("int8_per_token");
    const auto head_hooks = quant::activation_hooks_for("int8_per_token", true);  // a quantized head's input too
    model::PerplexityOptions po;
    po.ctx = o.ctx;
    po.max_chunks = o.max_chunks;
    po.bos = model::model_adds_bos(model_path) ? tokenizer->bos_id() : -1;
    po.progress = sink;
    auto ppl = [&](const model::ModelWeights& w, bool int8_act, bool head = false) {
        say("perplexity");
        const model::ForwardHooks* h = !int8_act ? nullptr : head ? &head_hooks : &hooks;
        return model::perplexity_of_text(w, *tokenizer, eval_path, po, {.threads = threads, .hooks = h}).result.perplexity;
    };

    // Calibration on the device when one is given, else on the CPU (the one place run picks).
    // --calib-int8-inputs: the evaluation's A8 hooks (the head's input included) in calibration.
    const auto calibration = [&](const model::ModelWeights& w) -> std::unique_ptr<quant::CalibrationSource> {
        if (o.device) return o.device->calibration(w, samples);
        return std::make_unique<quant::LayerwiseSource>(w, samples, threads, o.calib_int8_inputs ? &head_hooks : nullptr);
    };

    // Check every HALO point and the tile against the model before the long work.
    for (const auto& point : o.halo_objectives) (void)halo_point(point, o.halo, ladder);
    RunReport rep;
    double fp_ppl = 0;
    model::ModelConfig config;
    {
        const auto w = model::load_model(model_path);
        config = w.config;
        if (o.fp_reference) {
            say("FP32 reference");
            fp_ppl = ppl(w, false);
        }
    }
    const std::int64_t tile = o.halo.tile_k;
    // 3-5. Baselines.
    const auto table = baseline_table();
    const auto names = baseline_names();
    for (const auto& name : o.baselines)
        if (std::find(names.begin(), names.end(), name) == names.end())
            throw_bad_value("E9022", "--baselines", "unknown baseline", fmt::format("{}", fmt::join(names, ", ")), name);
    const bool want_iso = std::find(o.baselines.begin(), o.baselines.end(), "iso") != o.baselines.end();
    const bool want_bf16 = std::find(o.baselines.begin(), o.baselines.end(), "bf16") != o.baselines.end();
    if (want_bf16 && o.bf16_profile.empty())
        throw_bad_value("E9056", "--baselines", "the bf16 row needs the BF16 MAC's profile", "--bf16-profile FILE "
                        "(halo characterize --mac bf16 --analysis static)", "none");
    std::vector<std::string> quantized = o.baselines;
    if (want_iso && std::find(quantized.begin(), quantized.end(), "rtn-w8") == quantized.end()) quantized.push_back("rtn-w8");
    std::optional<accel::ModelTileLevels> rtn_w8_tiles;
    std::vector<std::pair<std::string, double>> rtn_w8_bits;
    double rtn_w8_ppl = 0, rtn_w8_bpw = 0;
    for (const auto& it : table) {
        if (std::find(quantized.begin(), quantized.end(), it.name) == quantized.end()) continue;
        const auto t0 = std::chrono::steady_clock::now();
        say(fmt::format("baseline {}", it.name));
        auto w = model::load_model(model_path);
        config = w.config;
        quant::QuantizeOptions qo;
        qo.method = it.method;
        qo.format = it.format;
        if (it.dvfs_aware) qo.granularity = quant::Granularity::per_tile(tile, tile);
        if (it.group > 0) qo.granularity = quant::Granularity::per_group(it.group);
        qo.threads = threads;
        qo.progress = sink;
        qo.device = o.device;
        qo.quantize_head = o.halo.quantize_head;  // the rows quantize their head as HALO does: equal terms
        qo.gptq.damp = o.gptq_damp;
        const auto src = it.method == quant::Method::gptq ? calibration(w) : nullptr;
        auto qm = quant::quantize_model(w, qo, src.get());
        VariantResult v;
        v.name = it.name;
        v.weights = it.wa;
        v.bits_per_weight = qm.bits.bits_per_weight();
        v.info_bits = v.bits_per_weight;
        v.perplexity = ppl(w, true, qm.head.has_value());
        say("simulate");
        v.tiles_per_level.assign(ladder.levels.size(), 0);
        if (qm.head) v.note = "LM head quantized too, with the row's format (--quantize-head); head_tiles_per_level";
        accel::ModelTileLevels tiles;
        if (it.dvfs_aware) {
            for (auto& rec : qm.linears) {
                place_tiles_at_fastest_levels(rec.tensor, ladder, tile, tile);
                for (auto l : rec.tensor.tiles.level) ++v.tiles_per_level[static_cast<std::size_t>(l)];
            }
            if (qm.head) {
                place_tiles_at_fastest_levels(qm.head->tensor, ladder, tile, tile);
                v.head_tiles_per_level.assign(ladder.levels.size(), 0);
                for (auto l : qm.head->tensor.tiles.level) ++v.head_tiles_per_level[static_cast<std::size_t>(l)];
            }
            tiles = dvfs_baseline_tile_levels(qm, w.config, ladder);
        } else {
            tiles = uniform_tile_levels(qm, w.config, tile);
            for (const auto& [n, tl] : tiles.layers) v.tiles_per_level[0] += static_cast<std::int64_t>(tl.level.size());
        }
        const auto bits = layer_bits(qm);
        fill_sim(v, {&tiles, bits, nullptr}, w.config, so, o);
        v.seconds = since(t0);
        if (it.name == "rtn-w8") rtn_w8_tiles = tiles, rtn_w8_bits = bits, rtn_w8_ppl = v.perplexity, rtn_w8_bpw = v.bits_per_weight;
        if (std::find(o.baselines.begin(), o.baselines.end(), it.name) != o.baselines.end()) rep.variants.push_back(v);
    }
    // Iso-voltage: rtn-w8's model (uniform INT8 codes) with every GEMM at ladder level i's
    // voltage and the clock every code meets there (the alpha-power law from L0's clock), so
    // the voltage part of a fast level's speed-up is separated from the fast codes' part.
    if (want_iso)
        for (std::size_t i = 1; i < ladder.levels.size(); ++i) {
            accel::SystolicOptions iso = so;
            const auto& l0 = ladder.levels[0];
            const double v_i = ladder.levels[i].voltage_v;
            if (v_i == l0.voltage_v) continue;  // a frequency-only level: its iso-voltage array is rtn-w8's row itself
            iso.dvfs.levels.push_back({fmt::format("iso-L{}", i), ladder.voltage.scale_freq(l0.freq_mhz, l0.voltage_v, v_i), v_i});
            iso.default_level = iso.activation_level = static_cast<int>(iso.dvfs.levels.size()) - 1;
            accel::ModelTileLevels at_iso = *rtn_w8_tiles;
            for (auto& [n, tl] : at_iso.layers) std::fill(tl.level.begin(), tl.level.end(), iso.default_level);
            VariantResult v;
            v.name = fmt::format("iso-L{}", i);
            v.weights = fmt::format("W8A8 {:.2f}V", v_i);
            v.bits_per_weight = v.info_bits = rtn_w8_bpw;
            v.perplexity = rtn_w8_ppl;
            v.note = fmt::format("rtn-w8's model and perplexity; every GEMM at {:.3f} V, {:.1f} MHz", v_i, iso.dvfs.levels.back().freq_mhz);
            fill_sim(v, {&at_iso, rtn_w8_bits, &iso}, config, so, o);
            v.tiles_per_level.assign(ladder.levels.size(), 0);
            rep.variants.push_back(v);
        }
    // BF16 array: its clock from the BF16 MAC profile's slowest weight (static timing, same
    // guard band), 2-byte operands; weights rounded to BF16, activations FP32.
    if (want_bf16) {
        const auto t0 = std::chrono::steady_clock::now();
        say("baseline bf16");
        const auto bp = mac::read_profile(o.bf16_profile);
        accel::SystolicOptions bf = so;
        bf.array.word_bytes = 2;
        double slowest_ns = 0;
        for (const auto& pw : bp.weights) {
            const auto& d = pw.*(timing_field(ladder.timing).field);
            if (!d) throw_bad_value("E9057", o.bf16_profile.string(), fmt::format("the BF16 profile has no {} delay", ladder.timing),
                                    "a delay for every weight", "null");
            slowest_ns = std::max(slowest_ns, *d);
        }
        const double f_mhz = 1e3 / (slowest_ns * (1 + ladder.guard_band));
        bf.dvfs.levels = {{"bf16", f_mhz, bp.nominal_voltage_v > 0 ? bp.nominal_voltage_v : ladder.nominal_voltage_v}};
        bf.dvfs.nominal = 0;
        bf.default_level = bf.activation_level = 0;
        bool bf_energy = !bp.weights.empty() && std::all_of(bp.weights.begin(), bp.weights.end(), [](const auto& pw) { return pw.energy_fj.has_value(); });
        double per_op_fj = 0;
        if (bf_energy) {
            for (const auto& pw : bp.weights) per_op_fj += *pw.energy_fj / static_cast<double>(bp.weights.size());
        } else {
            // ASSUMPTION without BF16 energies: Horowitz ISSCC 2014 (45 nm) FP16 multiply-add
            // 1.1 + 0.4 pJ against INT8 multiply + 32-bit add 0.2 + 0.1 pJ, i.e. 5x the INT8
            // machine's mean MAC energy.
            per_op_fj = 5.0 * so.mac.mean_energy_fj();
        }
        bf.mac = accel::flat_mac_table(per_op_fj);
        auto w = model::load_model(model_path);
        auto round_bf16 = [](model::Matrix& m) {
            for (auto& x : m.data) x = model::bf16_to_fp32(model::fp32_to_bf16(x));
        };
        for (auto& layer : w.layers) {
            for (auto k : model::kLinearKinds) round_bf16(layer[k]);
            for (auto& e : layer.experts)
                for (auto& m : e.linear) round_bf16(m);
        }
        round_bf16(w.token_embedding);
        round_bf16(w.output);
        VariantResult v;
        v.name = "bf16";
        v.weights = "BF16";
        v.bits_per_weight = v.info_bits = 16;
        v.perplexity = ppl(w, false);
        v.note = fmt::format("BF16 array at {:.1f} MHz ({:.3f} ns slowest weight, {}); MAC energy {:.0f} fJ/op {}", f_mhz, slowest_ns,
                             o.bf16_profile.filename().string(), per_op_fj,
                             bf_energy ? "from the profile" : "(ASSUMPTION: 5x the INT8 mean, Horowitz 45 nm ratio)");
        fill_sim(v, {nullptr, {}, &bf}, config, so, o);
        v.tiles_per_level.assign(ladder.levels.size(), 0);
        v.seconds = since(t0);
        rep.variants.push_back(v);
    }
    // HALO variants.
    for (const auto& point : o.halo_objectives) {
        const auto t0 = std::chrono::steady_clock::now();
        HaloOptions ho = halo_point(point, o.halo, ladder);
        ho.sparse_macs_per_cycle = so.energy.sparse_macs_per_cycle;
        const std::string obj = point.substr(0, point.find('@'));
        say(fmt::format("HALO {}", point));
        auto w = model::load_model(model_path);
        config = w.config;
        ho.threads = threads;
        model::FisherDiagonal fisher;
        if (ho.sensitivity == SensitivitySource::fisher) {
            say("Fisher diagonal");
            // The head's gradient only where the head is quantized (HALO reads it for the head's tiles).
            const auto head = ho.quantize_head ? model::HeadGradient::compute : model::HeadGradient::skip;
            fisher = quant::fisher_diagonal_on(o.device, w, samples, threads, sink, head);
        }
        ho.gptq_options.device = o.device;
        ho.gptq_options.damp = o.gptq_damp;
        std::optional<RoutedTileFitter> fitter;  // the GPU fits large batches of tiles; null: all on the CPU
        if (o.device) fitter.emplace(*o.device->tile_fitter(), threads, kDeviceTileFitMinJobs);
        ho.fitter = fitter ? &*fitter : nullptr;
        ModelPlan plan;
        if (ho.scope == AssignScope::model) {
            say(o.calib_int8_inputs ? "model-wide plan (statistics of INT8-per-token inputs)" : "model-wide plan (FP32 statistics)");
            plan = plan_model_wide(w, ladder, ho, calibration(w).get(), fisher.empty() ? nullptr : &fisher, sink);
            if (plan.objective_plan) {  // how far the per-layer picks are from the model's front
                const auto& op = *plan.objective_plan;
                say(fmt::format("model-wide {}: error {:.6g}, time {:.6g}; per-layer {}: error {:.6g}, time {:.6g}", obj_name(ho),
                                op.chosen.err, op.chosen.time, obj_name(ho), op.per_layer.err, op.per_layer.time));
            }
        }
        auto r = quantize_model_halo(w, ladder, ho, calibration(w).get(), fisher.empty() ? nullptr : &fisher, sink,
                                     ho.scope == AssignScope::model ? &plan : nullptr);
        VariantResult v;
        v.name = "halo-" + point;
        std::replace(v.name.begin(), v.name.end(), '/', '-');  // a directory name: model@0.2/0.5/0.3 -> model@0.2-0.5-0.3
        v.weights = fmt::format("HALO A8");
        v.bits_per_weight = r.model.bits.bits_per_weight();
        v.info_bits = information_bits_per_weight(r);
        v.perplexity = ppl(w, true, ho.quantize_head);
        say("simulate");
        const auto halo_tiles = tile_levels_of(r, w.config, w.config.name);
        v.tiles_per_level = r.tiles_per_level;
        v.head_tiles_per_level = r.head_tiles_per_level;
        if (ho.quantize_head) v.note = "LM head quantized and assigned too (--quantize-head); head_tiles_per_level";
        std::optional<VariantResult> indexed;  // the same model, its weights stored as codebook indices
        if (store_indices) {
            indexed = v;
            indexed->name += "+idx";
            indexed->bits_per_weight = v.info_bits;
            indexed->note += std::string(indexed->note.empty() ? "" : "; ") +
                             "weights stored as per-tile codebook indices (info_bits), one codebook lookup per weight read";
            fill_sim(*indexed, {&halo_tiles, index_bits_by_gemm(r), nullptr, accel::WeightStorage::indices}, w.config, so, o);
        }
        if (store_codes) fill_sim(v, {&halo_tiles, layer_bits(r.model), nullptr}, w.config, so, o);
        quant::RunInfo info;
        info.source_model = std::filesystem::absolute(model_path).string();
        info.source_format = w.source_format;
        info.calibration = {{"file", calib_path.string()}, {"samples", o.samples}, {"seq_len", o.seq_len}, {"seed", o.seed},
                            {"inputs", o.calib_int8_inputs ? "int8_per_token" : "fp32"}};
        info.provenance = provenance;
        info.flags = {{"method", "halo"}, {"objective", obj}, {"budget", ho.budget}, {"perplexity", v.perplexity},
                      {"quantize_head", ho.quantize_head},
                      {"device", o.device ? o.device->placement("halo") : nlohmann::json("cpu")}};
        if (ho.scope == AssignScope::model && ho.model_objective) info.flags["model_objective"] = obj_name(ho);
        else if (ho.scope == AssignScope::model) info.flags["level_shares"] = ho.level_shares;
        say(fmt::format("writing {}", v.name));
        write_halo_dir(out / v.name, r, ladder, ho, info, w.config, w.config.name, true, so, have_energy ? &profile : nullptr);
        v.seconds = since(t0);
        if (store_codes) rep.variants.push_back(v);
        if (indexed) {
            indexed->seconds = v.seconds;
            rep.variants.push_back(*indexed);
        }
    }

    // 6. Table, JSON, report, plot.
    std::string decode_heads;
    for (auto b : o.decode_batches) decode_heads += fmt::format(" {:>11}", fmt::format("d{} spd/en", b));
    rep.table = fmt::format("{:<22} {:<10} {:>7} {:>7} {:>10} {:>8} {:>8} {:>8} {:>8}{}\n", "variant", "arith", "bits", "info_b",
                            "ppl", "speedup", "energy", "mac_en", "switches", decode_heads);
    if (o.fp_reference) rep.table += fmt::format("{:<22} {:<10} {:>7} {:>7} {:>10.4f}\n", "fp32", "FP32", 32, 32, fp_ppl);
    for (const auto& v : rep.variants) rep.table += fmt_row(v);
    nlohmann::json vj = nlohmann::json::array();
    for (const auto& v : rep.variants) {
        nlohmann::json ph = nlohmann::json::object();
        for (const auto& p : v.phases) ph[p.phase] = {{"speedup", p.speedup}, {"energy_ratio", p.energy_ratio}};
        nlohmann::json scaled = nlohmann::json::array();
        for (const auto& [scale, phases] : v.phases_at_scale) {
            nlohmann::json one = {{"mac_energy_scale", scale}};
            for (const auto& p : phases) one[p.phase] = {{"speedup", p.speedup}, {"energy_ratio", p.energy_ratio}};
            scaled.push_back(one);
        }
        vj.push_back({{"name", v.name}, {"arith", v.weights}, {"bits_per_weight", v.bits_per_weight}, {"info_bits", v.info_bits},
                      {"perplexity", v.perplexity}, {"speedup", v.speedup}, {"energy_ratio", v.energy_ratio},
                      {"mac_energy_ratio", v.mac_energy_ratio}, {"switches", v.switches},
                      {"tiles_per_level", v.tiles_per_level}, {"head_tiles_per_level", v.head_tiles_per_level}, {"phases", ph}, {"phases_at_mac_energy_scale", scaled}, {"note", v.note}, {"seconds", v.seconds}});
    }
    rep.json = {{"format", "halo-run"}, {"version", 1}, {"date", provenance.date_utc},
                {"halo_version", provenance.halo_version}, {"git_commit", provenance.git_commit},
                {"command", provenance.command_line}, {"cpu_gemm", model::gemm_kernel_name()}, {"model", model_path.string()},
                {"model_name", config.name}, {"eval_text", eval_path.string()}, {"ctx", o.ctx}, {"max_chunks", o.max_chunks},
                {"calibration", {{"file", calib_path.string()}, {"samples", o.samples}, {"seq_len", o.seq_len}, {"seed", o.seed},
                                 {"inputs", o.calib_int8_inputs ? "int8_per_token" : "fp32"}, {"gptq_damp", o.gptq_damp}}},
                {"profile", profile_info}, {"ladder", ladder_json(ladder)}, {"mac_energy_from_profile", have_energy},
                {"simulator", {{"array", o.array}, {"dataflow", "ws"}, {"phase", "prefill"}, {"seq_len", o.sim_seq_len},
                               {"decode_batches", o.decode_batches}, {"decode_context", o.sim_seq_len},
                               {"mac_energy_scale", o.mac_energy_scale},
                               {"dram_bandwidth_gbps", so.array.dram_bandwidth_gbps}, {"dram_pj_per_byte", so.energy.dram_pj_per_byte},
                               {"sram_pj_per_byte", so.energy.sram_pj_per_byte},
                               {"baseline", "uniform INT8 codes, every tile at L0 (nominal clock and voltage)"}}},
                {"fp32_perplexity", o.fp_reference ? nlohmann::json(fp_ppl) : nlohmann::json(nullptr)},
                {"variants", vj}, {"seconds", since(t_all)}};
    if (o.device) {
        rep.json["device"] = o.device->placement("gptq");
        rep.json["device"]["halo"] = o.device->placement("halo")["halo"];
        rep.json["device"]["perplexity"] = "cpu (A8 activation hooks)";
        rep.json["device"]["simulate"] = "cpu";
        rep.json["peak_gpu_gib"] = o.device->peak_device_gib();
    } else {
        rep.json["device"] = "cpu";
    }
    write_file_atomic(out / "results.json", dump_json(rep.json, 1, (out / "results.json").string()) + "\n");
    write_file_atomic(out / "pareto.svg", pareto_svg(rep.variants, fp_ppl));
    write_file_atomic(out / "pareto_energy.svg", pareto_svg(rep.variants, fp_ppl, true));
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
                      "profile: {}.\n\n## Results\n\n```\n{}```\n\n![Pareto](pareto.svg) ![Pareto, energy](pareto_energy.svg)\n",
                      ladder.voltage.vt_v, ladder.voltage.alpha, ladder.timing, ladder.guard_band, have_energy ? "yes" : "no (flat)",
                      rep.table);
    write_file_atomic(out / "report.md", md);
    out.commit();
    return rep;
}

std::vector<std::string> baseline_names() {
    std::vector<std::string> v;
    for (const auto& b : baseline_table()) v.push_back(b.name);
    v.push_back("iso");
    v.push_back("bf16");
    return v;
}

std::vector<std::string> halo_storage_names() { return {"codes", "indices"}; }

std::string pareto_svg(const std::vector<VariantResult>& vs, double fp_ppl, bool energy_axis) {
    auto xv = [&](const VariantResult& v) { return energy_axis ? v.energy_ratio : v.speedup; };
    const double W = 640, H = 420, L = 70, R = 20, T = 30, B = 50;
    double x0 = 0.9, x1 = 1.1, y0 = fp_ppl > 0 ? fp_ppl : 1e300, y1 = 0;
    for (const auto& v : vs) x0 = std::min(x0, xv(v)), x1 = std::max(x1, xv(v)), y0 = std::min(y0, v.perplexity), y1 = std::max(y1, v.perplexity);
    if (!(y1 > y0)) y1 = y0 + 1;
    const double pad = (y1 - y0) * 0.08, xpad = (x1 - x0) * 0.15;  // room for the labels right of a point
    y0 -= pad, y1 += pad, x1 += xpad;
    auto X = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    auto Y = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - T - B); };
    std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
                                "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n", W, H);
    s += fmt::format("<text x=\"{}\" y=\"18\" font-size=\"14\">Perplexity vs simulated prefill {} (vs uniform INT8 at L0)</text>\n", L,
                     energy_axis ? "energy ratio" : "speed-up");
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/>\n", L, T, L, H - B);
    for (int i = 0; i <= 4; ++i) {
        const double x = x0 + (x1 - x0) * i / 4, y = y0 + (y1 - y0) * i / 4;
        s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{:.2f}</text>\n", X(x), H - B + 16, x);
        s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{:.2f}</text>\n", L - 4, Y(y) + 4, y);
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", (L + W - R) / 2, H - 10,
                     energy_axis ? "energy ratio (lower is better)" : "speed-up");
    s += fmt::format("<text x=\"14\" y=\"{}\" transform=\"rotate(-90 14 {})\" text-anchor=\"middle\">perplexity</text>\n",
                     (T + H - B) / 2, (T + H - B) / 2);
    if (fp_ppl > 0)
        s += fmt::format("<line x1=\"{}\" y1=\"{:.1f}\" x2=\"{}\" y2=\"{:.1f}\" stroke=\"gray\" stroke-dasharray=\"4 3\"/>"
                         "<text x=\"{}\" y=\"{:.1f}\" fill=\"gray\">FP32</text>\n",
                         L, Y(fp_ppl), W - R, Y(fp_ppl), W - R - 40, Y(fp_ppl) - 4);
    for (const auto& v : vs) {
        const bool halo = v.name.rfind("halo", 0) == 0;
        const bool dvfs = v.name.find("-dvfs") != std::string::npos || v.name.rfind("iso", 0) == 0;
        s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\">{}</text>\n",
                         X(xv(v)), Y(v.perplexity), halo ? "#d62728" : dvfs ? "#2ca02c" : "#1f77b4", X(xv(v)) + 7, Y(v.perplexity) - 6, v.name);
    }
    return s + "</svg>\n";
}

}  // namespace halo::jobs
