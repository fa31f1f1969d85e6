#include "halo/model/model_loader.hpp"
#include "halo/model/input_checks.hpp"

#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "halo/model/architecture.hpp"
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
// Vectors (norms, biases) are present only when the config's flag asks for them.
enum class VectorSlot : std::uint8_t { attn_norm, ffn_norm, q_norm, k_norm, post_attn_norm, post_ffn_norm, bias_q, bias_k, bias_v };
struct LayerTensorName {
    std::optional<LinearKind> linear;  // none for the vectors
    VectorSlot slot;
    const char* gguf;
    const char* hf;
};
// clang-format off
constexpr LayerTensorName kLayerNames[] = {
    {LinearKind::attn_q,      VectorSlot::attn_norm,      "attn_q.weight",              "self_attn.q_proj.weight"},
    {LinearKind::attn_k,      VectorSlot::attn_norm,      "attn_k.weight",              "self_attn.k_proj.weight"},
    {LinearKind::attn_v,      VectorSlot::attn_norm,      "attn_v.weight",              "self_attn.v_proj.weight"},
    {LinearKind::attn_output, VectorSlot::attn_norm,      "attn_output.weight",         "self_attn.o_proj.weight"},
    {LinearKind::ffn_gate,    VectorSlot::attn_norm,      "ffn_gate.weight",            "mlp.gate_proj.weight"},
    {LinearKind::ffn_up,      VectorSlot::attn_norm,      "ffn_up.weight",              "mlp.up_proj.weight"},
    {LinearKind::ffn_down,    VectorSlot::attn_norm,      "ffn_down.weight",            "mlp.down_proj.weight"},
    {std::nullopt,            VectorSlot::attn_norm,      "attn_norm.weight",           "input_layernorm.weight"},
    // HF calls the pre-MLP norm post_attention_layernorm in Llama-style blocks and
    // pre_feedforward_layernorm in sandwich blocks (where post_attention_layernorm is the
    // attention's post-norm); vector_hf_name() picks.
    {std::nullopt,            VectorSlot::ffn_norm,       "ffn_norm.weight",            "post_attention_layernorm.weight"},
    {std::nullopt,            VectorSlot::q_norm,         "attn_q_norm.weight",         "self_attn.q_norm.weight"},
    {std::nullopt,            VectorSlot::k_norm,         "attn_k_norm.weight",         "self_attn.k_norm.weight"},
    {std::nullopt,            VectorSlot::post_attn_norm, "post_attention_norm.weight", "post_attention_layernorm.weight"},
    {std::nullopt,            VectorSlot::post_ffn_norm,  "post_ffw_norm.weight",       "post_feedforward_layernorm.weight"},
    {std::nullopt,            VectorSlot::bias_q,         "attn_q.bias",                "self_attn.q_proj.bias"},
    {std::nullopt,            VectorSlot::bias_k,         "attn_k.bias",                "self_attn.k_proj.bias"},
    {std::nullopt,            VectorSlot::bias_v,         "attn_v.bias",                "self_attn.v_proj.bias"},
};
// clang-format on

// A MoE block's router and experts (when the config has experts; the FFN's three dense rows
// above are then absent). GGUF holds each kind as one 3-D tensor [experts x out x in]
// (ne = {in, out, experts}); Hugging Face's Mixtral one matrix per expert, w1 = gate, w3 = up,
// w2 = down (modeling_mixtral.py).
constexpr const char* kRouterGguf = "ffn_gate_inp.weight";
constexpr const char* kRouterHf = "block_sparse_moe.gate.weight";
constexpr const char* kExpertsHfPrefix = "block_sparse_moe.experts.";
struct ExpertTensorName {
    LinearKind kind;
    const char* gguf;
    const char* hf;
};
constexpr ExpertTensorName kExpertNames[] = {
    {LinearKind::ffn_gate, "ffn_gate_exps.weight", "w1.weight"},
    {LinearKind::ffn_up, "ffn_up_exps.weight", "w3.weight"},
    {LinearKind::ffn_down, "ffn_down_exps.weight", "w2.weight"},
};

bool is_norm(VectorSlot s) { return s != VectorSlot::bias_q && s != VectorSlot::bias_k && s != VectorSlot::bias_v; }

const char* vector_hf_name(const LayerTensorName& row, const ModelConfig& c) {
    if (row.slot == VectorSlot::ffn_norm && c.post_norms) return "pre_feedforward_layernorm.weight";
    return row.hf;
}

// Whether the config has the vector, its length and where it goes.
bool wants(VectorSlot s, const ModelConfig& c) {
    switch (s) {
        case VectorSlot::attn_norm: case VectorSlot::ffn_norm: return true;
        case VectorSlot::q_norm: case VectorSlot::k_norm: return c.qk_norm;
        case VectorSlot::post_attn_norm: case VectorSlot::post_ffn_norm: return c.post_norms;
        case VectorSlot::bias_q: case VectorSlot::bias_k: case VectorSlot::bias_v: return c.qkv_bias;
    }
    return false;
}
std::int64_t vector_len(VectorSlot s, const ModelConfig& c) {
    switch (s) {
        case VectorSlot::q_norm: case VectorSlot::k_norm: return c.head_dim;
        case VectorSlot::bias_q: return std::int64_t{c.n_heads} * c.head_dim;
        case VectorSlot::bias_k: case VectorSlot::bias_v: return std::int64_t{c.n_kv_heads} * c.head_dim;
        default: return c.d_model;
    }
}
std::vector<float>& vector_ref(VectorSlot s, LayerWeights& l) {
    switch (s) {
        case VectorSlot::attn_norm: return l.attn_norm;
        case VectorSlot::ffn_norm: return l.ffn_norm;
        case VectorSlot::q_norm: return l.q_norm;
        case VectorSlot::k_norm: return l.k_norm;
        case VectorSlot::post_attn_norm: return l.post_attn_norm;
        case VectorSlot::post_ffn_norm: return l.post_ffn_norm;
        case VectorSlot::bias_q: return l.bias_q;
        case VectorSlot::bias_k: return l.bias_k;
        case VectorSlot::bias_v: return l.bias_v;
    }
    return l.attn_norm;
}

struct Naming {
    std::string embedding, output_norm, output;
    std::string layer_prefix;  // "blk." or "model.layers."
    bool hf;
    float norm_offset;  // added to every norm weight (Gemma's HF checkpoints store w of (1 + w))
};

void add_offset(std::vector<float>& v, float offset) {
    if (offset != 0.0f)
        for (float& x : v) x += offset;
}

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

std::string layer_tensor_name(const Naming& n, const ModelConfig& c, int l, const LayerTensorName& row) {
    const char* suffix = row.linear ? (n.hf ? row.hf : row.gguf) : (n.hf ? vector_hf_name(row, c) : row.gguf);
    return n.layer_prefix + std::to_string(l) + "." + suffix;
}

// Whether the block has this row's tensor: a MoE block has no dense FFN linears.
bool has_dense(const ModelConfig& c, const LayerTensorName& row) { return !(row.linear && c.moe() && is_expert_kind(*row.linear)); }

std::string router_name(const Naming& n, int l) { return n.layer_prefix + std::to_string(l) + "." + (n.hf ? kRouterHf : kRouterGguf); }
// GGUF: the kind's 3-D tensor; HF: expert e's matrix.
std::string expert_name(const Naming& n, int l, const ExpertTensorName& row, int e) {
    const std::string p = n.layer_prefix + std::to_string(l) + ".";
    return n.hf ? p + kExpertsHfPrefix + std::to_string(e) + "." + row.hf : p + row.gguf;
}

// Presence and shape of a MoE block's router and experts.
void check_experts(const ModelConfig& c, const Assembler& a, const Naming& n, int l) {
    a.check(router_name(n, l), {c.n_experts, c.d_model});
    for (const auto& row : kExpertNames) {
        const auto [rows, cols] = linear_shape(c, row.kind);
        if (!n.hf) {
            a.check(expert_name(n, l, row, 0), {c.n_experts, rows, cols});
            continue;
        }
        for (int e = 0; e < c.n_experts; ++e) a.check(expert_name(n, l, row, e), {rows, cols});
    }
}

void assemble_experts(const ModelConfig& c, const Assembler& a, const Naming& n, int l, LayerWeights& layer) {
    layer.router = a.matrix(router_name(n, l), c.n_experts, c.d_model);
    layer.experts.resize(static_cast<std::size_t>(c.n_experts));
    for (const auto& row : kExpertNames) {
        const auto [rows, cols] = linear_shape(c, row.kind);
        if (n.hf) {
            for (int e = 0; e < c.n_experts; ++e) layer.experts[static_cast<std::size_t>(e)][row.kind] = a.matrix(expert_name(n, l, row, e), rows, cols);
            continue;
        }
        const std::vector<float> all = a.load(expert_name(n, l, row, 0), {c.n_experts, rows, cols});
        for (int e = 0; e < c.n_experts; ++e) {
            Matrix m(rows, cols);
            std::copy_n(all.begin() + static_cast<std::ptrdiff_t>(e * rows * cols), rows * cols, m.data.begin());
            layer.experts[static_cast<std::size_t>(e)][row.kind] = std::move(m);
        }
    }
}

// One decoder block from the architecture row's tensors (vectors only where the config asks).
LayerWeights assemble_layer(const ModelConfig& c, const Assembler& a, const Naming& n, int l, bool unpermute_qk) {
    LayerWeights layer;
    if (c.moe()) assemble_experts(c, a, n, l, layer);
    for (const auto& row : kLayerNames) {
        const std::string name = layer_tensor_name(n, c, l, row);
        if (!has_dense(c, row)) continue;
        if (!row.linear) {
            if (!wants(row.slot, c)) continue;
            auto& v = vector_ref(row.slot, layer);
            v = a.load(name, {vector_len(row.slot, c)});
            if (is_norm(row.slot)) add_offset(v, n.norm_offset);
            continue;
        }
        const auto [rows, cols] = linear_shape(c, *row.linear);
        layer[*row.linear] = a.matrix(name, rows, cols);
    }
    if (unpermute_qk) {
        unpermute_qk_rows(layer[LinearKind::attn_q], c.n_heads);
        unpermute_qk_rows(layer[LinearKind::attn_k], c.n_kv_heads);
    }
    return layer;
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
    if (c.n_experts < 0 || (c.moe() && (c.n_experts_used < 1 || c.n_experts_used > c.n_experts)))
        bad("experts used per token must be 1..experts", fmt::format("{} of {} experts", c.n_experts_used, c.n_experts));
    check_config_numbers(c, file);  // input_checks.hpp: eps, RoPE base, ... finite and in range
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

    std::string layer_tensor(int l, const LayerTensorName& row) const { return layer_tensor_name(naming, config, l, row); }
    // Every tensor present with the config's shape; decides tied embeddings as load_model did.
    void check_all() {
        const Assembler& a = *assembler;
        const std::int64_t d = config.d_model, v = config.vocab_size;
        a.check(naming.embedding, {v, d});
        for (int l = 0; l < config.n_layers; ++l) {
            if (config.moe()) check_experts(config, a, naming, l);
            for (const auto& row : kLayerNames) {
                if (!has_dense(config, row)) continue;
                if (!row.linear) {
                    if (wants(row.slot, config)) a.check(layer_tensor(l, row), {vector_len(row.slot, config)});
                    continue;
                }
                const auto [rows, cols] = linear_shape(config, *row.linear);
                a.check(layer_tensor(l, row), {rows, cols});
            }
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
        m.naming = {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight", "model.layers.", true,
                    architecture_row(m.config.architecture).hf_norm_offset};
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
        // GGUF norm weights are stored as the converter wrote them (Gemma's +1 already added).
        m.naming = {"token_embd.weight", "output_norm.weight", "output.weight", "blk.", false, 0.0f};
        m.unpermute_qk = architecture_row(m.config.architecture).gguf_qk_permuted;
        const GgufTensorInfo* probe = file->find_tensor("blk.0.attn_q.weight");
        m.source_format = "gguf:" + std::string(probe ? probe->type->name : "?");
    } else {
        // The set-up hint only where the missing file is the default model; for a path the user
        // gave, it misled (the path is wrong, not the installation).
        std::error_code ec;
        const bool is_default = std::filesystem::weakly_canonical(path, ec) ==
                                std::filesystem::weakly_canonical(default_model_path(), ec);
        throw_bad_value("E5304", path.string(), "model path is neither a GGUF file nor a checkpoint directory",
                        "a .gguf file or a directory with config.json and *.safetensors",
                        std::filesystem::exists(path) ? "neither a regular file nor a directory" : "no such file or directory",
                        is_default ? "run `scripts/setup.sh data` to install the default model" : "");
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
        throw_internal("E5309", fmt::format("LazyModel::layer({}) outside 0..{}", l, c.n_layers - 1));
    return assemble_layer(c, *m.assembler, m.naming, l, m.unpermute_qk);
}

std::vector<float> LazyModel::output_norm() const {
    std::vector<float> v = impl_->assembler->load(impl_->naming.output_norm, {impl_->config.d_model});
    add_offset(v, impl_->naming.norm_offset);
    return v;
}

Matrix LazyModel::output() const {
    if (impl_->config.tied_embeddings) return {};
    return impl_->assembler->matrix(impl_->naming.output, impl_->config.vocab_size, impl_->config.d_model);
}

std::int64_t LazyModel::layer_bytes() const {
    std::int64_t n = 2 * impl_->config.d_model;
    const ModelConfig& c = impl_->config;
    for (auto k : kLinearKinds) {
        const auto [rows, cols] = linear_shape(c, k);
        n += rows * cols * (c.moe() && is_expert_kind(k) ? c.n_experts : 1);
    }
    if (c.moe()) n += std::int64_t{c.n_experts} * c.d_model;  // the router
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

namespace {

// A GGUF integer field that becomes an int of the config: a value beyond int (a header of
// 2^32 + 2 layers) must be refused, not wrapped by the cast into a plausible small number.
// Semantic ranges (at least one head, ...) are checked later with the config (E5340).
int config_int(const GgufFile& f, const std::string& key, std::int64_t v) {
    if (v < 0 || v > std::numeric_limits<int>::max())
        throw_bad_input_at("E5344", f.path().string(), key, "integer field out of range", fmt::format("0..{}", std::numeric_limits<int>::max()),
                           fmt::format("{}", v));
    return static_cast<int>(v);
}

}  // namespace

ModelConfig config_from_gguf(const GgufFile& f) {
    ModelConfig c;
    const std::string file = f.path().string();
    const std::string arch = f.require_string("general.architecture");
    const ArchitectureRow* row = find_architecture_gguf(arch);
    if (row == nullptr) {
        std::string known;
        for (const auto& r : architecture_table())
            if (!r.gguf_name.empty()) known += (known.empty() ? "" : ", ") + std::string(r.gguf_name);
        throw_bad_input_at("E5300", file, "general.architecture", "unsupported model architecture", known, arch,
                           "halo's forward pass implements the families of model/architecture.hpp");
    }
    const std::string a = arch + ".";
    const std::int64_t experts = f.get_int(a + "expert_count").value_or(0);
    if (experts > 0 || row->moe) {
        const ArchitectureRow* moe_row = find_architecture_gguf_experts(arch);
        if (moe_row == nullptr)
            throw_bad_input_at("E5320", file, a + "expert_count", "this architecture has no mixture-of-experts row",
                               "no experts (0)", std::to_string(experts), "halo's MoE rows: mixtral (llama files with experts)");
        row = moe_row;
    }
    if (row->moe_shared_expert) {
        throw_bad_input_at("E5308", file, "general.architecture", "mixture-of-experts with a shared expert is not implemented",
                           "a dense architecture or mixtral", arch, "the shared expert and its gate are not in halo's forward pass");
    }
    apply_architecture(*row, c);
    if (row->moe) {
        constexpr std::int64_t kMaxExperts = 1 << 16;  // bounds what is sized from it before the tensors are checked
        if (experts <= 0 || experts > kMaxExperts)
            throw_bad_input_at("E5321", file, a + "expert_count", "mixture-of-experts expert count missing or out of range",
                               fmt::format("1..{}", kMaxExperts), std::to_string(experts));
        c.n_experts = static_cast<int>(experts);
        const std::int64_t used = f.require_int(a + "expert_used_count");
        if (used < 1 || used > experts)
            throw_bad_input_at("E5322", file, a + "expert_used_count", "experts used per token out of range",
                               fmt::format("1..{} (the expert count)", experts), std::to_string(used));
        c.n_experts_used = static_cast<int>(used);
    }
    c.name = f.get_string("general.name").value_or(f.path().stem().string());
    c.n_layers = config_int(f, a + "block_count", f.require_int(a + "block_count"));
    c.d_model = config_int(f, a + "embedding_length", f.require_int(a + "embedding_length"));
    c.d_ff = config_int(f, a + "feed_forward_length", f.require_int(a + "feed_forward_length"));
    c.n_heads = config_int(f, a + "attention.head_count", f.require_int(a + "attention.head_count"));
    c.n_kv_heads = config_int(f, a + "attention.head_count_kv", f.get_int(a + "attention.head_count_kv").value_or(c.n_heads));
    c.head_dim = config_int(f, a + "attention.key_length",
                            f.get_int(a + "attention.key_length").value_or(c.n_heads ? c.d_model / c.n_heads : 0));
    if (auto v = f.get_int(a + "attention.value_length"); v && *v != c.head_dim) {
        throw_bad_input_at("E5310", file, a + "attention.value_length", "value head size differs from key head size",
                           std::to_string(c.head_dim), std::to_string(*v), "halo's attention uses one head size");
    }
    c.context_length = config_int(f, a + "context_length", f.get_int(a + "context_length").value_or(2048));
    c.rms_norm_eps = static_cast<float>(f.get_float(a + "attention.layer_norm_rms_epsilon").value_or(1e-5));
    c.rope_theta = static_cast<float>(f.get_float(a + "rope.freq_base").value_or(10000.0));
    if (auto v = f.get_int(a + "vocab_size")) {
        c.vocab_size = config_int(f, a + "vocab_size", *v);
    } else if (const GgufValue* tokens = f.find("tokenizer.ggml.tokens")) {
        c.vocab_size = config_int(f, "tokenizer.ggml.tokens", static_cast<std::int64_t>(tokens->size()));
    } else if (const GgufTensorInfo* e = f.find_tensor("token_embd.weight"); e && e->ne.size() == 2) {
        c.vocab_size = config_int(f, "token_embd.weight", e->ne[1]);
    }
    if (auto kind = f.get_string(a + "rope.scaling.type")) {
        c.rope_scaling = parse_rope_scaling(*kind, file, a + "rope.scaling.type");
        c.rope_scaling_factor = static_cast<float>(f.get_float(a + "rope.scaling.factor").value_or(1.0));
    }
    if (auto w = f.get_int(a + "attention.sliding_window")) c.sliding_window = config_int(f, a + "attention.sliding_window", *w);
    if (auto p = f.get_int(a + "attention.sliding_window_pattern"))
        c.swa_pattern = config_int(f, a + "attention.sliding_window_pattern", *p);
    if (auto t = f.get_float(a + "rope.freq_base_swa")) c.rope_theta_local = static_cast<float>(*t);
    if (auto cap = f.get_float(a + "final_logit_softcapping")) c.final_logit_softcap = static_cast<float>(*cap);
    if (f.find(a + "attn_logit_softcapping") != nullptr) {
        throw_bad_input_at("E5311", file, a + "attn_logit_softcapping", "attention-logit soft-capping is not implemented",
                           "no such key", "present");
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

ModelWeights load_model(const std::filesystem::path& path) { return LazyModel(path).load_all(); }

namespace {
constexpr InstalledModel kInstalledModels[] = {
    {"smollm2-135m", "smollm2-135m-instruct-q4_1.gguf"},
    {"gemma3-270m", "gemma3-270m-q4_k_m.gguf"},
};
}  // namespace

std::span<const InstalledModel> installed_models() { return kInstalledModels; }

std::filesystem::path default_model_path() { return data_dir() / "models" / std::string(kInstalledModels[0].file); }

std::filesystem::path resolve_model_path(const std::string& name_or_path) {
    if (name_or_path.empty()) return default_model_path();
    for (const auto& m : kInstalledModels)
        if (m.name == name_or_path) return data_dir() / "models" / std::string(m.file);
    return name_or_path;
}
std::filesystem::path default_eval_text_path() { return data_dir() / "text" / "eval.txt"; }
std::filesystem::path default_calib_text_path() { return data_dir() / "text" / "calib.txt"; }

}  // namespace halo::model
