// load_model: a tiny Llama written as a safetensors checkpoint (HF names and layout) and as a
// GGUF (llama.cpp names, Q/K rows permuted as its converter does) must load to identical
// ModelWeights; config/tensor mismatches and NaN weights are errors naming the tensor; the
// real SmolLM2 GGUF (skipped when not installed) has the expected config and metadata.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "gguf_test_util.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/safetensors_reader.hpp"
#include "../require_data.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::ScratchDir;

constexpr int kLayers = 2, kD = 8, kHeads = 2, kKv = 1, kHd = 4, kFf = 12, kVocab = 16;

// HF-named tensors of a tiny model with random values (exactly representable in BF16 so any
// dtype round-trips exactly).
std::vector<SafetensorsEntry> tiny_hf(bool with_lm_head) {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> q(-64, 64);
    const auto values = [&](std::int64_t n) {
        std::vector<float> v(static_cast<std::size_t>(n));
        for (auto& x : v) x = static_cast<float>(q(rng)) / 32.0f;
        return v;
    };
    std::vector<SafetensorsEntry> e;
    const auto add = [&](const std::string& name, std::vector<std::int64_t> shape) {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        e.push_back({name, "F32", shape, values(n)});
    };
    add("model.embed_tokens.weight", {kVocab, kD});
    for (int l = 0; l < kLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", {kD});
        add(p + "self_attn.q_proj.weight", {kHeads * kHd, kD});
        add(p + "self_attn.k_proj.weight", {kKv * kHd, kD});
        add(p + "self_attn.v_proj.weight", {kKv * kHd, kD});
        add(p + "self_attn.o_proj.weight", {kD, kHeads * kHd});
        add(p + "post_attention_layernorm.weight", {kD});
        add(p + "mlp.gate_proj.weight", {kFf, kD});
        add(p + "mlp.up_proj.weight", {kFf, kD});
        add(p + "mlp.down_proj.weight", {kD, kFf});
    }
    add("model.norm.weight", {kD});
    if (with_lm_head) add("lm_head.weight", {kVocab, kD});
    return e;
}

std::string hf_config(bool tied) {
    return std::string(R"({"model_type": "llama", "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 2,
        "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 16, "max_position_embeddings": 64,
        "rms_norm_eps": 1e-06, "rope_theta": 500.0, "tie_word_embeddings": )") + (tied ? "true}" : "false}");
}

// The GGUF llama.cpp's converter would write for the same tensors.
GgufWriter tiny_gguf(const std::vector<SafetensorsEntry>& hf) {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_string("general.name", "tiny");
    w.add_u32("llama.block_count", kLayers);
    w.add_u32("llama.embedding_length", kD);
    w.add_u32("llama.feed_forward_length", kFf);
    w.add_u32("llama.attention.head_count", kHeads);
    w.add_u32("llama.attention.head_count_kv", kKv);
    w.add_u32("llama.context_length", 64);
    w.add_f32("llama.rope.freq_base", 500.0f);
    w.add_f32("llama.attention.layer_norm_rms_epsilon", 1e-6f);
    w.add_u32("llama.vocab_size", kVocab);
    const std::vector<std::pair<std::string, std::string>> renames = {
        {"input_layernorm.weight", "attn_norm.weight"}, {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},   {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},    {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"}};
    for (const auto& t : hf) {
        std::string name = t.name;
        std::vector<float> values = t.values;
        if (name == "model.embed_tokens.weight") name = "token_embd.weight";
        else if (name == "model.norm.weight") name = "output_norm.weight";
        else if (name == "lm_head.weight") name = "output.weight";
        else {
            const auto dot = name.find('.', std::string("model.layers.").size());
            const std::string layer = name.substr(13, dot - 13), rest = name.substr(dot + 1);
            for (const auto& [hf_name, gguf_name] : renames)
                if (rest == hf_name) name = "blk." + layer + "." + gguf_name;
            if (rest == "self_attn.q_proj.weight" || rest == "self_attn.k_proj.weight") {
                Matrix m(t.shape[0], t.shape[1]);
                m.data = values;
                permute_qk_rows(m, rest[10] == 'q' ? kHeads : kKv);
                values = m.data;
            }
        }
        std::vector<std::int64_t> ne(t.shape.rbegin(), t.shape.rend());
        w.add_f32_tensor(name, ne, values);
    }
    return w;
}

void expect_same(const ModelWeights& a, const ModelWeights& b) {
    EXPECT_EQ(a.token_embedding.data, b.token_embedding.data);
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (std::size_t l = 0; l < a.layers.size(); ++l) {
        EXPECT_EQ(a.layers[l].attn_norm, b.layers[l].attn_norm);
        EXPECT_EQ(a.layers[l].ffn_norm, b.layers[l].ffn_norm);
        for (auto k : kLinearKinds) {
            EXPECT_EQ(a.layers[l][k].rows, b.layers[l][k].rows) << linear_name(k);
            EXPECT_EQ(a.layers[l][k].cols, b.layers[l][k].cols) << linear_name(k);
            EXPECT_EQ(a.layers[l][k].data, b.layers[l][k].data) << "layer " << l << " " << linear_name(k);
        }
    }
    EXPECT_EQ(a.output_norm, b.output_norm);
    EXPECT_EQ(a.lm_head().data, b.lm_head().data);
}

TEST(QkPermutation, MatchesTheConverterAndInverts) {
    // One head of 4 rows: HF rows [x0, x1, y0, y1] -> GGUF [x0, y0, x1, y1].
    Matrix m(8, 1);
    for (int r = 0; r < 8; ++r) m.at(r, 0) = static_cast<float>(r);
    Matrix p = m;
    permute_qk_rows(p, 2);
    EXPECT_EQ(p.data, (std::vector<float>{0, 2, 1, 3, 4, 6, 5, 7}));
    unpermute_qk_rows(p, 2);
    EXPECT_EQ(p.data, m.data);
}

TEST(LoadModel, GgufAndSafetensorsGiveIdenticalWeights) {
    ScratchDir dir;
    const auto hf = tiny_hf(true);
    std::filesystem::create_directories(dir / "hf");
    write_file_atomic(dir / "hf" / "config.json", hf_config(false));
    write_file_atomic(dir / "hf" / "model.safetensors", safetensors_bytes(hf));
    tiny_gguf(hf).write(dir / "tiny.gguf");

    const ModelWeights from_st = load_model(dir / "hf");
    const ModelWeights from_gguf = load_model(dir / "tiny.gguf");
    expect_same(from_st, from_gguf);
    // The HF tensors land unchanged (row-major [out x in]).
    EXPECT_EQ(from_st.layers[1][LinearKind::attn_q].data, hf[1 + 9 + 1].values);
    EXPECT_EQ(from_st.layers[0][LinearKind::ffn_down].rows, kD);
    EXPECT_EQ(from_st.layers[0][LinearKind::ffn_down].cols, kFf);
    for (const auto* w : {&from_st, &from_gguf}) {
        const auto& c = w->config;
        EXPECT_EQ(c.n_layers, kLayers);
        EXPECT_EQ(c.d_model, kD);
        EXPECT_EQ(c.n_heads, kHeads);
        EXPECT_EQ(c.n_kv_heads, kKv);
        EXPECT_EQ(c.head_dim, kHd);
        EXPECT_EQ(c.d_ff, kFf);
        EXPECT_EQ(c.vocab_size, kVocab);
        EXPECT_EQ(c.context_length, 64);
        EXPECT_EQ(c.rope_theta, 500.0f);
        EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
        EXPECT_FALSE(c.tied_embeddings);
        EXPECT_EQ(w->output.rows, kVocab);
    }
    EXPECT_EQ(from_gguf.source_format, "gguf:F32");
    EXPECT_EQ(from_st.source_format, "safetensors:f32");
}

TEST(LoadModel, TiedEmbeddingsWhenOutputIsAbsent) {
    ScratchDir dir;
    const auto hf = tiny_hf(false);
    tiny_gguf(hf).write(dir / "tied.gguf");
    const ModelWeights w = load_model(dir / "tied.gguf");
    EXPECT_TRUE(w.config.tied_embeddings);
    EXPECT_EQ(w.output.size(), 0u);
    EXPECT_EQ(&w.lm_head(), &w.token_embedding);
}

TEST(LoadModel, Bf16ShardedCheckpoint) {
    ScratchDir dir;
    auto hf = tiny_hf(false);
    std::vector<SafetensorsEntry> a(hf.begin(), hf.begin() + 5), b(hf.begin() + 5, hf.end());
    for (auto& e : b) e.dtype = "BF16";
    write_file_atomic(dir / "config.json", hf_config(true));
    write_file_atomic(dir / "a.safetensors", safetensors_bytes(a));
    write_file_atomic(dir / "b.safetensors", safetensors_bytes(b));
    std::string index = R"({"weight_map": {)";
    for (std::size_t i = 0; i < hf.size(); ++i)
        index += (i ? ", \"" : "\"") + hf[i].name + "\": \"" + (i < 5 ? "a" : "b") + ".safetensors\"";
    write_file_atomic(dir / "model.safetensors.index.json", index + "}}");
    const ModelWeights w = load_model(dir.path());
    EXPECT_TRUE(w.config.tied_embeddings);
    EXPECT_EQ(w.source_format, "safetensors:bf16+f32");
    EXPECT_EQ(w.output_norm, hf.back().values);
}

TEST(LoadModel, ShapeDisagreeingWithConfigNamesTensorAndShapes) {
    ScratchDir dir;
    auto hf = tiny_hf(false);
    for (auto& e : hf)
        if (e.name == "model.layers.1.mlp.up_proj.weight") {
            e.shape = {kFf - 2, kD};
            e.values.resize(static_cast<std::size_t>((kFf - 2) * kD));
        }
    write_file_atomic(dir / "config.json", hf_config(true));
    write_file_atomic(dir / "model.safetensors", safetensors_bytes(hf));
    expect_error([&] { (void)load_model(dir.path()); }, "E5302",
                 {"model.layers.1.mlp.up_proj.weight", "expected [12 x 8]", "found [10 x 8]"});
}

TEST(LoadModel, MissingTensorAndNonFiniteWeights) {
    ScratchDir dir;
    auto hf = tiny_hf(false);
    hf.erase(hf.begin() + 3);  // layer 0 k_proj
    tiny_gguf(hf).write(dir / "missing.gguf");
    expect_error([&] { (void)load_model(dir / "missing.gguf"); }, "E5301", {"blk.0.attn_k.weight", "missing", "[4 x 8]"});

    hf = tiny_hf(false);
    hf[7].values[5] = std::nanf("");  // layer 0 gate_proj
    tiny_gguf(hf).write(dir / "nan.gguf");
    expect_error([&] { (void)load_model(dir / "nan.gguf"); }, "E5303", {"blk.0.ffn_gate.weight", "element 5", "not finite"});
}

TEST(LoadModel, WrongArchitectureAndMissingPath) {
    ScratchDir dir;
    GgufWriter w;
    w.add_string("general.architecture", "mamba");
    w.write(dir / "g.gguf");
    expect_error([&] { (void)load_model(dir / "g.gguf"); }, "E5300", {"unsupported model architecture", "found mamba"});
    expect_error([&] { (void)load_model(dir / "nothing"); }, "E5304", {"found no such file or directory"});
    try {
        (void)load_model(dir / "nothing");
    } catch (const Error& e) {
        EXPECT_TRUE(e.diagnostic().hint.empty()) << "a user's wrong path is not a missing installation: " << e.what();
    }
}

// ---- the real model -----------------------------------------------------------------------

TEST(SmolLM2, GgufMetadataAndTensors) {
    const auto path = default_model_path();
    HALO_SKIP_UNLESS_INSTALLED(path);
    GgufFile f(path);
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.metadata().size(), 33u);
    EXPECT_EQ(f.tensors().size(), 272u);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_string("general.size_label"), "135M");
    EXPECT_EQ(f.get_string("tokenizer.ggml.model"), "gpt2");
    EXPECT_EQ(f.get_string("tokenizer.ggml.pre"), "smollm");
    EXPECT_EQ(f.get_int("general.file_type"), 3);  // MOSTLY_Q4_1
    EXPECT_EQ(f.find("tokenizer.ggml.merges")->size(), 48900u);
    int q4_1 = 0, f32 = 0, q8_0 = 0;
    for (const auto& t : f.tensors()) {
        const std::string_view n = t.type->name;
        q4_1 += n == "Q4_1";
        f32 += n == "F32";
        q8_0 += n == "Q8_0";
    }
    EXPECT_EQ(q4_1, 210);
    EXPECT_EQ(f32, 61);
    EXPECT_EQ(q8_0, 1);
    EXPECT_EQ(f.find_tensor("token_embd.weight")->type->name, "Q8_0");
    EXPECT_EQ(f.find_tensor("output.weight"), nullptr);

    const ModelConfig c = config_from_gguf(f);
    EXPECT_EQ(c.n_layers, 30);
    EXPECT_EQ(c.d_model, 576);
    EXPECT_EQ(c.d_ff, 1536);
    EXPECT_EQ(c.n_heads, 9);
    EXPECT_EQ(c.n_kv_heads, 3);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.vocab_size, 49152);
    EXPECT_EQ(c.context_length, 8192);
    EXPECT_EQ(c.rope_theta, 100000.0f);
    EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-5f);
    EXPECT_TRUE(c.tied_embeddings);
}

TEST(SmolLM2, LoadsToFiniteFp32Weights) {
    const auto path = default_model_path();
    HALO_SKIP_UNLESS_INSTALLED(path);
    const ModelWeights w = load_model(path);
    EXPECT_EQ(w.source_format, "gguf:Q4_1");
    EXPECT_EQ(w.layers.size(), 30u);
    EXPECT_EQ(w.token_embedding.rows, 49152);
    EXPECT_EQ(w.token_embedding.cols, 576);
    EXPECT_EQ(w.layers[29][LinearKind::attn_k].rows, 192);
    EXPECT_EQ(w.layers[29][LinearKind::ffn_down].cols, 1536);
    // Values checked against gguf-py's numpy dequantization (docs/design/model_io.md):
    // sum of the Q8_0 embedding -15353.04, first elements -0.1065445, 0.03297806.
    double sum = 0;
    for (float x : w.token_embedding.data) sum += x;
    EXPECT_NEAR(sum, -15353.04, 0.01);
    EXPECT_FLOAT_EQ(w.token_embedding.data[0], -0.1065445f);
    EXPECT_FLOAT_EQ(w.token_embedding.data[1], 0.03297806f);
}

}  // namespace
}  // namespace halo::model
