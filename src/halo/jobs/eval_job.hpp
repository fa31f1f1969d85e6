// The eval job: perplexity of a model, or of a quantized model directory, on a text, in memory
// on the CPU. `halo eval` (without --stream or --device cuda) and Python's halo.perplexity call
// it; EvalJobResult::json() is what `halo eval --json` prints. Prints nothing.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "halo/model/perplexity.hpp"
#include "halo/util/progress.hpp"

namespace halo::jobs {

struct EvalJobOptions {
    std::string model;                 // path or installed name; "" = the installed default
    std::filesystem::path text;        // "" = the installed evaluation text
    std::filesystem::path quantized;   // a quantized model directory; "" = the model itself
    std::string act_format;            // activation quantizers in the forward; "" = none
    std::string method = "llamacpp";   // perplexity method: llamacpp or hf
    std::string bos = "auto";          // auto (the model's add_bos_token), yes, no
    int ctx = 512, stride = 0, max_chunks = -1;
    unsigned threads = 0;
    bool verify = true;                // false = --no-verify: trust the quantized directory (no SHA-256 checks)
};

struct EvalJobResult {
    model::PerplexityResult result;
    std::int64_t text_tokens = 0;
    double seconds = 0, tokens_per_s = 0;
    bool bos = false;
    std::filesystem::path model_path, text_path;
    std::string weights;               // the model's source format
    std::string quantized;
    unsigned threads = 0;
    nlohmann::json json() const;
};

// The model an eval runs: `model` when given, else the source model a `quantized` directory's
// manifest records (so `halo eval --quantized DIR` evaluates DIR on the model it was made from,
// E9045 when the manifest records none), else "" (the installed default).
std::string eval_model_of(const std::string& model, const std::filesystem::path& quantized);

// E9042 an unknown bos rule, E9043 ctx < 4, E9044 a negative stride (usage); the readers' own
// errors otherwise.
EvalJobResult run_eval_job(const EvalJobOptions& options, const ProgressSink& progress);

}  // namespace halo::jobs
