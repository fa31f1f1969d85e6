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
#include "halo/jobs/simulate_job.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::cli {

namespace {

struct SimulateArgs : jobs::SimulateJobOptions {
    std::string json;  // --json: "" none, "-" stdout, else a path
    bool no_verify = false;  // --no-verify: trust the --quantized directory's files
};

// The options whose use depends on the mode (checked by check_mode_flags before any work).
struct SimulateModeFlags {
    CLI::Option *array, *dataflow, *profile, *config_file, *scalesim_cfg, *reorder, *switch_penalty, *gpu, *gpu_path,
        *tile_levels, *seq, *batch, *context, *model_shape, *hf_config, *model, *quantized;
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
        const CLI::Option* const model_only[] = {o.model_shape, o.hf_config, o.model, o.tile_levels, o.seq, o.batch, o.context};
        refuse_flags(model_only, "to a --topology workload (its GEMMs are given)");
    } else if (a.batch > 0) {
        const CLI::Option* const prefill_only[] = {o.seq};
        refuse_flags(prefill_only, "to decode (--batch B); the decode length is --context");
    } else {
        const CLI::Option* const decode_only[] = {o.context};
        refuse_flags(decode_only, "to prefill (no --batch); the prefill length is --seq");
    }
}

int print_design_run(const SimulateArgs& a, const jobs::SimulateJobResult& r) {
    using namespace halo::accel;
    if (!r.pick_reason.empty()) fmt::print("design {} (picked from {}: {})\n", r.design->name, r.picked_from, r.pick_reason);
    fmt::print("{} on {}, {}\n", r.design->name, a.arch, r.workload);
    const DesignResult& run = r.design_run;
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
    if (r.with_baseline)
        fmt::print("baseline {}: time {:.6g} s energy {:.6g} J; speed-up {:.4f}x, energy ratio {:.4f} ({:.4f}x less)\n",
                   r.design_base.design, r.design_base.total.seconds, r.design_base.total.energy.total() * 1e-12,
                   r.report["speedup"].get<double>(), r.report["energy_ratio"].get<double>(), r.report["energy_saving"].get<double>());
    return 0;
}

int run_simulate(const SimulateArgs& a, const SimulateModeFlags& mode_flags) {
    using namespace halo::accel;
    require_member("--arch", a.arch, simulate_arch_names(), "machine");
    if (!a.design.empty()) require_member("--design", a.design, design_names(), "hardware design");
    if (!a.model_shape.empty()) require_member("--model-shape", a.model_shape, builtin_model_names(), "built-in model shape");
    if (!a.dataflow.empty()) require_member("--dataflow", a.dataflow, dataflow_names(), "dataflow");
    if (!a.gpu.empty()) require_member("--gpu", a.gpu, gpu_model_names(), "GPU");
    if (!a.gpu_path.empty()) require_member("--gpu-path", a.gpu_path, gpu_path_names(), "GPU number path");
    static const std::string reorders[] = {"level", "none"};
    if (!a.reorder.empty()) require_member("--reorder", a.reorder, reorders, "tile order");
    if (!a.out.empty()) require_extension("--out", a.out, ".json");
    check_mode_flags(a, mode_flags);
    const NamedPath inputs[] = {{"--hf-config", a.hf_config},       {"--tile-levels", a.tile_levels}, {"--profile", a.profile},
                                {"--config-file", a.config_file}, {"--topology", a.topology},       {"--scalesim-cfg", a.scalesim_cfg},
                                {"--model", a.model}};
    require_not_input("--out", a.out, inputs);
    if (!a.out.empty()) require_not_input("--out", std::filesystem::path(a.out).replace_extension(".svg").string(), inputs);
    require_not_input("--json", a.json, inputs);
    // The files simulate reads from a quantized directory match the digests its manifest records
    // (a directory of tile_levels.json alone has no manifest to check against).
    if (!a.no_verify && !a.quantized.empty() && std::filesystem::exists(std::filesystem::path(a.quantized) / "manifest.json"))
        quant::verify_quantized_files(a.quantized, {"tile_levels.json", "sim_config.json", "mac_profile.json"});
    if (!a.design.empty()) {  // a design picked from --quantized is checked by the job (E7065)
        const CLI::Option* const halo_only[] = {mode_flags.tile_levels, mode_flags.profile, mode_flags.reorder,
                                                mode_flags.switch_penalty, mode_flags.gpu, mode_flags.gpu_path};
        refuse_flags(halo_only, "to --design runs (they belong to the HALO/DVFS path)");
        if (!a.baseline.empty() && a.baseline != "none") require_member("--baseline", a.baseline, design_names(), "hardware design");
    }
    const jobs::SimulateJobResult r = jobs::run_simulate_job(a);
    if (!a.json.empty()) write_json_output(a.json, dump_json(r.report, 2, a.json));
    if (a.json == "-") return 0;
    if (r.design) return print_design_run(a, r);
    const auto& run = r.run;
    fmt::print("{:<24} {:>8} {:>8} {:>8} {:>14} {:>6} {:>12} {:>12}\n", "layer", "M", "K", "N", "cycles", "util", "time_s", "energy_j");
    for (const auto& L : run.layers)
        fmt::print("{:<24} {:>8} {:>8} {:>8} {:>14} {:>6.3f} {:>12.4e} {:>12.4e}\n", L.name, L.M, L.K, L.N,
                   L.stats.cycles * L.count, L.stats.overall_util, L.time_s, L.energy.total_j());
    const auto& T = run.total;
    fmt::print("total: cycles {} time {:.6g} s energy {:.6g} J (mac {:.3g}, sram {:.3g}, dram {:.3g}, leakage {:.3g}, "
               "switch {:.3g}, sparse {:.3g}, zero point {:.3g}), switches {}\n",
               T.cycles, T.time_s, T.energy.total_j(), T.energy.mac_j, T.energy.sram_j, T.energy.dram_j, T.energy.leakage_j,
               T.energy.dvfs_switch_j, T.energy.sparse_j, T.energy.zero_point_j, T.switches);
    if (r.with_baseline)
        fmt::print("baseline: time {:.6g} s energy {:.6g} J; speed-up {:.4f}x, energy ratio {:.4f}\n", r.base.total.time_s,
                   r.base.total.energy.total_j(), r.report["speedup"].get<double>(), r.report["energy_ratio"].get<double>());
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
                m.model_shape = app.add_option("--model-shape", a->model_shape, "built-in model shape: " + menu_text(builtin_model_names()));
                m.hf_config = app.add_option("--hf-config", a->hf_config, "Hugging Face config.json of the model (its shape)");
                m.model = app.add_option("--model", a->model, "a model's own shape: GGUF file, safetensors directory or installed "
                                                              "name (only its config and tensor shapes are read)");
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
