// load_model: a GGUF file or a safetensors checkpoint directory -> ModelWeights (FP32,
// row-major [out x in], Hugging Face layout).
//
// RoPE convention (read this before writing the forward pass): ModelWeights always holds Q and
// K projection rows in the Hugging Face order, so the forward pass must use the "rotate_half"
// (GPT-NeoX style) RoPE: within each head of size hd, dimension i (< hd/2) is rotated together
// with dimension i + hd/2 by angle pos * theta^(-2i/hd). llama.cpp's converter permutes the Q
// and K rows of llama-architecture models so that its "normal" RoPE (adjacent pairs 2i, 2i+1)
// computes the same thing; the GGUF loader undoes that permutation (unpermute_qk_rows), so a
// GGUF model and the same model from safetensors give identical ModelWeights.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "halo/model/gguf_reader.hpp"
#include "halo/model/weights.hpp"

namespace halo::model {

// Loads and validates a model: a .gguf file (architecture llama) or a directory holding
// config.json and model.safetensors (or sharded with model.safetensors.index.json).
// Errors (bad input): E5300 unsupported architecture, E5301 missing tensor, E5302 shape that
// disagrees with the config (names the tensor, expected and found shapes), E5303 NaN/Inf in a
// weight (names the tensor and the element), E5304 path is neither a file nor a checkpoint dir.
ModelWeights load_model(const std::filesystem::path& path);

// Rows x cols of a block's linear (an expert's too) as the config gives it: the shape every
// checkpoint's tensor is checked against (E5302).
std::pair<std::int64_t, std::int64_t> linear_shape(const ModelConfig& c, LinearKind kind);

// The config a GGUF file's metadata describes ("<arch>.block_count", ...).
ModelConfig config_from_gguf(const GgufFile& file);

// llama.cpp's converter reorders the rows of each head of Q/K from [x_0..x_{hd/2-1},
// y_0..y_{hd/2-1}] (HF) to [x_0, y_0, x_1, y_1, ...]; this restores the HF order. `n_heads` is
// the number of heads the matrix holds (n_heads for Q, n_kv_heads for K).
void unpermute_qk_rows(Matrix& m, int n_heads);
// The converter's permutation itself (HF -> GGUF order); tests check the two are inverses.
void permute_qk_rows(Matrix& m, int n_heads);

// What scripts/setup_data.sh installs (under halo::data_dir()).
std::filesystem::path default_model_path();       // models/smollm2-135m-instruct-q4_1.gguf

// The installed real models by name: "smollm2-135m" (the default) and "gemma3-270m"
// (models/gemma3-270m-q4_k_m.gguf).
struct InstalledModel {
    std::string_view name;
    std::string_view file;  // under data_dir()/models
};
std::span<const InstalledModel> installed_models();
// The model a --model flag means: empty -> the default model; an installed model's name -> its
// path; anything else -> that path (checked later by load_model).
std::filesystem::path resolve_model_path(const std::string& name_or_path);
std::filesystem::path default_eval_text_path();   // text/eval.txt
std::filesystem::path default_calib_text_path();  // text/calib.txt

}  // namespace halo::model
