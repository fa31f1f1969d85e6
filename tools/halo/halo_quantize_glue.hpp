// `halo quantize --method halo`: the HALO row of the quantizer table lives in hwq (quant cannot
// depend on it); cmd_quantize.cpp registers these flags and dispatches here, to the job
// jobs::run_halo_quantize, which writes one quantized model directory.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "streaming_glue.hpp"

namespace halo::cli {

struct HaloQuantizeFlags {
    std::string profile, objective = "bal", levels, timing = "static", counts = "0,16,9";
    double guard_band = 0.05, budget = 0.5, voltage_step = 0.1, vt = 0.5, alpha = 1.3, salient = 0.0005, sigma = 3;
    int max_codes = 16;
    bool no_gptq = false;
};

// The flags quantize already parses that HALO uses too.
struct HaloCommonFlags {
    std::string model, calib, out, tile, sensitivity, eval_text;
    int samples = 32, seq_len = 256, ctx = 512, max_chunks = 8, block_size = 128;
    double damp = 0.01;
    bool force = false, quiet = false;
    unsigned threads = 0;
    StreamFlags stream;  // --stream (hwq/halo_streaming.hpp)
};

void add_halo_quantize_flags(CLI::App& app, HaloQuantizeFlags& f);
int run_halo_quantize(const HaloCommonFlags& common, const HaloQuantizeFlags& f);

}  // namespace halo::cli
