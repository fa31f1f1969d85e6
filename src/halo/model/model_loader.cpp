#include "halo/model/model_loader.hpp"

#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "halo/model/lazy_model.hpp"
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

    // Presence and shape only (no data read): what LazyModel checks for every tensor up front.
    void check(const std::string& name, const std::vector<std::int64_t>& shape) const {
        auto t = lookup_(name);
        if (!t) missing(name, shape);
        if (t->shape != shape) {
            throw_bad_input_at("E5302", file_, name, "tensor shape does not match the model config", shape_str(shape), shape_str(t->shape), "the config (metadata or config.json) and the weights disagree");
        }
    }
    std::vector<float> load(const std::string& name, const std::vector<std::int64_t>& shape) const {
        check(name, shape);
        auto values = lookup_(name)->read();
        for (std::size_t i = 0; i < values.size(); ++i)
            if (!std::isfinite(values[i])) {
                throw_bad_input_at("E5303", file_, name, fmt::format("weight element {} is not finite", i), "a finite value", fmt::format("{}", values[i]), "the checkpoint is corrupt");
            }
        return values;
    }
    Matrix matrix(const std::string& name, std::int64_t rows, std::int64_t cols) const {
        Matrix m;
        m.rows = rows;
        m.cols = cols;
        m.data = load(name, {rows, cols});
        return m;
    }
    bool has(const std::string& name) const { return lookup_(name).has_value(); }

    [[noreturn]] void missing(const std::string& name, const std::vector<std::int64_t>& shape) const {
        throw_bad_input_at("E5301", file_, name, "tensor is missing", "a tensor of shape " + shape_str(shape), "none", "the checkpoint is incomplete or not a Llama-family model");
    }

private:
    std::string file_;
    TensorLookup lookup_;
};

// Rows x cols of a block's linear as the config gives it.
std::pair<std::int64_t, std::int64_t> linear_shape(const ModelConfig& c, LinearKind kind) {
    const std::int64_t d = c.d_model, hd = c.head_dim;
    switch (kind) {
        case LinearKind::attn_q: return {c.n_heads * hd, d};
        case LinearKind::attn_k: case LinearKind::attn_v: return {c.n_kv_heads * hd, d};
        case LinearKind::attn_output: return {d, c.n_heads * hd};
        case LinearKind::ffn_gate: case LinearKind::ffn_up: return {c.d_ff, d};
        case LinearKind::ffn_down: return {d, c.d_ff};
    }
    return {0, 0};
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
}

}  // namespace

// The open file(s), the naming of the source and the assembler over them. Tensor readers drop
// each tensor's mapped pages once converted (release), so only the FP32 copies stay resident.
struct LazyModel::Impl {
    std::unique_ptr<GgufFile> gguf;
    std::unique_ptr<SafetensorsCheckpoint> ckpt;
    std::unique_ptr<Assembler> assembler;
    ModelConfig config;
    Naming naming;
    bool unpermute_qk = false;
    std::string source_path, source_format;

    std::string layer_tensor(int l, const LayerTensorName& row) const {
        return naming.layer_prefix + std::to_string(l) + "." + (naming.hf ? row.hf : row.gguf);
    }
    // Every tensor present with the config's shape; decides tied embeddings as load_model did.
    void check_all() {
        const Assembler& a = *assembler;
        const std::int64_t d = config.d_model, v = config.vocab_size;
        a.check(naming.embedding, {v, d});
        for (int l = 0; l < config.n_layers; ++l)
            for (const auto& row : kLayerNames) {
                if (!row.linear) {
                    a.check(layer_tensor(l, row), {d});
                    continue;
                }
                const auto [rows, cols] = linear_shape(config, *row.linear);
                a.check(layer_tensor(l, row), {rows, cols});
            }
        a.check(naming.output_norm, {d});
        if (a.has(naming.output) && !(naming.hf && config.tied_embeddings)) {
            a.check(naming.output, {v, d});
            config.tied_embeddings = false;
        } else {
            config.tied_embeddings = true;
        }
    }
};

LazyModel::LazyModel(const std::filesystem::path& path) : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.source_path = path.string();
    if (std::filesystem::is_directory(path)) {
        m.config = read_hf_config(path / "config.json");
        check_config(m.config, (path / "config.json").string());
        m.ckpt = std::make_unique<SafetensorsCheckpoint>(path);
        const SafetensorsCheckpoint* ckpt = m.ckpt.get();
        m.assembler = std::make_unique<Assembler>(path.string(), [ckpt](const std::string& name) -> std::optional<SourceTensor> {
            const auto loc = ckpt->find(name);
            if (!loc.tensor) return std::nullopt;
            return SourceTensor{loc.tensor->shape, [loc] {
                                    auto values = loc.file->dequantize(*loc.tensor);
                                    loc.file->release(*loc.tensor);
                                    return values;
                                }};
        });
        m.naming = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "model.layers.", true};
        m.source_format = "safetensors:" + ckpt->dtype_summary();
    } else if (std::filesystem::is_regular_file(path)) {
        m.gguf = std::make_unique<GgufFile>(path);
        m.config = config_from_gguf(*m.gguf);
        check_config(m.config, path.string());
        const GgufFile* file = m.gguf.get();
        m.assembler = std::make_unique<Assembler>(path.string(), [file](const std::string& name) -> std::optional<SourceTensor> {
            const GgufTensorInfo* t = file->find_tensor(name);
            if (!t) return std::nullopt;
            return SourceTensor{t->shape(), [file, t] {
                                    auto values = file->dequantize(*t);
                                    file->release(*t);
                                    return values;
                                }};
        });
        m.naming = {"token_embd.weight", "output_norm.weight", "output.weight", "blk.", false};
        m.unpermute_qk = true;
        const GgufTensorInfo* probe = file->find_tensor("blk.0.attn_q.weight");
        m.source_format = "gguf:" + std::string(probe ? probe->type->name : "?");
    } else {
        throw_bad_value("E5304", path.string(), "model path is neither a GGUF file nor a checkpoint directory",
                        "a .gguf file or a directory with config.json and *.safetensors", "nothing there",
                        "run `scripts/setup.sh data` to install the default model");
    }
    m.check_all();
}

LazyModel::~LazyModel() = default;

const ModelConfig& LazyModel::config() const { return impl_->config; }
const std::string& LazyModel::source_path() const { return impl_->source_path; }
const std::string& LazyModel::source_format() const { return impl_->source_format; }

ModelWeights LazyModel::skeleton() const {
    ModelWeights w;
    w.config = impl_->config;
    w.layers.resize(static_cast<std::size_t>(impl_->config.n_layers));
    w.source_path = impl_->source_path;
    w.source_format = impl_->source_format;
    return w;
}

Matrix LazyModel::token_embedding() const {
    return impl_->assembler->matrix(impl_->naming.embedding, impl_->config.vocab_size, impl_->config.d_model);
}

LayerWeights LazyModel::layer(int l) const {
    const Impl& m = *impl_;
    const ModelConfig& c = m.config;
    if (l < 0 || l >= c.n_layers)
        throw_internal("E5305", fmt::format("LazyModel::layer({}) outside 0..{}", l, c.n_layers - 1));
    LayerWeights layer;
    for (const auto& row : kLayerNames) {
        const std::string name = m.layer_tensor(l, row);
        if (!row.linear) {
            (row.attn_norm ? layer.attn_norm : layer.ffn_norm) = m.assembler->load(name, {c.d_model});
            continue;
        }
        const auto [rows, cols] = linear_shape(c, *row.linear);
        layer[*row.linear] = m.assembler->matrix(name, rows, cols);
    }
    if (m.unpermute_qk) {
        unpermute_qk_rows(layer[LinearKind::attn_q], c.n_heads);
        unpermute_qk_rows(layer[LinearKind::attn_k], c.n_kv_heads);
    }
    return layer;
}

std::vector<float> LazyModel::output_norm() const { return impl_->assembler->load(impl_->naming.output_norm, {impl_->config.d_model}); }

Matrix LazyModel::output() const {
    if (impl_->config.tied_embeddings) return {};
    return impl_->assembler->matrix(impl_->naming.output, impl_->config.vocab_size, impl_->config.d_model);
}

std::int64_t LazyModel::layer_bytes() const {
    std::int64_t n = 2 * impl_->config.d_model;
    for (auto k : kLinearKinds) {
        const auto [rows, cols] = linear_shape(impl_->config, k);
        n += rows * cols;
    }
    return n * static_cast<std::int64_t>(sizeof(float));
}

std::int64_t LazyModel::model_bytes() const {
    const ModelConfig& c = impl_->config;
    const std::int64_t embed = static_cast<std::int64_t>(c.vocab_size) * c.d_model * static_cast<std::int64_t>(sizeof(float));
    return layer_bytes() * c.n_layers + embed * (c.tied_embeddings ? 1 : 2) + c.d_model * static_cast<std::int64_t>(sizeof(float));
}

ModelWeights LazyModel::load_all() const {
    ModelWeights w = skeleton();
    w.token_embedding = token_embedding();
    for (int l = 0; l < impl_->config.n_layers; ++l) w.layers[static_cast<std::size_t>(l)] = layer(l);
    w.output_norm = output_norm();
    w.output = output();
    return w;
}

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

ModelWeights load_model(const std::filesystem::path& path) { return LazyModel(path).load_all(); }

std::filesystem::path default_model_path() { return data_dir() / "models" / "smollm2-135m-instruct-q4_1.gguf"; }
std::filesystem::path default_eval_text_path() { return data_dir() / "text" / "eval.txt"; }
std::filesystem::path default_calib_text_path() { return data_dir() / "text" / "calib.txt"; }

}  // namespace halo::model
