// The simulate job: cycles, time and energy of a workload (a transformer from a built-in shape,
// a config.json or a model file's own config, or a SCALE-Sim topology) on a systolic array or a GPU model against uniform
// INT8 at the nominal level (the HALO/DVFS path, with tile levels from a HALO directory or a
// tile-level file); or a hardware design of accel/design_sim.hpp (named, or picked from a
// quantized directory's manifest) on the systolic array or a tensor core against a baseline
// design. `halo simulate` and Python's halo.simulate call it; `report` is what
// `halo simulate --json` prints. A HALO directory brings its machine (DIR/sim_config.json, its
// MAC energies DIR/mac_profile.json; config_file, array and profile override it) and its stored
// bits per weight (the manifest's, read from DRAM as `halo run` charges them).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "halo/accel/design_sim.hpp"
#include "halo/accel/simulate.hpp"

namespace halo::jobs {

// Each field is the CLI flag of the same name; "" (or a negative penalty) = the default.
struct SimulateJobOptions {
    std::string arch = "systolic", array, dataflow, model_shape, hf_config, quantized, tile_levels, profile, config_file,
                topology, scalesim_cfg, out, reorder, gpu, gpu_path, baseline, design;
    // --model: a GGUF file, safetensors directory or installed model name whose shape (only) is
    // read by the model loader's config reader (model::LazyModel: metadata, tensor shapes checked).
    std::string model;
    long long seq = 2048, batch = 0, context = 2048;
    double switch_penalty_ns = -1;
};

struct SimulateJobResult {
    nlohmann::json report;
    std::string workload;
    bool with_baseline = false;
    // A hardware design run (design != nullptr) ...
    const accel::AmoveDesign* design = nullptr;
    std::string picked_from, pick_reason;  // the manifest that picked the design, and why
    accel::DesignResult design_run, design_base;
    // ... or the HALO/DVFS path.
    accel::SimResult run, base;
};

// Writes `out` (FILE.json) and its chart FILE.svg when out is given. Usage errors (exit 1):
// E7060 unknown arch, E7061 design and quantized both, E7062 a design on arch gpu, E7063
// tensor-core without a design, E7064 not exactly one workload, E7065 an option of the HALO/DVFS
// path on a design run, E7066 out not ending in .json, E7067 unknown reorder, E7068 a HALO
// directory with a topology; E7073 a design baseline on the DVFS path.
SimulateJobResult run_simulate_job(const SimulateJobOptions& options);

}  // namespace halo::jobs
