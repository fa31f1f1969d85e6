#include "halo/model/architecture.hpp"

#include <array>

#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

// clang-format off
constexpr std::array<ArchitectureRow, 6> kArchitectures = {{
    // name       gguf        hf type        post  hf+  bias   qkn    act                       sqrt_d sw  theta_loc  cap   perm   moe    norm_k shared experts_of
    {"llama",    "llama",    "llama",       false, 0.0f, false, false, FfnActivation::silu,      false, 0,  0.0f,      0.0f, true,  false, false, false, ""},
    {"mistral",  "",         "mistral",     false, 0.0f, false, false, FfnActivation::silu,      false, 0,  0.0f,      0.0f, true,  false, false, false, ""},
    {"qwen2",    "qwen2",    "qwen2",       false, 0.0f, true,  false, FfnActivation::silu,      false, 0,  0.0f,      0.0f, false, false, false, false, ""},
    {"gemma3",   "gemma3",   "gemma3_text", true,  1.0f, false, true,  FfnActivation::gelu_tanh, true,  6,  10000.0f,  0.0f, false, false, false, false, ""},
    {"mixtral",  "",         "mixtral",     false, 0.0f, false, false, FfnActivation::silu,      false, 0,  0.0f,      0.0f, true,  true,  true,  false, "llama"},
    {"qwen2moe", "qwen2moe", "qwen2_moe",   false, 0.0f, true,  false, FfnActivation::silu,      false, 0,  0.0f,      0.0f, false, true,  false, true,  ""},
}};
// clang-format on

}  // namespace

std::span<const ArchitectureRow> architecture_table() { return kArchitectures; }

const ArchitectureRow* find_architecture_gguf(std::string_view gguf_name) {
    if (gguf_name.empty()) return nullptr;
    for (const auto& row : kArchitectures)
        if (row.gguf_name == gguf_name) return &row;
    return nullptr;
}

const ArchitectureRow* find_architecture_gguf_experts(std::string_view gguf_name) {
    if (const ArchitectureRow* row = find_architecture_gguf(gguf_name); row != nullptr && row->moe) return row;
    for (const auto& row : kArchitectures)
        if (!gguf_name.empty() && row.gguf_experts_of == gguf_name) return &row;
    return nullptr;
}

const ArchitectureRow* find_architecture_hf(std::string_view model_type) {
    for (const auto& row : kArchitectures)
        if (row.hf_model_type == model_type) return &row;
    return nullptr;
}

const ArchitectureRow& architecture_row(std::string_view name) {
    for (const auto& row : kArchitectures)
        if (row.name == name) return row;
    throw_internal("E5307", "architecture " + std::string(name) + " has no table row");
}

void apply_architecture(const ArchitectureRow& row, ModelConfig& c) {
    c.architecture = std::string(row.name);
    c.post_norms = row.post_norms;
    c.qkv_bias = row.qkv_bias;
    c.qk_norm = row.qk_norm;
    c.gelu_gate = row.activation == FfnActivation::gelu_tanh;
    c.scale_embeddings = row.embedding_scale_sqrt_d;
    c.swa_pattern = row.swa_pattern;
    c.rope_theta_local = row.rope_theta_local;
    c.final_logit_softcap = row.final_logit_softcap;
    c.moe_norm_topk = row.moe_norm_topk;  // n_experts / n_experts_used: the loaders, from the file
    // Loaders fold the HF offset into the weights, so the forward pass never adds it.
    c.norm_weight_plus_one = false;
}

RopeScaling parse_rope_scaling(std::string_view kind, const std::string& file, const std::string& key) {
    if (kind == "none" || kind == "default") return RopeScaling::none;
    if (kind == "linear") return RopeScaling::linear;
    if (kind == "yarn") return RopeScaling::yarn;
    if (kind == "llama3") return RopeScaling::llama3;
    throw_bad_input_at("E5306", file, key, "unknown RoPE scaling kind", "none, linear, yarn or llama3",
                       std::string(kind), "halo would compute wrong positions with an unknown scaling; it refuses");
}

bool is_local_layer(const ModelConfig& c, int layer) {
    if (c.sliding_window <= 0) return false;
    return c.swa_pattern <= 0 || (layer + 1) % c.swa_pattern != 0;
}

int layer_window(const ModelConfig& c, int layer) { return is_local_layer(c, layer) ? c.sliding_window : 0; }

void refuse_layer_patterns(const ModelConfig& c, const std::string& what) {
    if (c.sliding_window > 0 && c.swa_pattern > 0)
        throw_bad_value("E5606", c.architecture, what + " needs every layer alike (it runs each block as layer 0)",
                        "no local/global attention pattern", "sliding window on all but every " + std::to_string(c.swa_pattern) + "th layer",
                        "evaluate this model without --stream");
}

float layer_rope_theta(const ModelConfig& c, int layer) {
    return is_local_layer(c, layer) && c.rope_theta_local > 0 ? c.rope_theta_local : c.rope_theta;
}

void refuse_experts(const ModelConfig& c, const std::string& what) {
    if (c.moe())
        throw_bad_value("E5324", c.architecture, what + " has no mixture-of-experts layers", "a dense model",
                        std::to_string(c.n_experts) + " experts per block",
                        "run this model without it (the forward pass, calibration and RTN/GPTQ/AWQ handle experts)");
}

}  // namespace halo::model
