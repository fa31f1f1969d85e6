// The quantize job: `halo quantize` and Python's halo.quantize both call run_quantize_job.
// Typed options in (the CLI's flag values, named as its flags), a typed result out, progress
// through callbacks; it writes ONE quantized model directory (quant/quant_dir.hpp) and prints
// nothing. The method is a row of the program's method table (methods.hpp): the row's job runs,
// so RTN/GPTQ/AWQ/k-means/SmoothQuant (run_table_quantize, below) and HALO
// (halo_quantize_job.hpp) are found by the same lookup, never by an `if (method == ...)`.
// Errors name the CLI flag ("--tile"); the Python package shows them as its option names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "halo/quant/model_quantizer.hpp"
#include "halo/util/progress.hpp"

namespace halo::jobs {

// The options only --method halo takes (its row's flags, hwq/method_row.cpp).
struct HaloJobOptions {
    std::filesystem::path profile;            // "" = characterize the INT8 MAC (yosys) on osu018
    std::filesystem::path work_dir = "halo-work";
    std::string objective = "bal";            // perf, acc, bal, energy, least-error
    std::string levels;                       // DVFS levels "VOLTS:GHZ,..."; "" = derived from the profile
    std::string timing = "static";            // static or dynamic delay field
    std::vector<int> counts = {0, 16, 9};     // derived levels' code counts, slowest first
    std::vector<double> voltage_factors;      // derived levels' V / V_nom (empty: from voltage_step)
    double guard_band = 0.05, budget = 0.5, voltage_step = 0.1, vt = 0.5, alpha = 1.3;
    double salient = 0.0005, outlier_sigma = 3;
    std::string sparse_grid = "row";          // the sparse values' grid (hwq/sparse_grid.hpp)
    int max_codes = 0;                        // a cap on every level's codebook budget (0 = none)
    std::string level_codes = "0";            // codebook budget per level, slowest first, or one for all
    std::string assign = "layer";             // layer (objective per linear) or model (level_shares)
    std::string level_shares;                 // --assign model: "S0/S1/.." share of the weights per level
    std::string rank = "sensitivity";         // --assign model: tile ranking, error or sensitivity
    bool objective_given = false, budget_given = false;  // set: refused with --assign model (E9070)
    bool gptq = true;                         // false = --no-gptq
    bool quantize_head = false;               // --quantize-head: the LM head quantized and assigned too
};

struct QuantizeJobOptions {
    std::string method = "rtn";               // a row of the method table
    std::string model;                        // path or installed name; "" = the installed default
    std::filesystem::path out_dir;
    bool force = false;
    std::filesystem::path calib_text;         // "" = the installed calibration text
    int samples = 32, seq_len = 256;
    std::string calib_inputs = "sequential";  // or "unquantized" (quant::CalibrationInputs)
    // --calib-int8-inputs (gptq, halo): calibration statistics of the linears' inputs quantized to
    // INT8 per token, as an A8 evaluation feeds them (run's flag); CPU only (E6197 with --device).
    bool calib_int8_inputs = false;
    std::filesystem::path eval_text;          // "" = no perplexity after quantizing
    int ctx = 512, max_chunks = 8;
    unsigned threads = 0;                     // 0 = all cores
    std::string tile;                         // "RxC": per-tile scales (table methods), HALO's tile K x N
    std::string sensitivity = "hessian";      // kmeans and halo: hessian or fisher
    double damp = 0.01;                       // gptq (and halo's GPTQ)
    int block_size = 128;
    // The uniform-grid methods.
    std::string format, scale_format, act_format;
    int bits = 0, group = 0;
    bool asym = false, act_order = false;
    std::vector<float> codebook;
    float sparse_fraction = 0.0f, smooth_alpha = 0.5f;
    HaloJobOptions halo;
    // Mixture-of-experts models: warn about experts calibration routed fewer tokens to.
    std::int64_t min_expert_tokens = 16;
    bool min_expert_tokens_given = false;     // refused unless the model is MoE and calibrated (E6164)
    // Where the job runs: null = the CPU; else calibration (and GPTQ's algebra) on this device
    // (--device cuda; the caller owns it). Every method's job reads this one struct.
    quant::DeviceBackend* device = nullptr;
    // --stream (HALO's row; the table methods stream through the CLI's streaming driver):
    // one decoder block resident, hidden states in memory up to the budget, else spilled.
    bool stream = false;
    std::int64_t activation_budget_bytes = std::int64_t{2} << 30;
    std::filesystem::path spill_dir;          // "" = the system temp directory
};

// What HALO adds to the summary.
struct HaloSummary {
    std::string objective;
    double budget = 0;
    std::int64_t tile_k = 0, tile_n = 0;
    double info_bits = 0;                     // information bits per weight
    std::vector<std::int64_t> tiles_per_level;
};

// What a streamed run adds to the summary.
struct StreamSummary {
    int blocks = 0;
    std::int64_t block_fp32_bytes = 0, activation_bytes = 0, calibration_tokens = 0;
    bool activations_spilled = false;
    double wall_seconds = 0;
    std::string phases;  // time by phase over the run (quant::PhaseSeconds::describe), when timed
};

struct QuantizeJobResult {
    std::string method;
    std::filesystem::path model_path;         // resolved
    std::string model_name;                   // from the model's config
    std::string spec;                         // the format spec (uniform-grid methods)
    double bits_per_weight = 0;               // stored, with scales/zeros/extras
    double quantize_seconds = 0;              // the quantizer alone
    double peak_rss_mib = 0;
    std::optional<double> perplexity;         // with eval_text
    int eval_chunks = 0;
    std::optional<HaloSummary> halo;
    std::optional<StreamSummary> streamed;
    // MoE: calibration tokens routed to each expert, per block; top-k of n experts.
    std::vector<quant::ExpertTokens> expert_tokens;
    int n_experts = 0, n_experts_used = 0;
};

struct JobCallbacks {
    ProgressSink progress;                               // the long loops ("layer 3/30")
    std::function<void(const std::string&)> stage;       // named steps ("Fisher diagonal")
    void say(const std::string& s) const {
        if (stage) stage(s);
    }
};

QuantizeJobResult run_quantize_job(const QuantizeJobOptions& options, const JobCallbacks& callbacks);

// The uniform-grid methods' job (the table rows of quant): calibration as the row needs it,
// quant::quantize_model, the optional perplexity, the directory.
QuantizeJobResult run_table_quantize(const QuantizeJobOptions& options, const JobCallbacks& callbacks);

// The quant options the options stand for (format from --format/--bits/--asym, granularity from
// --group/--tile, scale format, codebook, method settings), checked before any model is loaded:
// E6001 (bad format, bits or group), E0010 (bad --tile). The streaming driver uses it too.
quant::QuantizeOptions table_quantize_options(const QuantizeJobOptions& options, const quant::MethodTraits& row);

// The manifest's "flags" record of the uniform-grid methods.
nlohmann::json table_method_flags(const QuantizeJobOptions& options, const quant::QuantizeOptions& quant_options);
// E6197 when --calib-int8-inputs meets --device (the device calibration has no activation hooks).
void check_calib_int8_inputs(const QuantizeJobOptions& options);

}  // namespace halo::jobs
