// `halo eval --device cuda[:N]`: perplexity with the CUDA forward (cuda/cuda_model.hpp).
#pragma once

#include <filesystem>

#include "halo/model/perplexity.hpp"

namespace halo::cli {

struct CudaEvalArgs {
    std::filesystem::path model_path, text_path;
    model::PerplexityOptions options;  // bos >= 0: add the tokenizer's BOS
    int device = 0;
    bool tf32 = false;
    std::string json;  // "" none, "-" stdout, else a path (flags.hpp add_json_option)
    bool quiet = false;
    std::string act_format;  // "" none; any name the CPU takes (cuda/act_row_format.hpp)
};
int run_cuda_eval(const CudaEvalArgs& args);

}  // namespace halo::cli
