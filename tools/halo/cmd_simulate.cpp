// `halo simulate`: cycles, time and energy of a model's GEMMs (or a SCALE-Sim topology) on a
// systolic array or a GPU model, against a baseline (uniform INT8 at the nominal clock); or, with
// --design NAME (or --quantized DIR whose manifest names an Amove/baseline format), a hardware
// design of accel/design_sim.hpp on the systolic array or a tensor core, against --baseline
// (a design, default int8).
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flags.hpp"
#include "halo/quant/quant_dir.hpp"
#include "menus.hpp"
#include "halo/accel/design_report.hpp"
#include "halo/accel/design_select.hpp"
#include "halo/accel/design_sim.hpp"
#include "halo/accel/gpu.hpp"
#include "halo/accel/report.hpp"
#include "halo/accel/scalesim_io.hpp"
#include "halo/accel/sim_config.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/model/safetensors_reader.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cli {

namespace {

struct SimulateArgs {
    std::string arch = "systolic", array, dataflow, model, hf_config, quantized, tile_levels, profile, config_file,
                topology, scalesim_cfg, out, reorder, gpu, gpu_path, baseline, design, json;  // "" = the default below
    long long seq = 2048, batch = 0, context = 2048;
    double switch_penalty_ns = -1;
    bool no_verify = false;  // --no-verify: trust the --quantized directory's files
};

// The options whose use depends on the mode (checked by check_mode_flags before any work).
struct SimulateModeFlags {
    CLI::Option *array, *dataflow, *profile, *config_file, *scalesim_cfg, *reorder, *switch_penalty, *gpu, *gpu_path,
        *tile_levels, *seq, *batch, *context, *model, *hf_config, *quantized;
};

// A flag that does not apply to the chosen machine, phase or workload is an error, not ignored.
void check_mode_flags(const SimulateArgs& a, const SimulateModeFlags& o) {
    if (a.arch == "gpu") {
        const CLI::Option* const systolic_only[] = {o.array, o.dataflow, o.profile, o.config_file, o.scalesim_cfg, o.reorder};
        refuse_flags(systolic_only, "to --arch gpu (the GPU roofline has no array, dataflow or MAC profile)");
    } else {
        const CLI::Option* const gpu_only[] = {o.gpu, o.gpu_path};
        refuse_flags(gpu_only, "to --arch " + a.arch + " (they choose the GPU of --arch gpu)");
    }
    if (a.arch == "tensor-core") {
        const CLI::Option* const array_only[] = {o.array, o.dataflow, o.scalesim_cfg};
        refuse_flags(array_only, "to --arch tensor-core (they shape the systolic array)");
    }
    if (!a.topology.empty()) {
        const CLI::Option* const model_only[] = {o.model, o.hf_config, o.tile_levels, o.seq, o.batch, o.context};
        refuse_flags(model_only, "to a --topology workload (its GEMMs are given)");
    } else if (a.batch > 0) {
        const CLI::Option* const prefill_only[] = {o.seq};
        refuse_flags(prefill_only, "to decode (--batch B); the decode length is --context");
    } else {
        const CLI::Option* const decode_only[] = {o.context};
        refuse_flags(decode_only, "to prefill (no --batch); the prefill length is --seq");
    }
}

void write_reports(const std::string& out, const nlohmann::json& j, const std::string& svg) {
    write_file_atomic(out, j.dump(2) + "\n");
    write_file_atomic(std::filesystem::path(out).replace_extension(".svg"), svg);
}

int run_design(const SimulateArgs& a, const std::vector<accel::WorkItem>& work, const std::string& workload_name,
               const accel::DesignPick& pick, const accel::ArrayConfig& array, const accel::EnergyConstants& energy) {
    using namespace halo::accel;
    DesignMachine m;
    m.arch = a.arch == "tensor-core" ? DesignArch::tensor_core : DesignArch::systolic;
    m.array = array;
    m.energy = energy;
    const AmoveDesign& d = *pick.design;
    const std::string base_name = a.baseline.empty() ? "int8" : a.baseline;
    const bool with_baseline = base_name != "none";
    const DesignResult run = simulate_design(work, d, m);
    DesignResult base;
    if (with_baseline) base = simulate_design(work, amove_design(base_name, "--baseline"), m);
    const DesignRunInfo info{workload_name, pick.reason.empty() ? "" : (std::filesystem::path(a.quantized) / "manifest.json").string(),
                             pick.reason};
    const nlohmann::json j = design_report_json(run, d, with_baseline ? &base : nullptr, info);
    if (!a.out.empty()) write_reports(a.out, j, design_report_svg(run, fmt::format("{} {}: {}", d.name, a.arch, workload_name)));
    if (!a.json.empty()) write_json_output(a.json, j.dump(2));
    if (a.json == "-") return 0;
    if (!pick.reason.empty()) fmt::print("design {} (picked from {}: {})\n", d.name, info.picked_from, pick.reason);
    fmt::print("{} on {}, {}\n", d.name, a.arch, workload_name);
    fmt::print("{:<24} {:>8} {:>8} {:>8} {:>6} {:>14} {:>14} {:>8} {:>12} {:>12}\n", "layer", "M", "K", "N", "count", "mac_cycles",
               "cycles", "bound", "time_s", "energy_j");
    for (const auto& L : run.layers)
        fmt::print("{:<24} {:>8} {:>8} {:>8} {:>6} {:>14.0f} {:>14.0f} {:>8} {:>12.4e} {:>12.4e}\n", L.name, L.M, L.K, L.N, L.count,
                   L.mac_cycles, L.cycles(run.clock_hz), bound_name(L.bound), L.time_s, L.energy.total() * 1e-12);
    const auto& T = run.total;
    const auto& E = T.energy;
    fmt::print("total: cycles {:.0f} (MAC cycles {:.0f}) time {:.6g} s energy {:.6g} J (mac {:.3g}, rescale {:.3g}, decode {:.3g}, "
               "sram {:.3g}, dram {:.3g}); decoder-bound GEMMs {} of {}\n",
               T.cycles, T.mac_cycles, T.seconds, E.total() * 1e-12, E.mac * 1e-12, E.rescale * 1e-12, E.decode * 1e-12,
               E.sram * 1e-12, E.dram * 1e-12, T.decoder_bound, run.layers.size());
    if (with_baseline)
        fmt::print("baseline {}: time {:.6g} s energy {:.6g} J; speed-up {:.4f}x, energy ratio {:.4f} ({:.4f}x less)\n", base.design,
                   base.total.seconds, base.total.energy.total() * 1e-12, j["speedup"].get<double>(), j["energy_ratio"].get<double>(),
                   j["energy_saving"].get<double>());
    return 0;
}

int run_simulate(const SimulateArgs& a, const SimulateModeFlags& mode_flags) {
    using namespace halo::accel;
    require_member("--arch", a.arch, simulate_arch_names(), "machine");
    if (!a.design.empty()) require_member("--design", a.design, design_names(), "hardware design");
    if (!a.model.empty()) require_member("--model", a.model, builtin_model_names(), "built-in model");
    if (!a.dataflow.empty()) require_member("--dataflow", a.dataflow, dataflow_names(), "dataflow");
    if (!a.gpu.empty()) require_member("--gpu", a.gpu, gpu_model_names(), "GPU");
    if (!a.gpu_path.empty()) require_member("--gpu-path", a.gpu_path, gpu_path_names(), "GPU number path");
    static const std::string reorders[] = {"level", "none"};
    if (!a.reorder.empty()) require_member("--reorder", a.reorder, reorders, "tile order");
    if (!a.out.empty()) require_extension("--out", a.out, ".json");
    check_mode_flags(a, mode_flags);
    const NamedPath inputs[] = {{"--config", a.hf_config},       {"--tile-levels", a.tile_levels}, {"--profile", a.profile},
                                {"--config-file", a.config_file}, {"--topology", a.topology},       {"--scalesim-cfg", a.scalesim_cfg}};
    require_not_input("--out", a.out, inputs);
    if (!a.out.empty()) require_not_input("--out", std::filesystem::path(a.out).replace_extension(".svg").string(), inputs);
    require_not_input("--json", a.json, inputs);
    // A hardware design: named, or picked from the quantized directory's manifest (a HALO
    // directory or one without a manifest keeps the tile-level path).
    std::optional<DesignPick> pick;
    if (!a.design.empty()) {
        if (!a.quantized.empty()) throw_usage("E7061", "give --design NAME or --quantized DIR (which picks the design), not both");
        pick = DesignPick{&amove_design(a.design), ""};
    } else if (!a.quantized.empty()) {
        // The files simulate reads from the directory match the digests its manifest records
        // (a directory of tile_levels.json alone has no manifest to check against).
        if (!a.no_verify && std::filesystem::exists(std::filesystem::path(a.quantized) / "manifest.json"))
            quant::verify_quantized_files(a.quantized, {"tile_levels.json", "sim_config.json", "mac_profile.json"});
        pick = design_from_quantized_dir(a.quantized);
    }
    if (!pick && !a.topology.empty()) {
        const CLI::Option* const model_only[] = {mode_flags.quantized};
        refuse_flags(model_only, "to a --topology workload on the HALO/DVFS path (its tile levels are per model layer)");
    }
    if (pick && a.arch == "gpu")
        throw_usage("E7062", "--arch gpu runs the HALO/DVFS roofline; a hardware design runs on --arch systolic or tensor-core");
    if (!pick && a.arch == "tensor-core")
        throw_usage("E7063", "--arch tensor-core simulates a hardware design: give --design NAME or --quantized DIR with an "
                             "Amove or baseline manifest");
    if (pick) {
        const CLI::Option* const halo_only[] = {mode_flags.tile_levels, mode_flags.profile, mode_flags.reorder,
                                                mode_flags.switch_penalty, mode_flags.gpu, mode_flags.gpu_path};
        refuse_flags(halo_only, "to --design runs (they belong to the HALO/DVFS path)");
        if (!a.baseline.empty() && a.baseline != "none") require_member("--baseline", a.baseline, design_names(), "hardware design");
    }
    // Workload: a SCALE-Sim topology, or a transformer from a built-in name / config.json.
    std::vector<WorkItem> work;
    std::string workload_name;
    model::ModelConfig mc;
    SystolicOptions so;
    if (!a.scalesim_cfg.empty()) {
        ScaleSimConfig sc = read_scalesim_config(a.scalesim_cfg);
        so.array = sc.array;
    }
    // A HALO directory carries the machine it was quantized for (its array, its ladder's DVFS
    // table, and the MAC profile's energies): read first, so --config-file, --array, --profile
    // still override it.
    const std::filesystem::path quantized_dir = a.quantized;
    const bool halo_dir = !a.quantized.empty() && !pick;
    if (halo_dir && std::filesystem::exists(quantized_dir / "sim_config.json"))
        read_simulator_config(so, quantized_dir / "sim_config.json");
    if (!a.config_file.empty()) read_simulator_config(so, a.config_file);
    if (!a.array.empty()) {
        const ShapeRc shape = parse_shape_rc("--array", a.array, 16384);
        so.array.rows = static_cast<int>(shape.rows);
        so.array.cols = static_cast<int>(shape.cols);
    }
    if (!a.dataflow.empty()) so.array.dataflow = parse_dataflow(a.dataflow);
    if (a.switch_penalty_ns >= 0) so.dvfs.switch_penalty_ns = a.switch_penalty_ns;
    const std::string reorder = a.reorder.empty() ? "level" : a.reorder;
    so.reorder = reorder == "level" ? Reorder::by_level : Reorder::none;
    validate(so.array);
    if (!a.topology.empty()) {
        for (auto& g : read_scalesim_topology(a.topology)) work.push_back({g});
        workload_name = a.topology;
    } else {
        if (a.model.empty() == a.hf_config.empty())
            throw_usage("E7064", "give exactly one of --model NAME, --config config.json or --topology FILE.csv");
        mc = a.model.empty() ? model::read_hf_config(a.hf_config) : builtin_model(a.model);
        Phase ph;
        if (a.batch > 0) {
            ph.kind = Phase::Kind::decode;
            ph.batch = a.batch;
            ph.context = a.context;
        } else {
            ph.seq_len = a.seq;
        }
        work = transformer_workload(mc, ph);
        workload_name = (mc.name.empty() ? a.hf_config : mc.name) +
                        (a.batch > 0 ? fmt::format(" decode B={} C={}", a.batch, a.context) : fmt::format(" prefill L={}", a.seq));
        // Glue point: a quantized model directory's per-tile levels arrive as halo's tile-level
        // file (docs/formats.md "Tile levels"), DIR/tile_levels.json until the quant manifest
        // reader lands.
        std::string levels_file = !a.tile_levels.empty()            ? a.tile_levels
                                  : !a.quantized.empty() && !pick ? (std::filesystem::path(a.quantized) / "tile_levels.json").string()
                                                                  : std::string();
        if (!levels_file.empty()) attach_tile_levels(work, mc, read_tile_levels(levels_file), levels_file);
    }
    if (pick) return run_design(a, work, workload_name, *pick, so.array, so.energy);
    // The HALO/DVFS path compares with uniform INT8 at the nominal level or nothing; a design
    // name here would be silently ignored.
    if (!a.baseline.empty() && a.baseline != "nominal" && a.baseline != "none")
        throw_bad_value("E7073", "--baseline", "the HALO/DVFS path takes no design as its baseline", "nominal or none", a.baseline,
                        "design baselines go with --design NAME or --quantized DIR of an Amove/baseline run");
    SimResult run, base;
    const bool with_baseline = a.baseline != "none";
    if (a.arch == "systolic") {
        const std::filesystem::path dir_profile = halo_dir ? quantized_dir / "mac_profile.json" : std::filesystem::path();
        so.mac = !a.profile.empty()                                          ? read_mac_profile(a.profile)
                 : !dir_profile.empty() && std::filesystem::exists(dir_profile) ? read_mac_profile(dir_profile)
                                                                                : flat_mac_table(so.energy.mac_energy_fj);
        run = simulate_systolic(work, so);
        if (with_baseline) base = simulate_systolic(baseline_workload(work), so);
    } else {
        GpuOptions go = default_gpu_options(a.gpu.empty() ? "h100" : a.gpu);
        go.path = parse_gpu_path(a.gpu_path.empty() ? "int8" : a.gpu_path);
        if (a.switch_penalty_ns >= 0) go.dvfs.switch_penalty_ns = a.switch_penalty_ns;
        run = simulate_gpu(work, go);
        if (with_baseline) base = simulate_gpu(baseline_workload(work), go);
    }
    RunInfo info{a.arch, workload_name, with_baseline ? "uniform INT8 at the nominal level" : "none"};
    nlohmann::json j = report_json(run, with_baseline ? &base : nullptr, info);
    if (!a.out.empty()) write_reports(a.out, j, report_svg(run, a.arch + ": " + workload_name));
    if (!a.json.empty()) write_json_output(a.json, j.dump(2));
    if (a.json == "-") return 0;
    fmt::print("{:<24} {:>8} {:>8} {:>8} {:>14} {:>6} {:>12} {:>12}\n", "layer", "M", "K", "N", "cycles", "util", "time_s", "energy_j");
    for (const auto& L : run.layers)
        fmt::print("{:<24} {:>8} {:>8} {:>8} {:>14} {:>6.3f} {:>12.4e} {:>12.4e}\n", L.name, L.M, L.K, L.N,
                   L.stats.cycles * L.count, L.stats.overall_util, L.time_s, L.energy.total_j());
    const auto& T = run.total;
    fmt::print("total: cycles {} time {:.6g} s energy {:.6g} J (mac {:.3g}, sram {:.3g}, dram {:.3g}, leakage {:.3g}, "
               "switch {:.3g}, sparse {:.3g}, zero point {:.3g}), switches {}\n",
               T.cycles, T.time_s, T.energy.total_j(), T.energy.mac_j, T.energy.sram_j, T.energy.dram_j, T.energy.leakage_j,
               T.energy.dvfs_switch_j, T.energy.sparse_j, T.energy.zero_point_j, T.switches);
    if (with_baseline)
        fmt::print("baseline: time {:.6g} s energy {:.6g} J; speed-up {:.4f}x, energy ratio {:.4f}\n", base.total.time_s,
                   base.total.energy.total_j(), j["speedup"].get<double>(), j["energy_ratio"].get<double>());
    return 0;
}

}  // namespace

Command simulate_command() {
    return {"simulate", "simulate cycles, time and energy of a model or SCALE-Sim topology on a systolic array or GPU",
            [](CLI::App& app) -> std::function<int()> {
                auto a = std::make_shared<SimulateArgs>();
                SimulateModeFlags m{};
                app.add_option("--arch", a->arch, "machine: " + menu_text(simulate_arch_names()) +
                                                      " (default systolic; tensor-core with a design, gpu without)");
                app.add_option("--design", a->design, "hardware design: " + menu_text(design_names()));
                m.array = app.add_option("--array", a->array, "systolic array shape RxC (default 128x128)");
                m.dataflow = app.add_option("--dataflow", a->dataflow, "systolic dataflow: " + menu_text(dataflow_names()) + " (default ws)");
                m.model = app.add_option("--model", a->model, "built-in shape: " + menu_text(builtin_model_names()));
                m.hf_config = app.add_option("--config", a->hf_config, "Hugging Face config.json of the model");
                m.quantized = app.add_option("--quantized", a->quantized, "quantized model directory: an Amove/baseline manifest picks the design; a HALO one gives its tiles (DIR/tile_levels.json) and machine (DIR/sim_config.json, DIR/mac_profile.json; --config-file, --array, --profile override)");
                app.add_flag("--no-verify", a->no_verify, "--quantized: skip the SHA-256 checks of the directory's files")
                    ->needs(m.quantized);
                m.tile_levels = app.add_option("--tile-levels", a->tile_levels, "halo tile-level file (docs/formats.md)");
                m.seq = app.add_option("--seq", a->seq, "prefill sequence length L (default 2048)")->check(CLI::Range(1LL, 1LL << 24));
                m.batch = app.add_option("--batch", a->batch, "decode batch B (selects decode)")->check(CLI::Range(1LL, 1LL << 20));
                m.context = app.add_option("--context", a->context, "decode context C (default 2048)")->check(CLI::Range(1LL, 1LL << 24));
                m.profile = app.add_option("--profile", a->profile, "MAC profile.json from `halo characterize`");
                m.config_file = app.add_option("--config-file", a->config_file, "simulator config JSON (array, dvfs, energy constants)");
                app.add_option("--topology", a->topology, "SCALE-Sim GEMM topology CSV (name, M, N, K,)");
                m.scalesim_cfg = app.add_option("--scalesim-cfg", a->scalesim_cfg, "SCALE-Sim .cfg for the array");
                m.reorder = app.add_option("--reorder", a->reorder, "group tiles by level: level (default) or none");
                m.switch_penalty = app.add_option("--switch-penalty-ns", a->switch_penalty_ns, "DVFS switch penalty in ns (default 1000)")
                                       ->check(finite_in(0, 1e12));
                m.gpu = app.add_option("--gpu", a->gpu, "GPU of --arch gpu: " + menu_text(gpu_model_names()) + " (default h100)");
                m.gpu_path = app.add_option("--gpu-path", a->gpu_path, "number path of --arch gpu: " + menu_text(gpu_path_names()) + " (default int8)");
                app.add_option("--baseline", a->baseline, "HALO path: nominal (default: uniform INT8 at the nominal level) or none; design runs: a design (default int8) or none");
                app.add_option("--out", a->out, "FILE.json: write the JSON report there and its chart beside it (FILE.svg)");
                add_json_option(app, a->json, "the JSON report");
                return [a, m] { return run_simulate(*a, m); };
            }};
}

}  // namespace halo::cli
