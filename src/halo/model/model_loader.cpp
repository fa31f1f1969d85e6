#include "halo/model/model_loader.hpp"
#include "halo/model/input_checks.hpp"

#include <cmath>
#include <functional>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "halo/model/safetensors_reader.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/paths.hpp"

namespace halo::model {

std::string_view linear_name(LinearKind kind) {
    static constexpr std::string_view names[] = {"attn_q", "attn_k", "attn_v", "attn_output",
                                                 "ffn_gate", "ffn_up", "ffn_down"};
    return names[static_cast<std::size_t>(kind)];
}

namespace {

// A tensor in some file: its row-major shape and how to get its values.
struct SourceTensor {
    std::vector<std::int64_t> shape;
    std::function<std::vector<float>()> read;
};
using TensorLookup = std::function<std::optional<SourceTensor>(const std::string& name)>;

// Per-layer tensor names: GGUF suffix after "blk.N.", HF suffix after "model.layers.N.".
struct LayerTensorName {
    std::optional<LinearKind> linear;  // none for the two norms
    bool attn_norm;
    const char* gguf;
    const char* hf;
};
// clang-format off
constexpr LayerTensorName kLayerNames[] = {
    {LinearKind::attn_q,      false, "attn_q.weight",      "self_attn.q_proj.weight"},
    {LinearKind::attn_k,      false, "attn_k.weight",      "self_attn.k_proj.weight"},
    {LinearKind::attn_v,      false, "attn_v.weight",      "self_attn.v_proj.weight"},
    {LinearKind::attn_output, false, "attn_output.weight", "self_attn.o_proj.weight"},
    {LinearKind::ffn_gate,    false, "ffn_gate.weight",    "mlp.gate_proj.weight"},
    {LinearKind::ffn_up,      false, "ffn_up.weight",      "mlp.up_proj.weight"},
    {LinearKind::ffn_down,    false, "ffn_down.weight",    "mlp.down_proj.weight"},
    {std::nullopt,            true,  "attn_norm.weight",   "input_layernorm.weight"},
    {std::nullopt,            false, "ffn_norm.weight",    "post_attention_layernorm.weight"},
};
// clang-format on

struct Naming {
    std::string embedding, output_norm, output;
    std::string layer_prefix;  // "blk." or "model.layers."
    bool hf;
};

std::string shape_str(const std::vector<std::int64_t>& s) { return fmt::format("[{}]", fmt::join(s, " x ")); }

class Assembler {
public:
    Assembler(std::string file, TensorLookup lookup) : file_(std::move(file)), lookup_(std::move(lookup)) {}

    std::vector<float> load(const std::string& name, const std::vector<std::int64_t>& shape) {
        auto t = lookup_(name);
        if (!t) missing(name, shape);
        if (t->shape != shape) {
            throw_bad_input_at("E5302", file_, name, "tensor shape does not match the model config", shape_str(shape), shape_str(t->shape), "the config (metadata or config.json) and the weights disagree");
        }
        auto values = t->read();
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!std::isfinite(values[i])) {
                throw_bad_input_at("E5303", file_, name, fmt::format("weight element {} is not finite", i), "a finite value", fmt::format("{}", values[i]), "the checkpoint is corrupt");
            }
        return values;
    }
    Matrix matrix(const std::string& name, std::int64_t rows, std::int64_t cols) {
        Matrix m;
        m.rows = rows;
        m.cols = cols;
        m.data = load(name, {rows, cols});
        return m;
    }
    bool has(const std::string& name) { return lookup_(name).has_value(); }

    [[noreturn]] void missing(const std::string& name, const std::vector<std::int64_t>& shape) {
        throw_bad_input_at("E5301", file_, name, "tensor is missing", "a tensor of shape " + shape_str(shape), "none", "the checkpoint is incomplete or not a Llama-family model");
    }

private:
    std::string file_;
    TensorLookup lookup_;
};

ModelWeights assemble(ModelConfig config, Assembler& a, const Naming& n, bool unpermute_qk) {
    ModelWeights w;
    w.config = std::move(config);
    const auto& c = w.config;
    const std::int64_t d = c.d_model, hd = c.head_dim, v = c.vocab_size;
    w.token_embedding = a.matrix(n.embedding, v, d);
    w.layers.resize(static_cast<std::size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        auto& layer = w.layers[static_cast<std::size_t>(l)];
        const std::string prefix = n.layer_prefix + std::to_string(l) + ".";
        for (const auto& row : kLayerNames) {
            const std::string name = prefix + (n.hf ? row.hf : row.gguf);
            if (!row.linear) {
                (row.attn_norm ? layer.attn_norm : layer.ffn_norm) = a.load(name, {d});
                continue;
            }
            std::int64_t rows = 0, cols = d;
            switch (*row.linear) {
                case LinearKind::attn_q: rows = c.n_heads * hd; break;
                case LinearKind::attn_k: case LinearKind::attn_v: rows = c.n_kv_heads * hd; break;
                case LinearKind::attn_output: rows = d; cols = c.n_heads * hd; break;
                case LinearKind::ffn_gate: case LinearKind::ffn_up: rows = c.d_ff; break;
                case LinearKind::ffn_down: rows = d; cols = c.d_ff; break;
            }
            layer[*row.linear] = a.matrix(name, rows, cols);
        }
        if (unpermute_qk) {
            unpermute_qk_rows(layer[LinearKind::attn_q], c.n_heads);
            unpermute_qk_rows(layer[LinearKind::attn_k], c.n_kv_heads);
        }
    }
    w.output_norm = a.load(n.output_norm, {d});
    if (a.has(n.output) && !(n.hf && c.tied_embeddings)) {
        w.output = a.matrix(n.output, v, d);
        w.config.tied_embeddings = false;
    } else {
        w.config.tied_embeddings = true;
    }
    return w;
}

void check_config(const ModelConfig& c, const std::string& file) {
    const auto bad = [&](const char* what, std::string found) {
        throw_bad_value("E5305", file, fmt::format("model config: {}", what), "a consistent Llama config", std::move(found));
    };
    if (c.n_layers <= 0 || c.d_model <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 || c.d_ff <= 0 || c.vocab_size <= 0 ||
        c.head_dim <= 0)
        bad("sizes must be positive", fmt::format("layers {} d_model {} heads {}/{} d_ff {} vocab {} head_dim {}", c.n_layers,
                                                  c.d_model, c.n_heads, c.n_kv_heads, c.d_ff, c.vocab_size, c.head_dim));
    if (c.n_heads % c.n_kv_heads != 0) bad("heads not a multiple of kv heads", fmt::format("{}/{}", c.n_heads, c.n_kv_heads));
    if (c.head_dim % 2 != 0) bad("head_dim must be even for RoPE", std::to_string(c.head_dim));
    check_config_numbers(c, file);  // input_checks.hpp: eps, RoPE base, ... finite and in range
}

ModelWeights load_gguf(const std::filesystem::path& path) {
    GgufFile file(path);
    ModelConfig config = config_from_gguf(file);
    check_config(config, path.string());
    Assembler a(path.string(), [&](const std::string& name) -> std::optional<SourceTensor> {
        const GgufTensorInfo* t = file.find_tensor(name);
        if (!t) return std::nullopt;
        return SourceTensor{t->shape(), [&file, t] { return file.dequantize(*t); }};
    });
    Naming n{"token_embd.weight", "output_norm.weight", "output.weight", "blk.", false};
    ModelWeights w = assemble(std::move(config), a, n, /*unpermute_qk=*/true);
    w.source_path = path.string();
    const GgufTensorInfo* probe = file.find_tensor("blk.0.attn_q.weight");
    w.source_format = "gguf:" + std::string(probe ? probe->type->name : "?");
    return w;
}

ModelWeights load_safetensors(const std::filesystem::path& dir) {
    ModelConfig config = read_hf_config(dir / "config.json");
    check_config(config, (dir / "config.json").string());
    SafetensorsCheckpoint ckpt(dir);
    Assembler a(dir.string(), [&](const std::string& name) -> std::optional<SourceTensor> {
        const auto loc = ckpt.find(name);
        if (!loc.tensor) return std::nullopt;
        return SourceTensor{loc.tensor->shape, [loc] { return loc.file->dequantize(*loc.tensor); }};
    });
    Naming n{"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "model.layers.", true};
    ModelWeights w = assemble(std::move(config), a, n, /*unpermute_qk=*/false);
    w.source_path = dir.string();
    w.source_format = "safetensors:" + ckpt.dtype_summary();
    return w;
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& f) {
    ModelConfig c;
    c.architecture = f.require_string("general.architecture");
    if (c.architecture != "llama")
        throw_bad_value("E5300", f.path().string(), "unsupported model architecture", "llama", c.architecture,
                        "halo's forward pass implements the Llama family (SmolLM2, Llama, Mistral)");
    const std::string a = c.architecture + ".";
    c.name = f.get_string("general.name").value_or(f.path().stem().string());
    c.n_layers = static_cast<int>(f.require_int(a + "block_count"));
    c.d_model = static_cast<int>(f.require_int(a + "embedding_length"));
    c.d_ff = static_cast<int>(f.require_int(a + "feed_forward_length"));
    c.n_heads = static_cast<int>(f.require_int(a + "attention.head_count"));
    c.n_kv_heads = static_cast<int>(f.get_int(a + "attention.head_count_kv").value_or(c.n_heads));
    c.head_dim = static_cast<int>(f.get_int(a + "attention.key_length").value_or(c.n_heads ? c.d_model / c.n_heads : 0));
    c.context_length = static_cast<int>(f.get_int(a + "context_length").value_or(2048));
    c.rms_norm_eps = static_cast<float>(f.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
    c.rope_theta = static_cast<float>(f.get_float(a + "rope.freq_base").value_or(10000.0));
    if (auto v = f.get_int(a + "vocab_size")) {
        c.vocab_size = static_cast<int>(*v);
    } else if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens")) {
        c.vocab_size = static_cast<int>(tokens->size());
    } else if (const GgufTensorInfo* e = f.find_tensor("token_embd.weight"); e && e->ne.size() == 2) {
        c.vocab_size = static_cast<int>(e->ne[1]);
    }
    if (auto kind = f.get_string(a + "rope.scaling.type")) {
        if (*kind == "linear") c.rope_scaling = RopeScaling::linear;
        else if (*kind == "yarn") c.rope_scaling = RopeScaling::yarn;
        c.rope_scaling_factor = static_cast<float>(f.get_float(a + "rope.scaling.factor").value_or(1.0));
    }
    c.tied_embeddings = f.find_tensor("output.weight") == nullptr;
    return c;
}

void unpermute_qk_rows(Matrix& m, int n_heads) {
    const std::int64_t hd = m.rows / n_heads, half = hd / 2;
    Matrix out(m.rows, m.cols);
    for (std::int64_t h = 0; h < n_heads; ++h)
        for (std::int64_t i = 0; i < half; ++i)
            for (std::int64_t j = 0; j < 2; ++j)  // GGUF row 2i+j holds HF row j*half+i
                std::copy_n(m.row(h * hd + 2 * i + j), m.cols, out.row(h * hd + j * half + i));
    m = std::move(out);
}

void permute_qk_rows(Matrix& m, int n_heads) {
    const std::int64_t hd = m.rows / n_heads, half = hd / 2;
    Matrix out(m.rows, m.cols);
    for (std::int64_t h = 0; h < n_heads; ++h)
        for (std::int64_t i = 0; i < half; ++i)
            for (std::int64_t j = 0; j < 2; ++j) std::copy_n(m.row(h * hd + j * half + i), m.cols, out.row(h * hd + 2 * i + j));
    m = std::move(out);
}

ModelWeights load_model(const std::filesystem::path& path) {
    if (std::filesystem::is_directory(path)) return load_safetensors(path);
    if (std::filesystem::is_regular_file(path)) return load_gguf(path);
    throw_bad_value("E5304", path.string(), "model path is neither a GGUF file nor a checkpoint directory",
                    "a .gguf file or a directory with config.json and *.safetensors", "nothing there",
                    "run `scripts/setup.sh data` to install the default model");
}

std::filesystem::path default_model_path() { return data_dir() / "models" / "smollm2-135m-instruct-q4_1.gguf"; }
std::filesystem::path default_eval_text_path() { return data_dir() / "text" / "eval.txt"; }
std::filesystem::path default_calib_text_path() { return data_dir() / "text" / "calib.txt"; }

}  // namespace halo::model
