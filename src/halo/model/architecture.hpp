// The table of decoder families halo can run: one row per family stating the parts of its
// blocks. Both loaders (GGUF metadata and Hugging Face config.json) find the row by name and
// copy it into ModelConfig with apply_architecture(); the forward, backward, calibration and
// quantizers then read ModelConfig's flags, never the architecture name.
//
// | row      | GGUF arch | HF model_type | norms     | HF norm w | QKV bias | QK-norm | FFN    | emb. scale | SWA pattern        | softcap | GGUF Q/K rows |
// | llama    | llama     | llama         | pre       | w         | no       | no      | SwiGLU | 1          | none               | none    | permuted      |
// | mistral  | (llama)   | mistral       | pre       | w         | no       | no      | SwiGLU | 1          | all layers (config)| none    | permuted      |
// | qwen2    | qwen2     | qwen2         | pre       | w         | yes      | no      | SwiGLU | 1          | none               | none    | HF order      |
// | gemma3   | gemma3    | gemma3_text   | pre+post  | 1 + w     | no       | yes     | GeGLU  | sqrt(d)    | 5 local : 1 global | none    | HF order      |
// | mixtral  | (llama)   | mixtral       | pre       | w         | no       | no      | MoE    | 1          | none               | none    | permuted      |
// | qwen2moe | qwen2moe  | qwen2_moe     | pre       | w         | yes      | no      | MoE+sh | 1          | none               | none    | HF order      |
//
// Sources: Hugging Face transformers' modeling_{llama,mistral,qwen2,gemma3,qwen2_moe}.py and
// llama.cpp's convert_hf_to_gguf.py / src/models/*.cpp (read, not copied). Notes:
// * "HF norm w = 1 + w": Gemma's RMSNorm multiplies by (1 + weight); llama.cpp's converter
//   adds the 1 when it writes the GGUF, so GGUF norm weights are used as they are and the
//   safetensors loader adds `hf_norm_offset`.
// * "permuted": llama.cpp's converter permutes the Q/K rows of llama-architecture models for
//   its adjacent-pair RoPE; the loader undoes it (model_loader.hpp). The other families use
//   GPT-NeoX RoPE in llama.cpp and keep HF's row order.
// * Gemma 3: layer l is local (sliding window, RoPE base `rope_theta_local`, 10000 unless the
//   file says otherwise) unless (l + 1) % 6 == 0; global layers use rope_theta (1e6).
// * MoE rows (model/moe.hpp): the router is a softmax over all experts, the top-k are kept and,
//   when moe_norm_topk, renormalised to sum 1 (Mixtral; Qwen2-MoE's norm_topk_prob defaults to
//   false). llama.cpp's converter writes Mixtral as general.architecture "llama" with
//   llama.expert_count > 0, so a llama GGUF with experts is the mixtral row (gguf_experts_of).
// * qwen2moe is a row so that its files are recognised and refused with a precise reason: its
//   shared expert (with its own sigmoid gate) is not in halo's forward pass.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "halo/model/weights.hpp"

namespace halo::model {

enum class FfnActivation : std::uint8_t { silu, gelu_tanh };

struct ArchitectureRow {
    std::string_view name;           // halo's name, also ModelConfig::architecture
    std::string_view gguf_name;      // general.architecture ("" when the converter writes another)
    std::string_view hf_model_type;  // config.json model_type
    bool post_norms;                 // RMSNorm after attention and after the MLP too (Gemma 2/3)
    float hf_norm_offset;            // HF RMSNorm multiplies by (offset + w)
    bool qkv_bias;                   // Q, K, V projections carry biases (Qwen2)
    bool qk_norm;                    // per-head RMSNorm of Q and K before RoPE
    FfnActivation activation;        // of the gated MLP: act(gate) * up
    bool embedding_scale_sqrt_d;     // embeddings times sqrt(d_model)
    int swa_pattern;                 // every swa_pattern-th layer is global, the rest local; 0 = all layers alike
    float rope_theta_local;          // RoPE base of local layers (0: same as rope_theta)
    float final_logit_softcap;       // logits = c * tanh(logits / c); 0 = none
    bool gguf_qk_permuted;           // see the notes above
    bool moe;                        // experts instead of one MLP
    bool moe_norm_topk;              // renormalise the top-k router weights to sum 1
    bool moe_shared_expert;          // a shared expert beside the routed ones (not implemented: refused)
    std::string_view gguf_experts_of;  // GGUF architecture whose files with experts are this row ("" = none)
};

std::span<const ArchitectureRow> architecture_table();
// The row for a GGUF general.architecture / an HF model_type, or nullptr.
const ArchitectureRow* find_architecture_gguf(std::string_view gguf_name);
// The row of a GGUF file of architecture `gguf_name` that has {arch}.expert_count > 0: the row
// itself when it is MoE, else the row naming it in gguf_experts_of (llama -> mixtral), or nullptr.
const ArchitectureRow* find_architecture_gguf_experts(std::string_view gguf_name);
const ArchitectureRow* find_architecture_hf(std::string_view model_type);
const ArchitectureRow& architecture_row(std::string_view name);  // by halo name; internal error if absent

// Copies the row's parts into the config (architecture name, flags, defaults); the loaders
// then override the defaults with what the file states.
void apply_architecture(const ArchitectureRow& row, ModelConfig& config);

// One mapping of RoPE scaling names for both formats ("none", "linear", "yarn", "llama3");
// anything else is bad input E5306 naming `file` and `key`.
RopeScaling parse_rope_scaling(std::string_view kind, const std::string& file, const std::string& key);

// True when layer `layer` is a local (sliding-window) layer of the config.
bool is_local_layer(const ModelConfig& config, int layer);
// The attention window of a layer (0 = all positions) and its RoPE base.
int layer_window(const ModelConfig& config, int layer);
// Block streaming runs each block as layer 0 of a one-block model, so it needs every layer
// alike: a local/global pattern (Gemma 3) is refused with E5606 naming `what`.
void refuse_layer_patterns(const ModelConfig& config, const std::string& what);
float layer_rope_theta(const ModelConfig& config, int layer);
// The paths that have no expert layers (the backward pass, block streaming) refuse a MoE model
// with E5324 naming `what`.
void refuse_experts(const ModelConfig& config, const std::string& what);

}  // namespace halo::model
