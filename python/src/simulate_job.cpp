// halo.simulate: the job of `halo simulate` (tools/halo/cmd_simulate.cpp) over the library,
// returning the report `halo simulate --json` prints.
#include <filesystem>
#include <optional>

#include <fmt/format.h>

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
#include "jobs_adapter.hpp"

namespace halo::python {

namespace {

nlohmann::json run_design(const SimulateJob& a, const std::vector<accel::WorkItem>& work, const std::string& workload_name,
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
    if (with_baseline) base = simulate_design(work, amove_design(base_name, "baseline"), m);
    const DesignRunInfo info{workload_name, pick.reason.empty() ? "" : (std::filesystem::path(a.quantized) / "manifest.json").string(),
                             pick.reason};
    nlohmann::json j = design_report_json(run, d, with_baseline ? &base : nullptr, info);
    if (!a.out.empty()) {
        write_file_atomic(a.out + ".json", j.dump(2) + "\n");
        write_file_atomic(a.out + ".svg", design_report_svg(run, fmt::format("{} {}: {}", d.name, a.arch, workload_name)));
    }
    return j;
}

}  // namespace

nlohmann::json run_simulate_job(const SimulateJob& a) {
    using namespace halo::accel;
    if (a.arch != "systolic" && a.arch != "gpu" && a.arch != "tensor-core")
        throw_usage("E7060", "arch must be systolic, tensor-core or gpu, not " + a.arch);
    std::optional<DesignPick> pick;
    if (!a.design.empty()) {
        if (!a.quantized.empty()) throw_usage("E7060", "give design=NAME or quantized=DIR (which picks the design), not both");
        pick = DesignPick{&amove_design(a.design), ""};
    } else if (!a.quantized.empty()) {
        pick = design_from_quantized_dir(a.quantized);
    }
    if (pick && a.arch == "gpu")
        throw_usage("E7060", "arch gpu runs the HALO/DVFS roofline; a hardware design runs on arch systolic or tensor-core");
    if (!pick && a.arch == "tensor-core")
        throw_usage("E7060", "arch tensor-core simulates a hardware design: give design=NAME or quantized=DIR with an "
                             "Amove or baseline manifest");
    if (pick && (!a.tile_levels.empty() || !a.profile.empty() || !a.reorder.empty() || a.switch_penalty_ns >= 0 ||
                 !a.gpu.empty() || !a.gpu_path.empty()))
        throw_usage("E7060", "tile_levels, profile, reorder, switch_penalty_ns, gpu and gpu_path belong to the "
                             "HALO/DVFS path, not to design runs");
    std::vector<WorkItem> work;
    std::string workload_name;
    model::ModelConfig mc;
    SystolicOptions so;
    if (!a.scalesim_cfg.empty()) so.array = read_scalesim_config(a.scalesim_cfg).array;
    if (!a.config_file.empty()) read_simulator_config(so, a.config_file);
    if (!a.array.empty()) parse_array_shape(a.array, so.array);
    if (!a.dataflow.empty()) so.array.dataflow = parse_dataflow(a.dataflow);
    if (a.switch_penalty_ns >= 0) so.dvfs.switch_penalty_ns = a.switch_penalty_ns;
    const std::string reorder = a.reorder.empty() ? "level" : a.reorder;
    if (reorder != "level" && reorder != "none") throw_usage("E7060", "reorder must be level or none");
    so.reorder = reorder == "level" ? Reorder::by_level : Reorder::none;
    validate(so.array);
    if (!a.topology.empty()) {
        for (auto& g : read_scalesim_topology(a.topology)) work.push_back({g});
        workload_name = a.topology;
    } else {
        if (a.model.empty() == a.config.empty())
            throw_usage("E7060", "give exactly one of model=NAME, config=config.json or topology=FILE.csv");
        mc = a.model.empty() ? model::read_hf_config(a.config) : builtin_model(a.model);
        Phase ph;
        if (a.batch > 0) {
            ph.kind = Phase::Kind::decode;
            ph.batch = a.batch;
            ph.context = a.context;
        } else {
            ph.seq_len = a.seq;
        }
        work = transformer_workload(mc, ph);
        workload_name = (mc.name.empty() ? a.config : mc.name) +
                        (a.batch > 0 ? fmt::format(" decode B={} C={}", a.batch, a.context) : fmt::format(" prefill L={}", a.seq));
        const std::string levels_file = !a.tile_levels.empty() ? a.tile_levels
                                        : !a.quantized.empty() && !pick
                                            ? (std::filesystem::path(a.quantized) / "tile_levels.json").string()
                                            : std::string();
        if (!levels_file.empty()) attach_tile_levels(work, mc, read_tile_levels(levels_file), levels_file);
    }
    if (pick) return run_design(a, work, workload_name, *pick, so.array, so.energy);
    if (!a.baseline.empty() && a.baseline != "nominal" && a.baseline != "none")
        throw_bad_value("E7073", "baseline", "the HALO/DVFS path takes no design as its baseline", "nominal or none", a.baseline,
                        "design baselines go with design=NAME or quantized=DIR of an Amove/baseline run");
    SimResult run, base;
    const bool with_baseline = a.baseline != "none";
    if (a.arch == "systolic") {
        so.mac = a.profile.empty() ? flat_mac_table(so.energy.mac_energy_fj) : read_mac_profile(a.profile);
        run = simulate_systolic(work, so);
        if (with_baseline) base = simulate_systolic(baseline_workload(work), so);
    } else {
        GpuOptions go = default_gpu_options(a.gpu.empty() ? "h100" : a.gpu);
        go.path = parse_gpu_path(a.gpu_path.empty() ? "int8" : a.gpu_path);
        if (a.switch_penalty_ns >= 0) go.dvfs.switch_penalty_ns = a.switch_penalty_ns;
        run = simulate_gpu(work, go);
        if (with_baseline) base = simulate_gpu(baseline_workload(work), go);
    }
    const RunInfo info{a.arch, workload_name, with_baseline ? "uniform INT8 at the nominal level" : "none"};
    nlohmann::json j = report_json(run, with_baseline ? &base : nullptr, info);
    if (!a.out.empty()) {
        write_file_atomic(a.out + ".json", j.dump(2) + "\n");
        write_file_atomic(a.out + ".svg", report_svg(run, a.arch + ": " + workload_name));
    }
    return j;
}

}  // namespace halo::python
