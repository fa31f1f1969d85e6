// The three long jobs of the Python package (halo.quantize, halo.perplexity, halo.simulate) as
// plain C++ over the library: options in, the report the CLI would write or print (a manifest,
// `halo eval --json`, `halo simulate --json`) out. No nanobind here and nothing from tools/halo:
// the CLI's commands hold the same orchestration today (tools/halo/cmd_{quantize,eval,simulate}.cpp);
// when the quantize job moves into a library module, run_quantize_job is the one function to
// re-point at it.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "halo/util/progress.hpp"

namespace halo::python {

// The options of `halo quantize`, same names with underscores and the same defaults.
struct QuantizeJob {
    std::string model, method = "rtn", format, scale_format, calib, out, sensitivity = "hessian", eval, tile, act_format;
    std::vector<float> codebook;
    int bits = 0, group = 0, samples = 32, seq_len = 256, block_size = 128, max_chunks = 8, ctx = 512;
    bool asym = false, force = false, act_order = false;
    double damp = 0.01;
    float sparse_fraction = 0.0f, smooth_alpha = 0.5f;
    unsigned threads = 0;
    // method "halo" (the halo module's pipeline, as `halo quantize --method halo`)
    std::string profile, objective = "bal", levels, timing = "static";
    std::vector<int> counts = {0, 16, 9};
    std::vector<std::string> sweep;
    double guard_band = 0.05, budget = 0.5, voltage_step = 0.1, vt = 0.5, alpha = 1.3, salient = 0.0005, outlier_sigma = 3;
    int max_codes = 0;  // a cap on every level's codebook budget (0 = none; the CLI's default)
    bool gptq = true;
};

// Writes the quantized directory `job.out` and returns its manifest.json. For method "halo" the
// directory holds one quantized directory per objective point and results.json; the returned
// object is results.json with "manifests": {point: that point's manifest}.
nlohmann::json run_quantize_job(const QuantizeJob& job, const ProgressSink& progress);

// The options of `halo eval`; returns what `halo eval --json` prints.
struct PerplexityJob {
    std::string model, text, quantized, act_format, method = "llamacpp", bos = "auto";
    int ctx = 512, stride = 0, max_chunks = -1;
    unsigned threads = 0;
};
nlohmann::json run_perplexity_job(const PerplexityJob& job, const ProgressSink& progress);

// The options of `halo simulate`; returns what `halo simulate --json` prints (and writes
// out.json / out.svg when `out` is given).
struct SimulateJob {
    std::string arch = "systolic", array, dataflow, model, config, quantized, tile_levels, profile, config_file, topology,
                scalesim_cfg, out, reorder, gpu, gpu_path, baseline, design;
    long long seq = 2048, batch = 0, context = 2048;
    double switch_penalty_ns = -1;
};
nlohmann::json run_simulate_job(const SimulateJob& job);

}  // namespace halo::python
