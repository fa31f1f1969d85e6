// The in-memory model halo computes with: a decoder of one of the families in
// architecture.hpp (Llama, Mistral, Qwen2, Gemma 3; the parts of a block as flags), every tensor dequantized to FP32. Loaders
// (GGUF, safetensors) produce ModelWeights; the transformer (forward, backward, perplexity,
// calibration) and the quantizers consume it. A quantized model is the same struct with the
// linear weights replaced by their decoded values (fake-quant), plus hooks for activations.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace halo::model {

// A row-major FP32 matrix. Linear weights are [out_features x in_features] (GGUF ne1 x ne0,
// Hugging Face's layout), so y = W x is a dot product of each row with x.
struct Matrix {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
    std::vector<float> data;

    Matrix() = default;
    Matrix(std::int64_t r, std::int64_t c) : rows(r), cols(c), data(static_cast<std::size_t>(r * c), 0.0f) {}
    float* row(std::int64_t r) { return data.data() + r * cols; }
    const float* row(std::int64_t r) const { return data.data() + r * cols; }
    float& at(std::int64_t r, std::int64_t c) { return data[static_cast<std::size_t>(r * cols + c)]; }
    float at(std::int64_t r, std::int64_t c) const { return data[static_cast<std::size_t>(r * cols + c)]; }
    std::size_t size() const { return data.size(); }
};

enum class RopeScaling : std::uint8_t { none, linear, yarn, llama3 };

struct ModelConfig {
    std::string architecture = "llama";  // GGUF general.architecture / HF model_type
    std::string name;                    // general.name or the checkpoint's directory name
    int n_layers = 0;
    int d_model = 0;
    int n_heads = 0;
    int n_kv_heads = 0;
    int head_dim = 0;  // d_model / n_heads unless the file says otherwise
    int d_ff = 0;
    int vocab_size = 0;
    int context_length = 0;
    float rms_norm_eps = 1e-5f;
    float rope_theta = 10000.0f;
    RopeScaling rope_scaling = RopeScaling::none;
    float rope_scaling_factor = 1.0f;
    // Which dimensions RoPE rotates together. false (default): rotate-half pairs (i, i + hd/2),
    // Hugging Face's order — what load_model produces for safetensors AND for GGUF (it undoes
    // llama.cpp's Q/K row permutation, see model_loader.hpp). true: adjacent pairs (2i, 2i+1),
    // llama.cpp's "normal" RoPE, only for Q/K rows kept in the GGUF converter's permuted order.
    bool rope_interleaved = false;
    // Llama 3.1 frequency-dependent scaling (used when rope_scaling == llama3).
    float rope_llama3_low_freq_factor = 1.0f;
    float rope_llama3_high_freq_factor = 4.0f;
    int rope_original_context = 8192;
    bool tied_embeddings = false;
    // The block's parts, copied from the architecture row (architecture.hpp) by the loaders;
    // the forward pass reads only these. Gemma-style options: GeGLU instead of SwiGLU, RMSNorm
    // weight + 1 (loaders fold the +1 into the weights and leave this false), embeddings scaled
    // by sqrt(d_model), per-head QK norm, sliding-window layers.
    bool gelu_gate = false;
    bool norm_weight_plus_one = false;
    bool scale_embeddings = false;
    bool qk_norm = false;
    int sliding_window = 0;    // window of local layers, in positions (self included); 0 = none
    int swa_pattern = 0;       // every swa_pattern-th layer (1-based) is global; 0 = all layers local
    float rope_theta_local = 0.0f;  // RoPE base of local layers; 0 = rope_theta
    bool post_norms = false;   // RMSNorm of the attention and MLP outputs before each residual add
    bool qkv_bias = false;     // Q, K, V projections have biases (LayerWeights::bias_q/k/v)
    float final_logit_softcap = 0.0f;  // logits = c * tanh(logits / c) when > 0
    // Mixture-of-experts MLP (model/moe.hpp): n_experts > 0 replaces the block's gate/up/down by
    // a router [n_experts x d_model] and n_experts SwiGLU experts of width d_ff; each token runs
    // its n_experts_used best experts, weighted by the router's softmax (renormalised over the
    // chosen ones when moe_norm_topk, as Mixtral does).
    int n_experts = 0;
    int n_experts_used = 0;
    bool moe_norm_topk = true;
    bool moe() const { return n_experts > 0; }
};

// The seven linear layers of a block, in a fixed order used everywhere (names follow GGUF).
enum class LinearKind : std::uint8_t { attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down };
constexpr std::array<LinearKind, 7> kLinearKinds = {LinearKind::attn_q,      LinearKind::attn_k,   LinearKind::attn_v,
                                                    LinearKind::attn_output, LinearKind::ffn_gate, LinearKind::ffn_up,
                                                    LinearKind::ffn_down};
std::string_view linear_name(LinearKind kind);  // "attn_q", ...

// An expert's three linears, indexed by the FFN kinds (gate [F x D], up [F x D], down [D x F]).
constexpr std::array<LinearKind, 3> kExpertKinds = {LinearKind::ffn_gate, LinearKind::ffn_up, LinearKind::ffn_down};
constexpr bool is_expert_kind(LinearKind k) {
    return k == LinearKind::ffn_gate || k == LinearKind::ffn_up || k == LinearKind::ffn_down;
}
struct ExpertWeights {
    std::array<Matrix, 3> linear;  // in kExpertKinds order
    static std::size_t slot(LinearKind k) { return static_cast<std::size_t>(k) - static_cast<std::size_t>(LinearKind::ffn_gate); }
    Matrix& operator[](LinearKind k) { return linear[slot(k)]; }
    const Matrix& operator[](LinearKind k) const { return linear[slot(k)]; }
};

struct LayerWeights {
    std::vector<float> attn_norm;  // [d_model]
    std::vector<float> ffn_norm;   // [d_model]
    std::vector<float> q_norm;     // [head_dim] when qk_norm
    std::vector<float> k_norm;
    std::vector<float> post_attn_norm;  // [d_model] when post_norms
    std::vector<float> post_ffn_norm;
    std::vector<float> bias_q;     // [n_heads * head_dim] when qkv_bias
    std::vector<float> bias_k;     // [n_kv_heads * head_dim]
    std::vector<float> bias_v;
    std::array<Matrix, 7> linear;  // indexed by LinearKind; the FFN three are empty (0 x 0) in a MoE block
    Matrix router;                     // [n_experts x d_model] when moe (GGUF ffn_gate_inp), kept FP32
    std::vector<ExpertWeights> experts;  // [n_experts] when moe

    Matrix& operator[](LinearKind k) { return linear[static_cast<std::size_t>(k)]; }
    const Matrix& operator[](LinearKind k) const { return linear[static_cast<std::size_t>(k)]; }
};

struct ModelWeights {
    ModelConfig config;
    Matrix token_embedding;         // [vocab x d_model]
    std::vector<LayerWeights> layers;
    std::vector<float> output_norm;  // [d_model]
    Matrix output;                  // [vocab x d_model]; empty when tied to token_embedding
    std::string source_path;
    std::string source_format;      // "gguf:Q4_1", "safetensors:bf16" — what the weights were

    const Matrix& lm_head() const { return output.size() ? output : token_embedding; }
};

}  // namespace halo::model
