// `halo run` / `make demo`: the whole HALO flow on one machine, end to end.
//   1. characterize the INT8 MAC on a Liberty library (static delay, and dynamic energy when
//      asked) -> profile; or read a given profile
//   2. the ladder (DVFS levels and their fast codes)
//   3. quantize the model: HALO (each objective asked) and the baselines (RTN W8, RTN W4,
//      GPTQ W4), activations INT8 per token everywhere (W8A8 / W4A8)
//   4. perplexity of each on the eval text
//   5. simulate each on a weight-stationary systolic array (prefill), against uniform INT8 at
//      the nominal clock
//   6. one table, results.json, report.md and a Pareto SVG in an output directory (atomic)
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/mac/profile.hpp"
#include "halo/quant/device_backend.hpp"
#include "halo/util/progress.hpp"

namespace halo::jobs {

struct RunOptions {
    std::filesystem::path out_dir = "halo-run";
    bool force = false;
    std::filesystem::path model;          // "" = installed default
    std::filesystem::path eval_text;      // "" = installed eval text
    std::filesystem::path calib_text;     // "" = installed calibration text
    std::filesystem::path profile;        // given: skip characterization
    std::filesystem::path liberty = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
    std::string mac = "int8";
    std::string arch = "yosys";
    std::filesystem::path work_dir = "halo-work";
    bool energy = true;                   // dynamic analysis for energy_fj
    std::uint64_t transitions = 200;      // per weight, dynamic analysis
    hwq::LadderOptions ladder;
    hwq::HaloOptions halo;
    // HALO points: "objective[@budget]" (per-layer assignment), "model@S0/S1/..." (the
    // model-wide budget: share of the weights per level, slowest level first) or
    // "model@objective" (the objective on the model's pooled front: one lambda for every linear).
    std::vector<std::string> halo_objectives = {"perf", "bal", "acc", "least-error"};
    std::vector<std::string> baselines = {"rtn-w8", "rtn-w4", "gptq-w4"};  // names: baseline_names()
    // How each HALO point's weights sit in DRAM, one row per entry (halo_storage_names()): "codes"
    // (the INT8 codes the array multiplies, as the paper stores them) and "indices" (per-tile
    // codebook indices, ceil(log2 |codebook|) bits, decoded by a lookup on the way in; the row is
    // named "halo-<point>+idx"). Same model and perplexity; only the simulation differs.
    std::vector<std::string> halo_storage = {"codes"};
    std::uint64_t seed = 0;               // calibration windows: 0 = evenly spread, else seeded random starts
    double mac_energy_scale = 1.0;        // multiplies the profile's MAC energies (technology scaling)
    std::vector<double> extra_mac_energy_scales;  // each row also simulated at these (results.json only)
    std::vector<std::int64_t> decode_batches = {1, 16};  // decode phases simulated (context = sim_seq_len)
    std::filesystem::path bf16_profile;   // the "bf16" row's MAC profile (its clock; static timing suffices)
    bool fp_reference = true;
    // --calib-int8-inputs: GPTQ's and HALO's calibration statistics (Gram, sensitivity) from the
    // linears' inputs quantized to INT8 per token, as the A8 evaluation feeds them (the hooks of
    // the perplexity run; the head's input too), instead of their FP32 values. CPU only.
    bool calib_int8_inputs = false;
    // --damp: GPTQ's dampening (fraction of the mean Hessian diagonal) for the GPTQ baselines and
    // HALO's GPTQ rounding alike.
    double gptq_damp = 0.01;
    int samples = 4, seq_len = 128;       // calibration
    int ctx = 256, max_chunks = 4;        // perplexity
    std::int64_t sim_seq_len = 512;       // prefill tokens simulated
    std::string array = "128x128";
    unsigned threads = 0;
    // --device cuda: calibration and GPTQ's algebra (baselines and HALO) on the GPU; HALO's
    // fitting, the A8 perplexities and the simulation stay on the CPU (results.json says so).
    quant::DeviceBackend* device = nullptr;
    // The date, version, commit and command line in results.json, report.md and each manifest
    // come from util/provenance.hpp (the clock, the build, main's argv).
};

// One simulated phase of a row against uniform INT8 at L0 in the same phase.
struct PhaseResult {
    std::string phase;     // "prefill", "decode-b1", "decode-b16"
    double speedup = 1;
    double energy_ratio = 1;
};

struct VariantResult {
    std::string name;        // "halo-bal", "rtn-w8", ...
    std::string weights;     // "W8A8", "W4A8", "halo (<=4b codes)"
    double bits_per_weight = 0;  // storage as written
    double info_bits = 0;        // information bits (HALO: log2 codebook); = storage for uniform
    double perplexity = 0;
    double speedup = 1;          // vs uniform INT8 at the nominal clock
    double energy_ratio = 1;     // run / baseline energy
    double mac_energy_ratio = 1;
    int switches = 0;            // simulator's DVFS switch count
    std::vector<std::int64_t> tiles_per_level;       // the block linears'
    std::vector<std::int64_t> head_tiles_per_level;  // the LM head's (HALO --quantize-head), else empty
    std::vector<PhaseResult> phases;  // prefill first, then each decode batch
    std::vector<std::pair<double, std::vector<PhaseResult>>> phases_at_scale;  // per extra MAC energy scale
    std::string note;                 // what the row borrows or assumes ("" for none)
    double seconds = 0;
};

// The baseline rows `--baselines` accepts, in table order (E9022 names them on a typo):
// rtn-w8, rtn-w4, gptq-w4 (per-channel symmetric), gptq-w4-g128 (a scale per 128 input columns;
// these four every tile at L0); the DVFS-aware rows
// {rtn,gptq}-w{4,8}-{sym,asym}-dvfs (scale and zero point per array tile, each tile at the
// fastest level its codes allow, hwq/dvfs_baselines.hpp); iso (rtn-w8's model at every ladder
// voltage above L0's with the clock all codes meet there); bf16 (the BF16 array, --bf16-profile).
std::vector<std::string> baseline_names();
// The forms `--halo-storage` accepts (E9177 names them on a typo or an empty list): codes, indices.
std::vector<std::string> halo_storage_names();

struct RunReport {
    nlohmann::json json;
    std::vector<VariantResult> variants;
    std::string table;  // plain-text table (the CLI prints it)
};

// Step 1 of both HALO jobs: read the given MAC profile, or characterize the built-in MAC.
struct ProfileStep {
    std::filesystem::path profile;  // given: read it (mac::read_profile)
    std::filesystem::path liberty = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
    std::string mac = "int8";
    std::string arch = "yosys";
    std::filesystem::path work_dir = "halo-work";
    bool energy = true;
    std::uint64_t transitions = 200;
    unsigned threads = 1;
};
struct ProfileOutcome {
    mac::MacProfile profile;
    nlohmann::json info;  // where it came from, for results.json and the manifest
};
ProfileOutcome obtain_profile(const ProfileStep& step, ProgressSink progress, const std::function<void(const std::string&)>& say);

// One HALO point of `halo run` ("bal", "perf@0.25", "model@0.2/0.5/0.3", "model@bal") as options; E9013,
// E9014, E9064, E9072 or E9068 on a bad point.
hwq::HaloOptions halo_point(const std::string& point, const hwq::HaloOptions& base, const hwq::Ladder& ladder);

// Progress: one ProgressSink for the loops, plus a stage callback ("characterize", ...).
RunReport run_pipeline(const RunOptions& options, ProgressSink progress,
                       const std::function<void(const std::string&)>& stage);

// Pareto plot: perplexity (y) against simulated prefill speed-up (x) or, with `energy_axis`,
// energy ratio (x), one labelled point per variant (HALO red, DVFS-aware baselines green,
// the others blue).
std::string pareto_svg(const std::vector<VariantResult>& variants, double fp_perplexity, bool energy_axis = false);

}  // namespace halo::jobs
