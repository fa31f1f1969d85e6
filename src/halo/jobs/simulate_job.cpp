#include "halo/jobs/simulate_job.hpp"

#include <filesystem>
#include <optional>

#include <fmt/format.h>

#include "halo/accel/design_report.hpp"
#include "halo/accel/design_select.hpp"
#include "halo/accel/energy.hpp"
#include "halo/accel/gpu.hpp"
#include "halo/accel/report.hpp"
#include "halo/accel/scalesim_io.hpp"
#include "halo/accel/sim_config.hpp"
#include "halo/accel/workload.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/safetensors_reader.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/shape.hpp"
#include "halo/util/json_view.hpp"

namespace halo::jobs {

namespace {

namespace fs = std::filesystem;
using namespace halo::accel;

void write_reports(const std::string& out, const nlohmann::json& j, const std::string& svg) {
    write_file_atomic(out, dump_json(j, 2, out) + "\n");
    write_file_atomic(fs::path(out).replace_extension(".svg"), svg);
}

void check_options(const SimulateJobOptions& a, bool design_run) {
    if (a.arch != "systolic" && a.arch != "gpu" && a.arch != "tensor-core")
        throw_bad_flag("E7060", "--arch", "unknown machine", "systolic, tensor-core or gpu", a.arch);
    if (!a.out.empty() && (!a.out.ends_with(".json") || a.out.size() == 5))
        throw_bad_flag("E7066", "--out", "names the JSON report, which must end in .json", "a file name ending in .json", a.out);
    if (design_run && a.arch == "gpu")
        throw_usage("E7062", "--arch gpu runs the HALO/DVFS roofline; a hardware design runs on --arch systolic or tensor-core");
    if (!design_run && a.arch == "tensor-core")
        throw_usage("E7063", "--arch tensor-core simulates a hardware design: give --design NAME or --quantized DIR with an "
                             "Amove or baseline manifest");
    if (design_run && (!a.tile_levels.empty() || !a.profile.empty() || !a.reorder.empty() || a.switch_penalty_ns >= 0 ||
                       !a.gpu.empty() || !a.gpu_path.empty()))
        throw_usage("E7065", "--tile-levels, --profile, --reorder, --switch-penalty-ns, --gpu and --gpu-path belong to the "
                             "HALO/DVFS path, not to design runs");
    if (a.reorder != "" && a.reorder != "level" && a.reorder != "none")
        throw_bad_flag("E7067", "--reorder", "unknown tile order", "level or none", a.reorder);
}

// A HALO manifest's stored bits per weight, by workload GEMM name (E6198 checked the values).
std::vector<std::pair<std::string, double>> stored_bits_by_gemm(const quant::ManifestSummary& m) {
    std::vector<std::pair<std::string, double>> v;
    for (const auto& b : m.linear_bits) v.emplace_back(linear_gemm_name(b.layer, b.name, b.expert), b.bits_per_weight);
    if (m.head_bits) v.emplace_back("output", *m.head_bits);
    return v;
}

// The transformer's shape: a built-in name, a config.json (model::read_hf_config), or a model
// file or directory read by the model loader's own config reader (model::LazyModel maps the
// files and checks every tensor's presence and shape against the config, metadata only; a
// GGUF or config.json whose expert or head counts disagree with the tensors is its E53xx,
// naming the file and the key or tensor).
model::ModelConfig workload_config(const SimulateJobOptions& a) {
    if (!a.model_shape.empty()) return builtin_model(a.model_shape);
    if (!a.hf_config.empty()) return model::read_hf_config(a.hf_config);
    return model::LazyModel(model::resolve_model_path(a.model)).config();
}

void design_run(const SimulateJobOptions& a, const std::vector<WorkItem>& work, const DesignPick& pick,
                const SystolicOptions& so, SimulateJobResult& res) {
    DesignMachine m;
    m.arch = a.arch == "tensor-core" ? DesignArch::tensor_core : DesignArch::systolic;
    m.array = so.array;
    m.energy = so.energy;
    res.design = pick.design;
    const std::string base_name = a.baseline.empty() ? "int8" : a.baseline;
    res.with_baseline = base_name != "none";
    res.design_run = simulate_design(work, *pick.design, m);
    if (res.with_baseline) res.design_base = simulate_design(work, amove_design(base_name, "--baseline"), m);
    res.pick_reason = pick.reason;
    res.picked_from = pick.reason.empty() ? "" : (fs::path(a.quantized) / "manifest.json").string();
    const DesignRunInfo info{res.workload, res.picked_from, res.pick_reason};
    res.report = design_report_json(res.design_run, *pick.design, res.with_baseline ? &res.design_base : nullptr, info);
    if (!a.out.empty())
        write_reports(a.out, res.report, design_report_svg(res.design_run, fmt::format("{} {}: {}", pick.design->name, a.arch, res.workload)));
}

}  // namespace

SimulateJobResult run_simulate_job(const SimulateJobOptions& a) {
    // A hardware design: named, or picked from the quantized directory's manifest (a HALO
    // directory or one without a manifest keeps the tile-level path).
    std::optional<DesignPick> pick;
    if (!a.design.empty()) {
        if (!a.quantized.empty()) throw_usage("E7061", "give --design NAME or --quantized DIR (which picks the design), not both");
        pick = DesignPick{&amove_design(a.design), ""};
    } else if (!a.quantized.empty()) {
        pick = design_from_quantized_dir(a.quantized);
    }
    check_options(a, pick.has_value());
    SimulateJobResult res;
    std::vector<WorkItem> work;
    SystolicOptions so;
    if (!a.scalesim_cfg.empty()) so.array = read_scalesim_config(a.scalesim_cfg).array;
    // A HALO directory carries the machine it was quantized for (its array, its ladder's DVFS
    // table, and the MAC profile's energies): read first, so config_file, array, profile still
    // override it.
    const fs::path quantized_dir = a.quantized;
    const bool halo_dir = !a.quantized.empty() && !pick;
    if (halo_dir && fs::exists(quantized_dir / "sim_config.json")) read_simulator_config(so, quantized_dir / "sim_config.json");
    if (!a.config_file.empty()) read_simulator_config(so, a.config_file);
    if (!a.array.empty()) {
        const ShapeRc shape = parse_shape_rc("--array", a.array);
        so.array.rows = static_cast<int>(shape.rows);
        so.array.cols = static_cast<int>(shape.cols);
    }
    if (!a.dataflow.empty()) so.array.dataflow = parse_dataflow(a.dataflow);
    if (a.switch_penalty_ns >= 0) so.dvfs.switch_penalty_ns = a.switch_penalty_ns;
    so.reorder = a.reorder == "none" ? Reorder::none : Reorder::by_level;
    validate(so.array);
    // Workload: a SCALE-Sim topology, or a transformer from a built-in shape / config.json.
    if (!a.topology.empty()) {
        if (halo_dir)
            throw_usage("E7068", "--quantized (a HALO directory) does not apply to a --topology workload (its tile levels are "
                                 "per model layer)");
        if (!a.model_shape.empty() || !a.hf_config.empty() || !a.model.empty())
            throw_usage("E7064", "give exactly one of --model-shape NAME, --hf-config config.json, --model FILE.gguf|DIR|NAME or --topology FILE.csv");
        for (auto& g : read_scalesim_topology(a.topology)) work.push_back({g});
        res.workload = a.topology;
    } else {
        if (int{!a.model_shape.empty()} + int{!a.hf_config.empty()} + int{!a.model.empty()} != 1)
            throw_usage("E7064", "give exactly one of --model-shape NAME, --hf-config config.json, --model FILE.gguf|DIR|NAME or --topology FILE.csv");
        const model::ModelConfig mc = workload_config(a);
        Phase ph;
        if (a.batch > 0) {
            ph.kind = Phase::Kind::decode;
            ph.batch = a.batch;
            ph.context = a.context;
        } else {
            ph.seq_len = a.seq;
        }
        work = transformer_workload(mc, ph);
        res.workload = (mc.name.empty() ? (a.model.empty() ? a.hf_config : a.model) : mc.name) +
                       (a.batch > 0 ? fmt::format(" decode B={} C={}", a.batch, a.context) : fmt::format(" prefill L={}", a.seq));
        // A HALO directory's per-tile levels (docs/formats.md "Tile levels").
        const std::string levels_file = !a.tile_levels.empty() ? a.tile_levels
                                        : halo_dir             ? (quantized_dir / "tile_levels.json").string()
                                                               : std::string();
        if (!levels_file.empty()) attach_tile_levels(work, mc, read_tile_levels(levels_file), levels_file);
        // A HALO directory's stored bits per weight (its codes plus the sparse part), as `halo run`
        // charges them: a decode reads these bytes from DRAM. A directory without a manifest
        // (tile levels only) keeps word-size weights.
        if (halo_dir && fs::exists(quantized_dir / "manifest.json"))
            attach_weight_bits(work, stored_bits_by_gemm(quant::read_manifest_summary(quantized_dir)));
    }
    if (pick) {
        design_run(a, work, *pick, so, res);
        return res;
    }
    // The HALO/DVFS path compares with uniform INT8 at the nominal level or nothing; a design
    // name here would be silently ignored.
    if (!a.baseline.empty() && a.baseline != "nominal" && a.baseline != "none")
        throw_bad_value("E7073", "--baseline", "the HALO/DVFS path takes no design as its baseline", "nominal or none", a.baseline,
                        "design baselines go with --design NAME or --quantized DIR of an Amove/baseline run");
    res.with_baseline = a.baseline != "none";
    if (a.arch == "systolic") {
        const fs::path dir_profile = halo_dir ? quantized_dir / "mac_profile.json" : fs::path();
        so.mac = !a.profile.empty()                                 ? read_mac_profile(a.profile)
                 : !dir_profile.empty() && fs::exists(dir_profile) ? read_mac_profile(dir_profile)
                                                                   : flat_mac_table(so.energy.mac_energy_fj);
        res.run = simulate_systolic(work, so);
        if (res.with_baseline) res.base = simulate_systolic(baseline_workload(work), so);
    } else {
        GpuOptions go = default_gpu_options(a.gpu.empty() ? "h100" : a.gpu);
        go.path = parse_gpu_path(a.gpu_path.empty() ? "int8" : a.gpu_path);
        if (a.switch_penalty_ns >= 0) go.dvfs.switch_penalty_ns = a.switch_penalty_ns;
        res.run = simulate_gpu(work, go);
        if (res.with_baseline) res.base = simulate_gpu(baseline_workload(work), go);
    }
    const RunInfo info{a.arch, res.workload, res.with_baseline ? "uniform INT8 at the nominal level" : "none"};
    res.report = report_json(res.run, res.with_baseline ? &res.base : nullptr, info);
    if (!a.out.empty()) write_reports(a.out, res.report, report_svg(res.run, a.arch + ": " + res.workload));
    return res;
}

}  // namespace halo::jobs
