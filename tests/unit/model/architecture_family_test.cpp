// The architecture table end to end: for every dense family row a tiny synthetic checkpoint is
// written both as a Hugging Face safetensors directory (HF names, HF norm convention) and as the
// GGUF llama.cpp's converter would write (its names, Q/K rows permuted for llama, Gemma's norm
// weights + 1); both must load to the same weights and give the same logits. Unknown
// architectures, shared-expert MoE (qwen2moe), unknown RoPE scalings and missing biases are errors
// naming file and key. The MoE row (mixtral) has its own tests in moe_model_test.cpp.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "gguf_test_util.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/safetensors_reader.hpp"
#include "halo/util/atomic_file.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::ScratchDir;

constexpr int kLayers = 3, kD = 8, kHeads = 2, kKv = 1, kHd = 4, kFf = 12, kVocab = 16;

struct Family {
    std::string name;      // halo row
    std::string hf_type;   // config.json model_type
    std::string gguf_arch; // general.architecture the converter writes
};

// HF tensors of a tiny model of `row`'s block shape (values k/32, exact in every dtype).
std::vector<SafetensorsEntry> family_hf(const ArchitectureRow& row, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> q(-48, 48);
    std::vector<SafetensorsEntry> e;
    const auto add = [&](const std::string& name, std::vector<std::int64_t> shape) {
        std::int64_t n = 1;
        for (auto d : shape) n *= d;
        std::vector<float> v(static_cast<std::size_t>(n));
        for (auto& x : v) x = static_cast<float>(q(rng)) / 32.0f;
        e.push_back({name, "F32", shape, v});
    };
    add("model.embed_tokens.weight", {kVocab, kD});
    for (int l = 0; l < kLayers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        add(p + "input_layernorm.weight", {kD});
        add(p + "self_attn.q_proj.weight", {kHeads * kHd, kD});
        add(p + "self_attn.k_proj.weight", {kKv * kHd, kD});
        add(p + "self_attn.v_proj.weight", {kKv * kHd, kD});
        if (row.qkv_bias) {
            add(p + "self_attn.q_proj.bias", {kHeads * kHd});
            add(p + "self_attn.k_proj.bias", {kKv * kHd});
            add(p + "self_attn.v_proj.bias", {kKv * kHd});
        }
        if (row.qk_norm) {
            add(p + "self_attn.q_norm.weight", {kHd});
            add(p + "self_attn.k_norm.weight", {kHd});
        }
        add(p + "self_attn.o_proj.weight", {kD, kHeads * kHd});
        add(p + "post_attention_layernorm.weight", {kD});
        if (row.post_norms) {
            add(p + "pre_feedforward_layernorm.weight", {kD});
            add(p + "post_feedforward_layernorm.weight", {kD});
        }
        add(p + "mlp.gate_proj.weight", {kFf, kD});
        add(p + "mlp.up_proj.weight", {kFf, kD});
        add(p + "mlp.down_proj.weight", {kD, kFf});
    }
    add("model.norm.weight", {kD});
    return e;
}

std::string family_config(const Family& f) {
    std::string extra;
    if (f.name == "gemma3")
        extra = R"(, "sliding_window": 3, "sliding_window_pattern": 2, "rope_local_base_freq": 10.0,
                    "query_pre_attn_scalar": 4, "final_logit_softcapping": null, "attn_logit_softcapping": null)";
    if (f.name == "qwen2") extra = R"(, "use_sliding_window": false, "sliding_window": 2)";
    if (f.name == "mistral") extra = R"(, "sliding_window": null)";
    return R"({"model_type": ")" + f.hf_type + R"(", "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 3,
        "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 4, "vocab_size": 16,
        "max_position_embeddings": 64, "rms_norm_eps": 1e-06, "rope_theta": 500.0, "tie_word_embeddings": true)" +
           extra + "}";
}

// What llama.cpp's convert_hf_to_gguf.py writes for the same checkpoint.
GgufWriter family_gguf(const Family& f, const ArchitectureRow& row, const std::vector<SafetensorsEntry>& hf) {
    GgufWriter w;
    const std::string a = f.gguf_arch + ".";
    w.add_string("general.architecture", f.gguf_arch);
    w.add_string("general.name", "tiny " + f.name);
    w.add_u32(a + "block_count", kLayers);
    w.add_u32(a + "embedding_length", kD);
    w.add_u32(a + "feed_forward_length", kFf);
    w.add_u32(a + "attention.head_count", kHeads);
    w.add_u32(a + "attention.head_count_kv", kKv);
    w.add_u32(a + "attention.key_length", kHd);
    w.add_u32(a + "attention.value_length", kHd);
    w.add_u32(a + "context_length", 64);
    w.add_f32(a + "rope.freq_base", 500.0f);
    w.add_f32(a + "attention.layer_norm_rms_epsilon", 1e-6f);
    w.add_u32(a + "vocab_size", kVocab);
    if (f.name == "gemma3") {
        w.add_u32(a + "attention.sliding_window", 3);
        w.add_u32(a + "attention.sliding_window_pattern", 2);
        w.add_f32(a + "rope.freq_base_swa", 10.0f);
    }
    std::map<std::string, std::string> renames = {
        {"input_layernorm.weight", "attn_norm.weight"},
        {"self_attn.q_proj.weight", "attn_q.weight"},
        {"self_attn.k_proj.weight", "attn_k.weight"},
        {"self_attn.v_proj.weight", "attn_v.weight"},
        {"self_attn.q_proj.bias", "attn_q.bias"},
        {"self_attn.k_proj.bias", "attn_k.bias"},
        {"self_attn.v_proj.bias", "attn_v.bias"},
        {"self_attn.q_norm.weight", "attn_q_norm.weight"},
        {"self_attn.k_norm.weight", "attn_k_norm.weight"},
        {"self_attn.o_proj.weight", "attn_output.weight"},
        {"post_attention_layernorm.weight", row.post_norms ? "post_attention_norm.weight" : "ffn_norm.weight"},
        {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
        {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
        {"mlp.gate_proj.weight", "ffn_gate.weight"},
        {"mlp.up_proj.weight", "ffn_up.weight"},
        {"mlp.down_proj.weight", "ffn_down.weight"}};
    for (const auto& t : hf) {
        std::string name = t.name;
        std::vector<float> values = t.values;
        const bool norm = name.find("norm") != std::string::npos;
        if (norm) for (float& v : values) v += row.hf_norm_offset;  // the converter adds Gemma's 1
        if (name == "model.embed_tokens.weight") {
            name = "token_embd.weight";
        } else if (name == "model.norm.weight") {
            name = "output_norm.weight";
        } else {
            const auto dot = name.find('.', std::string("model.layers.").size());
            const std::string layer = name.substr(13, dot - 13), rest = name.substr(dot + 1);
            name = "blk." + layer + "." + renames.at(rest);
            if (row.gguf_qk_permuted && (rest == "self_attn.q_proj.weight" || rest == "self_attn.k_proj.weight")) {
                Matrix m(t.shape[0], t.shape[1]);
                m.data = values;
                permute_qk_rows(m, rest[10] == 'q' ? kHeads : kKv);
                values = m.data;
            }
        }
        w.add_f32_tensor(name, std::vector<std::int64_t>(t.shape.rbegin(), t.shape.rend()), values);
    }
    return w;
}

const Family kFamilies[] = {
    {"llama", "llama", "llama"}, {"mistral", "mistral", "llama"}, {"qwen2", "qwen2", "qwen2"}, {"gemma3", "gemma3_text", "gemma3"}};

TEST(ArchitectureFamilies, SafetensorsAndGgufGiveTheSameLogits) {
    const std::vector<std::int32_t> tokens = {1, 5, 3, 9, 0, 2, 7, 7, 4, 10, 6, 8, 3};
    for (const auto& f : kFamilies) {
        SCOPED_TRACE(f.name);
        const ArchitectureRow& row = architecture_row(f.name);
        ScratchDir dir;
        const auto hf = family_hf(row, 5);
        std::filesystem::create_directories(dir / "hf");
        write_file_atomic(dir / "hf" / "config.json", family_config(f));
        write_file_atomic(dir / "hf" / "model.safetensors", safetensors_bytes(hf));
        family_gguf(f, row, hf).write(dir / "tiny.gguf");

        const ModelWeights st = load_model(dir / "hf");
        const ModelWeights gg = load_model(dir / "tiny.gguf");
        EXPECT_EQ(st.config.architecture, f.name);
        EXPECT_EQ(gg.config.architecture, f.gguf_arch == "llama" ? "llama" : f.name);
        for (const auto* w : {&st, &gg}) {
            const ModelConfig& c = w->config;
            EXPECT_EQ(c.post_norms, row.post_norms);
            EXPECT_EQ(c.qk_norm, row.qk_norm);
            EXPECT_EQ(c.qkv_bias, row.qkv_bias);
            EXPECT_EQ(c.gelu_gate, row.activation == FfnActivation::gelu_tanh);
            EXPECT_EQ(c.scale_embeddings, row.embedding_scale_sqrt_d);
            EXPECT_FALSE(c.norm_weight_plus_one);
            EXPECT_TRUE(c.tied_embeddings);
            EXPECT_EQ(c.sliding_window, f.name == "gemma3" ? 3 : 0);
        }
        // Gemma: the HF loader folded the +1 into the weights, as the converter did.
        EXPECT_EQ(st.layers[2].attn_norm, gg.layers[2].attn_norm);
        if (row.post_norms) {
            EXPECT_EQ(st.layers[1].post_ffn_norm, gg.layers[1].post_ffn_norm);
        }
        if (row.qkv_bias) {
            EXPECT_EQ(st.layers[0].bias_k, gg.layers[0].bias_k);
        }
        EXPECT_EQ(st.layers[1][LinearKind::attn_q].data, gg.layers[1][LinearKind::attn_q].data);
        const Matrix a = forward_logits(st, tokens), b = forward_logits(gg, tokens);
        ASSERT_EQ(a.data.size(), b.data.size());
        for (std::size_t i = 0; i < a.data.size(); ++i) ASSERT_EQ(a.data[i], b.data[i]) << i;
    }
}

TEST(ArchitectureFamilies, Gemma3LayerPattern) {
    ModelConfig c;
    apply_architecture(architecture_row("gemma3"), c);
    c.n_layers = 18;
    c.sliding_window = 512;
    c.rope_theta = 1e6f;
    for (int l = 0; l < 18; ++l) {
        const bool global = l == 5 || l == 11 || l == 17;  // llama.cpp: il % 6 == 5
        EXPECT_EQ(is_local_layer(c, l), !global) << l;
        EXPECT_EQ(layer_window(c, l), global ? 0 : 512) << l;
        EXPECT_EQ(layer_rope_theta(c, l), global ? 1e6f : 10000.0f) << l;
    }
    ModelConfig llama;
    apply_architecture(architecture_row("llama"), llama);
    EXPECT_FALSE(is_local_layer(llama, 0));
}

TEST(ArchitectureFamilies, UnknownAndUnsupportedAreErrorsNamingFileAndKey) {
    ScratchDir dir;
    for (const std::string arch : {"mamba", "qwen2moe"}) {
        GgufWriter w;
        w.add_string("general.architecture", arch);
        w.write(dir / (arch + ".gguf"));
        expect_error([&] { (void)load_model(dir / (arch + ".gguf")); }, arch == "mamba" ? "E5300" : "E5308",
                     {arch + ".gguf", "general.architecture", arch == "mamba" ? "unsupported model architecture" : "mixture-of-experts"});
    }
    // An unknown RoPE scaling kind, in GGUF and in config.json.
    const ArchitectureRow& llama = architecture_row("llama");
    const Family f = kFamilies[0];
    GgufWriter w = family_gguf(f, llama, family_hf(llama, 1));
    w.add_string("llama.rope.scaling.type", "longrope");
    w.write(dir / "rope.gguf");
    expect_error([&] { (void)load_model(dir / "rope.gguf"); }, "E5306",
                 {"rope.gguf", "llama.rope.scaling.type", "unknown RoPE scaling", "longrope"});
    std::filesystem::create_directories(dir / "hf");
    std::string cfg = family_config(f);
    cfg.back() = ',';
    write_file_atomic(dir / "hf" / "config.json", cfg + R"( "rope_scaling": {"rope_type": "dynamic", "factor": 2.0}})");
    write_file_atomic(dir / "hf" / "model.safetensors", safetensors_bytes(family_hf(llama, 1)));
    expect_error([&] { (void)load_model(dir / "hf"); }, "E5306", {"config.json", "rope_scaling.rope_type", "dynamic"});
    write_file_atomic(dir / "hf" / "config.json", R"({"model_type": "qwen2_moe", "hidden_size": 8})");
    expect_error([&] { (void)load_model(dir / "hf"); }, "E5221", {"config.json", "model_type", "qwen2_moe", "shared expert"});
    // Qwen2 without its biases: the missing tensor is named.
    const Family qwen = kFamilies[2];
    auto hf = family_hf(architecture_row("qwen2"), 1);
    std::erase_if(hf, [](const SafetensorsEntry& e) { return e.name == "model.layers.1.self_attn.k_proj.bias"; });
    write_file_atomic(dir / "hf" / "config.json", family_config(qwen));
    write_file_atomic(dir / "hf" / "model.safetensors", safetensors_bytes(hf));
    expect_error([&] { (void)load_model(dir / "hf"); }, "E5301", {"model.layers.1.self_attn.k_proj.bias", "missing"});
}

TEST(ArchitectureFamilies, TableRowsAreConsistent) {
    for (const auto& row : architecture_table()) {
        SCOPED_TRACE(std::string(row.name));
        EXPECT_EQ(&architecture_row(row.name), &row);
        EXPECT_EQ(find_architecture_hf(row.hf_model_type), &row);
        if (!row.gguf_name.empty()) {
            EXPECT_EQ(find_architecture_gguf(row.gguf_name), &row);
        }
    }
    EXPECT_EQ(find_architecture_gguf(""), nullptr);
    EXPECT_EQ(find_architecture_gguf("gemma2"), nullptr);  // attention soft-capping: not implemented
}

TEST(InstalledModels, NamesResolveUnderTheDataDirectory) {
    EXPECT_EQ(resolve_model_path(""), default_model_path());
    EXPECT_EQ(resolve_model_path("smollm2-135m"), default_model_path());
    EXPECT_EQ(resolve_model_path("gemma3-270m").filename(), "gemma3-270m-q4_k_m.gguf");
    EXPECT_EQ(resolve_model_path("gemma3-270m").parent_path(), default_model_path().parent_path());
    EXPECT_EQ(resolve_model_path("some/dir/model.gguf"), std::filesystem::path("some/dir/model.gguf"));
}

TEST(Gemma3Real, GgufConfigFromTheTable) {
    const auto path = resolve_model_path("gemma3-270m");
    if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not installed (scripts/setup.sh data)";
    const ModelConfig c = config_from_gguf(GgufFile(path));
    EXPECT_EQ(c.architecture, "gemma3");
    EXPECT_EQ(c.n_layers, 18);
    EXPECT_EQ(c.d_model, 640);
    EXPECT_EQ(c.n_heads, 4);
    EXPECT_EQ(c.n_kv_heads, 1);
    EXPECT_EQ(c.head_dim, 256);
    EXPECT_EQ(c.d_ff, 2048);
    EXPECT_EQ(c.vocab_size, 262144);
    EXPECT_EQ(c.sliding_window, 512);
    EXPECT_EQ(c.swa_pattern, 6);
    EXPECT_EQ(c.rope_theta, 1e6f);
    EXPECT_EQ(c.rope_theta_local, 10000.0f);
    EXPECT_TRUE(c.post_norms && c.qk_norm && c.gelu_gate && c.scale_embeddings && c.tied_embeddings);
    EXPECT_FALSE(c.norm_weight_plus_one);
    EXPECT_EQ(c.final_logit_softcap, 0.0f);
}

}  // namespace
}  // namespace halo::model
