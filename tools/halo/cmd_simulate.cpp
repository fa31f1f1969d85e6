// `halo simulate`: cycles, time and energy of a model's GEMMs (or a SCALE-Sim topology) on a
// systolic array or a GPU model, against a baseline (uniform INT8 at the nominal clock).
#include <filesystem>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "halo/accel/gpu.hpp"
#include "halo/accel/report.hpp"
#include "halo/accel/scalesim_io.hpp"
#include "halo/accel/sim_config.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cli {

namespace {

struct SimulateArgs {
    std::string arch = "systolic", array, dataflow, model, hf_config, quantized, tile_levels, profile, config_file,
                topology, scalesim_cfg, out, reorder = "level", gpu = "h100", gpu_path = "int8", baseline = "nominal";
    long long seq = 2048, batch = 0, context = 2048;
    double switch_penalty_ns = -1;
    bool json = false;
};

int run_simulate(const SimulateArgs& a) {
    using namespace halo::accel;
    if (a.arch != "systolic" && a.arch != "gpu") throw_usage("E7060", "--arch must be systolic or gpu, not " + a.arch);
    // Workload: a SCALE-Sim topology, or a transformer from a built-in name / config.json.
    std::vector<WorkItem> work;
    std::string workload_name;
    model::ModelConfig mc;
    SystolicOptions so;
    if (!a.scalesim_cfg.empty()) {
        ScaleSimConfig sc = read_scalesim_config(a.scalesim_cfg);
        so.array = sc.array;
    }
    if (!a.config_file.empty()) read_simulator_config(so, a.config_file);
    if (!a.array.empty()) parse_array_shape(a.array, so.array);
    if (!a.dataflow.empty()) so.array.dataflow = parse_dataflow(a.dataflow);
    if (a.switch_penalty_ns >= 0) so.dvfs.switch_penalty_ns = a.switch_penalty_ns;
    if (a.reorder != "level" && a.reorder != "none") throw_usage("E7060", "--reorder must be level or none");
    so.reorder = a.reorder == "level" ? Reorder::by_level : Reorder::none;
    validate(so.array);
    if (!a.topology.empty()) {
        for (auto& g : read_scalesim_topology(a.topology)) work.push_back({g});
        workload_name = a.topology;
    } else {
        if (a.model.empty() == a.hf_config.empty())
            throw_usage("E7060", "give exactly one of --model NAME, --config config.json or --topology FILE.csv");
        mc = a.model.empty() ? read_hf_config(a.hf_config) : builtin_model(a.model);
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
        std::string levels_file = !a.tile_levels.empty() ? a.tile_levels
                                  : !a.quantized.empty() ? (std::filesystem::path(a.quantized) / "tile_levels.json").string()
                                                         : std::string();
        if (!levels_file.empty()) attach_tile_levels(work, mc, read_tile_levels(levels_file), levels_file);
    }
    SimResult run, base;
    const bool with_baseline = a.baseline != "none";
    if (a.arch == "systolic") {
        so.mac = a.profile.empty() ? flat_mac_table(so.energy.mac_energy_fj) : read_mac_profile(a.profile);
        run = simulate_systolic(work, so);
        if (with_baseline) base = simulate_systolic(baseline_workload(work), so);
    } else {
        GpuOptions go = default_gpu_options(a.gpu);
        go.path = parse_gpu_path(a.gpu_path);
        if (a.switch_penalty_ns >= 0) go.dvfs.switch_penalty_ns = a.switch_penalty_ns;
        run = simulate_gpu(work, go);
        if (with_baseline) base = simulate_gpu(baseline_workload(work), go);
    }
    RunInfo info{a.arch, workload_name, with_baseline ? "uniform INT8 at the nominal level" : "none"};
    nlohmann::json j = report_json(run, with_baseline ? &base : nullptr, info);
    if (!a.out.empty()) {
        write_file_atomic(a.out + ".json", j.dump(2) + "\n");
        write_file_atomic(a.out + ".svg", report_svg(run, a.arch + ": " + workload_name));
    }
    if (a.json) {
        fmt::print("{}\n", j.dump(2));
        return 0;
    }
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
                app.add_option("--arch", a->arch, "systolic (default) or gpu");
                app.add_option("--array", a->array, "array ROWSxCOLS (default 128x128)");
                app.add_option("--dataflow", a->dataflow, "ws (default), os or is");
                app.add_option("--model", a->model, "built-in shape: llama-2-7b, llama-2-13b, smollm2-135m, tiny");
                app.add_option("--config", a->hf_config, "Hugging Face config.json of the model");
                app.add_option("--quantized", a->quantized, "quantized model directory (reads DIR/tile_levels.json)");
                app.add_option("--tile-levels", a->tile_levels, "halo tile-level file (docs/formats.md)");
                app.add_option("--seq", a->seq, "prefill sequence length L (default 2048)");
                app.add_option("--batch", a->batch, "decode batch B (selects decode)");
                app.add_option("--context", a->context, "decode context C (default 2048)");
                app.add_option("--profile", a->profile, "MAC profile.json from `halo characterize`");
                app.add_option("--config-file", a->config_file, "simulator config JSON (array, dvfs, energy constants)");
                app.add_option("--topology", a->topology, "SCALE-Sim GEMM topology CSV (name, M, N, K,)");
                app.add_option("--scalesim-cfg", a->scalesim_cfg, "SCALE-Sim .cfg for the array");
                app.add_option("--reorder", a->reorder, "group tiles by level: level (default) or none");
                app.add_option("--switch-penalty-ns", a->switch_penalty_ns, "DVFS switch penalty in ns (default 1000)");
                app.add_option("--gpu", a->gpu, "h100 (default) or h200, with --arch gpu");
                app.add_option("--gpu-path", a->gpu_path, "int8 (default), fp8 or fp16, with --arch gpu");
                app.add_option("--baseline", a->baseline, "nominal (default: uniform INT8 at the nominal level) or none");
                app.add_option("--out", a->out, "write OUT.json and OUT.svg");
                app.add_flag("--json", a->json, "print the JSON report");
                return [a] { return run_simulate(*a); };
            }};
}

}  // namespace halo::cli
