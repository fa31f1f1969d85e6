// A tiny Mixtral-row model as files, the way its two sources write it: Hugging Face safetensors
// with config.json (modeling_mixtral.py names) and llama.cpp's GGUF (3-D expert tensors, Q/K
// rows permuted). Shared by the model tests and the jobs tests (simulate --model).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/safetensors_reader.hpp"
#include "halo/model/weights.hpp"
#include "halo/util/atomic_file.hpp"

namespace halo::model::testing {

// Hugging Face Mixtral names (modeling_mixtral.py): block_sparse_moe.gate, experts.E.w1/w2/w3.
inline std::vector<SafetensorsEntry> hf_tensors(const ModelWeights& w) {
    std::vector<SafetensorsEntry> e;
    const auto mat = [&](const std::string& name, const Matrix& m) { e.push_back({name, "F32", {m.rows, m.cols}, m.data}); };
    const auto vec = [&](const std::string& name, const std::vector<float>& v) {
        e.push_back({name, "F32", {static_cast<std::int64_t>(v.size())}, v});
    };
    mat("model.embed_tokens.weight", w.token_embedding);
    for (std::size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights& lw = w.layers[l];
        const std::string p = "model.layers." + std::to_string(l) + ".";
        vec(p + "input_layernorm.weight", lw.attn_norm);
        vec(p + "post_attention_layernorm.weight", lw.ffn_norm);
        mat(p + "self_attn.q_proj.weight", lw[LinearKind::attn_q]);
        mat(p + "self_attn.k_proj.weight", lw[LinearKind::attn_k]);
        mat(p + "self_attn.v_proj.weight", lw[LinearKind::attn_v]);
        mat(p + "self_attn.o_proj.weight", lw[LinearKind::attn_output]);
        mat(p + "block_sparse_moe.gate.weight", lw.router);
        for (std::size_t x = 0; x < lw.experts.size(); ++x) {
            const std::string q = p + "block_sparse_moe.experts." + std::to_string(x) + ".";
            mat(q + "w1.weight", lw.experts[x][LinearKind::ffn_gate]);
            mat(q + "w2.weight", lw.experts[x][LinearKind::ffn_down]);
            mat(q + "w3.weight", lw.experts[x][LinearKind::ffn_up]);
        }
    }
    vec("model.norm.weight", w.output_norm);
    return e;
}

inline std::string hf_config(const ModelConfig& c, const std::string& extra = "") {
    return R"({"model_type": "mixtral", "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 11, "max_position_embeddings": 64,
        "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": true, "num_local_experts": )" +
           std::to_string(c.n_experts) + R"(, "num_experts_per_tok": )" + std::to_string(c.n_experts_used) + extra + "}";
}

// What llama.cpp's converter writes: general.architecture llama with llama.expert_count, each
// kind's experts stacked in one 3-D tensor (ne = {in, out, experts}), Q/K rows permuted.
inline GgufWriter gguf_of(const ModelWeights& w, int expert_count_key, int used_key, const std::string& skip = "") {
    const ModelConfig& c = w.config;
    GgufWriter g;
    g.add_string("general.architecture", "llama");
    g.add_string("general.name", "tiny mixtral");
    g.add_u32("llama.block_count", static_cast<std::uint32_t>(c.n_layers));
    g.add_u32("llama.embedding_length", static_cast<std::uint32_t>(c.d_model));
    g.add_u32("llama.feed_forward_length", static_cast<std::uint32_t>(c.d_ff));
    g.add_u32("llama.attention.head_count", static_cast<std::uint32_t>(c.n_heads));
    g.add_u32("llama.attention.head_count_kv", static_cast<std::uint32_t>(c.n_kv_heads));
    g.add_u32("llama.context_length", 64);
    g.add_f32("llama.rope.freq_base", c.rope_theta);
    g.add_f32("llama.attention.layer_norm_rms_epsilon", c.rms_norm_eps);
    g.add_u32("llama.vocab_size", static_cast<std::uint32_t>(c.vocab_size));
    g.add_u32("llama.expert_count", static_cast<std::uint32_t>(expert_count_key));
    g.add_u32("llama.expert_used_count", static_cast<std::uint32_t>(used_key));
    const auto mat = [&](const std::string& name, const Matrix& m) {
        if (name != skip) g.add_f32_tensor(name, {m.cols, m.rows}, m.data);
    };
    const auto vec = [&](const std::string& name, const std::vector<float>& v) {
        g.add_f32_tensor(name, {static_cast<std::int64_t>(v.size())}, v);
    };
    mat("token_embd.weight", w.token_embedding);
    for (std::size_t l = 0; l < w.layers.size(); ++l) {
        const LayerWeights& lw = w.layers[l];
        const std::string p = "blk." + std::to_string(l) + ".";
        vec(p + "attn_norm.weight", lw.attn_norm);
        vec(p + "ffn_norm.weight", lw.ffn_norm);
        Matrix q = lw[LinearKind::attn_q], k = lw[LinearKind::attn_k];
        permute_qk_rows(q, c.n_heads);
        permute_qk_rows(k, c.n_kv_heads);
        mat(p + "attn_q.weight", q);
        mat(p + "attn_k.weight", k);
        mat(p + "attn_v.weight", lw[LinearKind::attn_v]);
        mat(p + "attn_output.weight", lw[LinearKind::attn_output]);
        mat(p + "ffn_gate_inp.weight", lw.router);
        for (const auto& [kind, name] : {std::pair{LinearKind::ffn_gate, "ffn_gate_exps.weight"},
                                         std::pair{LinearKind::ffn_up, "ffn_up_exps.weight"},
                                         std::pair{LinearKind::ffn_down, "ffn_down_exps.weight"}}) {
            if (p + name == skip) continue;
            std::vector<float> all;
            for (const auto& e : lw.experts) all.insert(all.end(), e[kind].data.begin(), e[kind].data.end());
            const Matrix& first = lw.experts[0][kind];
            g.add_f32_tensor(p + name, {first.cols, first.rows, static_cast<std::int64_t>(lw.experts.size())}, all);
        }
    }
    vec("output_norm.weight", w.output_norm);
    return g;
}

inline void write_hf(const std::filesystem::path& dir, const std::string& config, const std::vector<SafetensorsEntry>& tensors) {
    std::filesystem::create_directories(dir);
    write_file_atomic(dir / "config.json", config);
    write_file_atomic(dir / "model.safetensors", safetensors_bytes(tensors));
}

}  // namespace halo::model::testing
