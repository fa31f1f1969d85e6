// A tiny llama GGUF written as llama.cpp's converter writes it, for the export tests of quant
// (export_gguf_test.cpp) and of the jobs (HALO directories exported).
#pragma once

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/weights.hpp"

namespace halo::quant::testing {

inline constexpr int kLayers = 2, kD = 64, kHeads = 4, kKv = 2, kHd = 16, kFf = 96, kVocab = 40;

// A tiny llama GGUF as llama.cpp's converter writes it (Q/K rows permuted), F32 tensors, and a
// few metadata keys of several types to check they are copied.
inline std::filesystem::path write_tiny_gguf(const std::filesystem::path& path, unsigned seed, int d_model = kD) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> n(0.0f, 0.2f);
    const auto values = [&](std::int64_t k) {
        std::vector<float> v(static_cast<std::size_t>(k));
        for (auto& x : v) x = n(rng);
        return v;
    };
    model::GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "tiny-export");
    w.add_u32("general.file_type", 0);
    w.add_u32("llama.block_count", kLayers);
    w.add_u32("llama.embedding_length", static_cast<std::uint32_t>(d_model));
    w.add_u32("llama.feed_forward_length", kFf);
    w.add_u32("llama.attention.head_count", kHeads);
    w.add_u32("llama.attention.head_count_kv", kKv);
    w.add_u32("llama.attention.key_length", kHd);
    w.add_u32("llama.context_length", 64);
    w.add_f32("llama.rope.freq_base", 10000.0f);
    w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.add_u32("llama.vocab_size", kVocab);
    w.add_bool("tokenizer.ggml.add_bos_token", true);
    w.add_i32_array("tokenizer.ggml.token_type", std::vector<std::int32_t>(kVocab, 1));
    w.add_f32_array("tokenizer.ggml.scores", std::vector<float>(kVocab, -1.5f));
    w.add_f64("halo.test.f64", 0.1);
    const auto matrix = [&](const std::string& name, std::int64_t rows, std::int64_t cols, int permute_heads) {
        model::Matrix m(rows, cols);
        m.data = values(rows * cols);
        if (permute_heads) model::permute_qk_rows(m, permute_heads);
        w.add_f32_tensor(name, {cols, rows}, m.data);
    };
    matrix("token_embd.weight", kVocab, d_model, 0);
    for (int l = 0; l < kLayers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        w.add_f32_tensor(p + "attn_norm.weight", {d_model}, std::vector<float>(static_cast<std::size_t>(d_model), 1.0f));
        matrix(p + "attn_q.weight", kHeads * kHd, d_model, kHeads);
        matrix(p + "attn_k.weight", kKv * kHd, d_model, kKv);
        matrix(p + "attn_v.weight", kKv * kHd, d_model, 0);
        matrix(p + "attn_output.weight", d_model, kHeads * kHd, 0);
        w.add_f32_tensor(p + "ffn_norm.weight", {d_model}, std::vector<float>(static_cast<std::size_t>(d_model), 0.9f));
        matrix(p + "ffn_gate.weight", kFf, d_model, 0);
        matrix(p + "ffn_up.weight", kFf, d_model, 0);
        matrix(p + "ffn_down.weight", d_model, kFf, 0);
    }
    w.add_f32_tensor("output_norm.weight", {d_model}, std::vector<float>(static_cast<std::size_t>(d_model), 1.1f));
    w.write(path);
    return path;
}

}  // namespace halo::quant::testing
