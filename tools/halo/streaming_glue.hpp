// `halo quantize --stream` and `halo eval --stream`: the block-streaming drivers
// (quant/streaming_quantizer, model/streaming_perplexity) behind the two commands' flags.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "halo/model/perplexity.hpp"
#include "halo/quant/model_quantizer.hpp"

namespace halo::cli {

struct StreamFlags {
    bool stream = false;
    int activation_budget_mb = 2048;
    std::string spill_dir;
};
void add_stream_flags(CLI::App& app, StreamFlags& f);

struct StreamQuantizeArgs {
    std::filesystem::path model_path;
    std::string calib, out;
    int samples = 0, seq_len = 0;
    bool force = false, quiet = false;
    bool calib_int8_inputs = false;  // the calibration's inputs INT8 per token (BlockStreamCalibration's hooks)
    nlohmann::json flags;  // the method options as given, for the manifest
};
int run_streaming_quantize(const StreamQuantizeArgs& args, const quant::QuantizeOptions& options, const StreamFlags& stream);

struct StreamEvalArgs {
    std::filesystem::path model_path, text_path;
    model::PerplexityOptions options;  // bos set by the caller
    unsigned threads = 0;
    std::string json;  // "" none, "-" stdout, else a path (flags.hpp add_json_option)
    bool quiet = false;
    std::filesystem::path quantized;  // "" = the base model; else a quantized directory, read block by block
    std::string act_format;           // "" = the directory's own activation format (or none)
    bool verify = true;               // check the directory's hashes and source model (--no-verify: skip)
};
int run_streaming_eval(const StreamEvalArgs& args, const StreamFlags& stream);

}  // namespace halo::cli
