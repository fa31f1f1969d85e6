#include "halo/accel/workload.hpp"

#include <unordered_map>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::accel {

namespace {

void check_config(const model::ModelConfig& c) {
    auto pos = [&](int v, const char* what) {
        if (v <= 0) throw_bad_value("E7040", what, "model size must be positive", "> 0", std::to_string(v));
    };
    pos(c.n_layers, "n_layers");
    pos(c.d_model, "d_model");
    pos(c.n_heads, "n_heads");
    pos(c.n_kv_heads, "n_kv_heads");
    pos(c.head_dim, "head_dim");
    pos(c.d_ff, "d_ff");
    pos(c.vocab_size, "vocab_size");
    if (c.n_heads % c.n_kv_heads != 0)
        throw_bad_value("E7040", "n_kv_heads", "query heads must split evenly over KV heads",
                        fmt::format("a divisor of {}", c.n_heads), std::to_string(c.n_kv_heads));
    if (c.n_experts < 0 || (c.moe() && (c.n_experts_used < 1 || c.n_experts_used > c.n_experts)))
        throw_bad_value("E7046", "n_experts_used", "experts used per token must be 1..experts",
                        fmt::format("1..{}", c.n_experts), std::to_string(c.n_experts_used));
}

// (K, N) of a MoE expert linear's GEMM when `name` is "blk.<i>.ffn_{gate,up,down}_exps.<e>" of
// an expert the config has; none otherwise.
std::optional<std::pair<std::int64_t, std::int64_t>> expert_gemm_shape(const std::string& name, const model::ModelConfig& c) {
    int block = -1, expert = -1, used = 0;
    char kind[8] = {};
    if (!c.moe() || std::sscanf(name.c_str(), "blk.%d.ffn_%4[a-z]_exps.%d%n", &block, kind, &expert, &used) != 3 ||
        used != static_cast<int>(name.size()) || block < 0 || block >= c.n_layers || expert < 0 || expert >= c.n_experts)
        return std::nullopt;
    const std::string k = kind;
    if (k == "gate" || k == "up") return std::pair<std::int64_t, std::int64_t>{c.d_model, c.d_ff};
    if (k == "down") return std::pair<std::int64_t, std::int64_t>{c.d_ff, c.d_model};
    return std::nullopt;
}

void check_tile_grid(const TileLevels& tiles, std::int64_t K, std::int64_t N, const std::string& name, const std::string& file) {
    if (tiles.k_tiles * tiles.tile_rows < K || (tiles.k_tiles - 1) * tiles.tile_rows >= K ||
        tiles.n_tiles * tiles.tile_cols < N || (tiles.n_tiles - 1) * tiles.tile_cols >= N)
        throw_bad_input("E7044", file, 0, "tile grid of " + name + " does not fit its weight", fmt::format("K={} N={}", K, N),
                        fmt::format("{}x{} tiles of {}x{}", tiles.k_tiles, tiles.n_tiles, tiles.tile_rows, tiles.tile_cols));
}

}  // namespace

std::string linear_gemm_name(int layer, std::string_view linear, int expert) {
    return expert < 0 ? fmt::format("blk.{}.{}", layer, linear) : fmt::format("blk.{}.{}_exps.{}", layer, linear, expert);
}

std::string linear_gemm_name(int layer, model::LinearKind kind, int expert) {
    return linear_gemm_name(layer, model::linear_name(kind), expert);
}

void attach_weight_bits(std::vector<WorkItem>& work, const std::vector<std::pair<std::string, double>>& bits_by_gemm,
                        WeightStorage storage) {
    const std::unordered_map<std::string, double> bits(bits_by_gemm.begin(), bits_by_gemm.end());
    for (auto& it : work)
        if (const auto found = bits.find(it.gemm.name); found != bits.end()) {
            it.weight_bits = found->second;
            it.weight_indices = storage == WeightStorage::indices;
        }
}

std::vector<std::int64_t> even_expert_rows(std::int64_t tokens, int n_experts, int experts_used) {
    const std::int64_t pairs = tokens * experts_used, base = pairs / n_experts, extra = pairs % n_experts;
    std::vector<std::int64_t> rows(static_cast<std::size_t>(n_experts), base);
    for (std::int64_t e = 0; e < extra; ++e) ++rows[static_cast<std::size_t>(e)];
    return rows;
}

std::vector<WorkItem> transformer_workload(const model::ModelConfig& c, const Phase& ph) {
    check_config(c);
    const bool prefill = ph.kind == Phase::Kind::prefill;
    if (prefill && ph.seq_len <= 0) throw_bad_value("E7040", "seq", "sequence length must be positive", ">= 1", std::to_string(ph.seq_len));
    if (!prefill && (ph.batch <= 0 || ph.context <= 0))
        throw_bad_value("E7040", "batch/context", "decode batch and context must be positive", ">= 1",
                        fmt::format("batch {} context {}", ph.batch, ph.context));
    const std::int64_t tokens = prefill ? ph.seq_len : ph.batch;
    const std::int64_t d = c.d_model, hd = c.head_dim, q_dim = std::int64_t{c.n_heads} * hd,
                       kv_dim = std::int64_t{c.n_kv_heads} * hd, group = c.n_heads / c.n_kv_heads;
    std::vector<WorkItem> w;
    auto lin = [&](std::string name, std::int64_t K, std::int64_t N) {
        WorkItem it;
        it.gemm = {std::move(name), tokens, K, N};
        w.push_back(std::move(it));
    };
    auto act = [&](std::string name, std::int64_t M, std::int64_t K, std::int64_t N, std::int64_t count) {
        WorkItem it;
        it.gemm = {std::move(name), M, K, N};
        it.count = count;
        it.has_weights = false;
        w.push_back(std::move(it));
    };
    for (int b = 0; b < c.n_layers; ++b) {
        std::string p = fmt::format("blk.{}.", b);
        lin(p + "attn_q", d, q_dim);
        lin(p + "attn_k", d, kv_dim);
        lin(p + "attn_v", d, kv_dim);
        if (prefill) {  // per KV head: the group's L query rows against all L keys (causal mask not exploited)
            act(p + "attn_qk", ph.seq_len * group, hd, ph.seq_len, c.n_kv_heads);
            act(p + "attn_pv", ph.seq_len * group, ph.seq_len, hd, c.n_kv_heads);
        } else {  // per sequence and KV head: the group's query rows against C cached keys
            act(p + "attn_qk", group, hd, ph.context, ph.batch * c.n_kv_heads);
            act(p + "attn_pv", group, ph.context, hd, ph.batch * c.n_kv_heads);
        }
        lin(p + "attn_output", q_dim, d);
        if (!c.moe()) {
            lin(p + "ffn_gate", d, c.d_ff);
            lin(p + "ffn_up", d, c.d_ff);
            lin(p + "ffn_down", c.d_ff, d);
            continue;
        }
        lin(p + "ffn_gate_inp", d, c.n_experts);
        const auto rows = even_expert_rows(tokens, c.n_experts, c.n_experts_used);
        for (int e = 0; e < c.n_experts; ++e) {
            const std::int64_t m = rows[static_cast<std::size_t>(e)];
            if (m == 0) continue;
            for (const auto& [kind, K, N] : {std::tuple{"gate", d, std::int64_t{c.d_ff}}, std::tuple{"up", d, std::int64_t{c.d_ff}},
                                             std::tuple{"down", std::int64_t{c.d_ff}, d}}) {
                WorkItem it;
                it.gemm = {fmt::format("{}ffn_{}_exps.{}", p, kind, e), m, K, N};
                w.push_back(std::move(it));
            }
        }
    }
    lin("output", d, c.vocab_size);
    return w;
}

namespace {

struct BuiltinModelRow {
    const char* name;
    int layers, d, heads, kv, ff, vocab, ctx;
};
constexpr BuiltinModelRow kBuiltinModels[] = {
    {"llama-2-7b", 32, 4096, 32, 32, 11008, 32000, 4096},
    {"llama-2-13b", 40, 5120, 40, 40, 13824, 32000, 4096},
    {"smollm2-135m", 30, 576, 9, 3, 1536, 49152, 8192},
    {"tiny", 2, 64, 4, 2, 160, 256, 128},
};

}  // namespace

std::vector<std::string> builtin_model_names() {
    std::vector<std::string> names;
    for (const auto& r : kBuiltinModels) names.emplace_back(r.name);
    return names;
}

model::ModelConfig builtin_model(const std::string& name) {
    for (const auto& r : kBuiltinModels)
        if (name == r.name) {
            model::ModelConfig c;
            c.name = r.name;
            c.n_layers = r.layers;
            c.d_model = r.d;
            c.n_heads = r.heads;
            c.n_kv_heads = r.kv;
            c.head_dim = r.d / r.heads;
            c.d_ff = r.ff;
            c.vocab_size = r.vocab;
            c.context_length = r.ctx;
            return c;
        }
    std::string names;
    for (const auto& n : builtin_model_names()) names += (names.empty() ? "" : ", ") + n;
    throw_bad_value("E7042", "model", "unknown built-in model", names, name, "or give --config config.json");
}

ModelTileLevels parse_tile_levels(const nlohmann::json& j, const std::string& file) {
    // Every value is type- and range-checked by JsonView (E0020-E0022 naming the key path).
    const JsonView top(j, file);
    if (!j.is_object() || !top.has("format") || !j.at("format").is_string() || j.at("format") != "halo-tile-levels")
        throw_bad_input("E7043", file, 0, "not a tile-level file", "\"format\": \"halo-tile-levels\"",
                        j.is_object() ? (j.contains("format") ? describe_json(j.at("format")) : "(none)") : describe_json(j),
                        "see docs/formats.md \"Tile levels\"");
    constexpr std::int64_t kMaxDim = std::int64_t{1} << 30;
    ModelTileLevels m;
    const JsonView mo = top.at("model");
    m.model_name = mo.string_or("name", "");
    m.n_layers = mo.at("n_layers").int32(1, kMaxDim);
    m.d_model = mo.at("d_model").int32(1, kMaxDim);
    m.d_ff = mo.at("d_ff").int32(1, kMaxDim);
    m.vocab_size = mo.at("vocab_size").int32(1, kMaxDim);
    const JsonView tile = top.at("tile");
    const std::int64_t tr = tile.at(std::size_t{0}).integer(0, 16384), tc = tile.at(std::size_t{1}).integer(0, 16384);  // 0: no layers
    const std::string fmt_name = top.string_or("weight_format", "int8");
    const bool zero_point = top.boolean_or("zero_point", false);
    for (const auto& [name, l] : top.at("layers").members()) {
        TileLevels t;
        t.tile_rows = tr;
        t.tile_cols = tc;
        t.weight_format = fmt_name;
        t.zero_point = zero_point;
        t.k_tiles = l.at("k_tiles").integer(1, kMaxDim);
        t.n_tiles = l.at("n_tiles").integer(1, kMaxDim);
        for (const auto& v : l.at("levels").elements()) t.level.push_back(v.int32());  // against the DVFS table: E7021
        if (l.has("histograms"))
            for (const auto& h : l.at("histograms").elements()) {
                auto& row = t.code_histogram.emplace_back();
                for (const auto& count : h.elements()) row.push_back(static_cast<std::uint64_t>(count.integer(0)));
            }
        if (l.has("sparse_nnz")) m.sparse_nnz.emplace_back(name, l.at("sparse_nnz").integer(0));
        if (l.has("sparse_level")) m.sparse_level.emplace_back(name, l.at("sparse_level").int32());
        m.layers.emplace_back(name, std::move(t));
    }
    return m;
}

ModelTileLevels read_tile_levels(const std::filesystem::path& path) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw_bad_input("E7043", path.string(), 0, "tile-level file is not valid JSON", "JSON", e.what());
    }
    return parse_tile_levels(j, path.string());
}

namespace {

// The file's JSON, with or without the code histograms (tile_levels_text writes those itself).
nlohmann::json tile_levels_dom(const ModelTileLevels& m, bool histograms) {
    const TileLevels* first = m.layers.empty() ? nullptr : &m.layers.front().second;
    nlohmann::json layers = nlohmann::json::object();
    for (const auto& [name, t] : m.layers) {
        if (t.tile_rows != first->tile_rows || t.tile_cols != first->tile_cols || t.weight_format != first->weight_format ||
            t.zero_point != first->zero_point)
            throw_internal("E7045", fmt::format("tile levels of {} differ in tile shape, weight format or zero point from {}", name,
                                                m.layers.front().first));
        nlohmann::json l = {{"k_tiles", t.k_tiles}, {"n_tiles", t.n_tiles}, {"levels", t.level}};
        if (histograms && !t.code_histogram.empty()) l["histograms"] = t.code_histogram;
        layers[name] = std::move(l);
    }
    for (const auto& [name, nnz] : m.sparse_nnz)
        if (layers.contains(name)) layers[name]["sparse_nnz"] = nnz;
    for (const auto& [name, level] : m.sparse_level)
        if (layers.contains(name)) layers[name]["sparse_level"] = level;
    nlohmann::json j = {{"format", "halo-tile-levels"},
                        {"version", 1},
                        {"model", {{"name", m.model_name}, {"n_layers", m.n_layers}, {"d_model", m.d_model}, {"d_ff", m.d_ff},
                                   {"vocab_size", m.vocab_size}}},
                        {"tile", {first ? first->tile_rows : 0, first ? first->tile_cols : 0}},
                        {"weight_format", first ? first->weight_format : std::string("int8")},
                        {"layers", layers}};
    if (first && first->zero_point) j["zero_point"] = true;  // per-tile w = s * (c - z): the simulator charges z * sum(a)
    return j;
}

// [[c, c, ...], ...] as nlohmann's compact dump writes a vector of vectors of counts.
void append_histograms(std::string& out, const std::vector<std::vector<std::uint64_t>>& histograms) {
    out += '[';
    for (std::size_t t = 0; t < histograms.size(); ++t) {
        if (t) out += ',';
        out += '[';
        for (std::size_t i = 0; i < histograms[t].size(); ++i) {
            if (i) out += ',';
            const fmt::format_int digits(histograms[t][i]);
            out.append(digits.data(), digits.size());
        }
        out += ']';
    }
    out += ']';
}

}  // namespace

nlohmann::json tile_levels_json(const ModelTileLevels& m) { return tile_levels_dom(m, true); }

std::string tile_levels_text(const ModelTileLevels& m, const std::string& file) {
    // Everything but the histograms goes through the (small) DOM, in its key order; a layer's
    // "histograms" sorts before its other keys, so it is written first, straight from the counts.
    const nlohmann::json j = tile_levels_dom(m, false);
    (void)dump_json(j, -1, file);  // E0023 on a name that is not UTF-8, as the DOM's writer says it
    std::map<std::string, const TileLevels*> by_name;  // a repeated name: the last one, as in the DOM
    std::size_t counts = 0;
    for (const auto& [name, t] : m.layers) {
        by_name[name] = &t;
        counts += t.code_histogram.size() * 257;
    }
    std::string out;
    out.reserve(counts * 2 + (std::size_t{1} << 20));
    out += '{';
    bool first_key = true;
    for (const auto& [key, value] : j.items()) {
        out += first_key ? "" : ",";
        first_key = false;
        out += nlohmann::json(key).dump() + ":";
        if (key != "layers") {
            out += value.dump();
            continue;
        }
        out += '{';
        bool first_layer = true;
        for (const auto& [name, layer] : value.items()) {
            out += first_layer ? "" : ",";
            first_layer = false;
            out += nlohmann::json(name).dump() + ":{";
            const TileLevels& t = *by_name.at(name);
            bool first_field = true;
            if (!t.code_histogram.empty()) {
                out += "\"histograms\":";
                append_histograms(out, t.code_histogram);
                first_field = false;
            }
            for (const auto& [field, v] : layer.items()) {
                out += first_field ? "" : ",";
                first_field = false;
                out += nlohmann::json(field).dump() + ":" + v.dump();
            }
            out += '}';
        }
        out += '}';
    }
    out += "}\n";
    return out;
}

void write_tile_levels(const std::filesystem::path& path, const ModelTileLevels& levels) {
    write_file_atomic(path, tile_levels_text(levels, path.string()));
}

void attach_tile_levels(std::vector<WorkItem>& work, const model::ModelConfig& c, const ModelTileLevels& lv,
                        const std::string& file) {
    if (lv.n_layers != c.n_layers || lv.d_model != c.d_model || lv.d_ff != c.d_ff || lv.vocab_size != c.vocab_size)
        throw_bad_input("E7044", file, 0, "tile levels are for a different model",
                        fmt::format("layers {} d_model {} d_ff {} vocab {}", c.n_layers, c.d_model, c.d_ff, c.vocab_size),
                        fmt::format("layers {} d_model {} d_ff {} vocab {} ({})", lv.n_layers, lv.d_model, lv.d_ff,
                                    lv.vocab_size, lv.model_name),
                        "quantize this model, or simulate the model the levels came from");
    for (const auto& [name, tiles] : lv.layers) {
        WorkItem* hit = nullptr;
        for (auto& it : work)
            if (it.has_weights && it.gemm.name == name) hit = &it;
        if (!hit) {
            // An expert of the model that no token reaches in this phase (even routing gives it no
            // row): it has no GEMM, so its tiles cost nothing; its grid must still fit its weight.
            if (const auto kn = expert_gemm_shape(name, c)) {
                check_tile_grid(tiles, kn->first, kn->second, name, file);
                continue;
            }
            throw_bad_input("E7044", file, 0, "tile levels name a layer the model does not have",
                            "blk.<i>.attn_q ... output (blk.<i>.ffn_gate_exps.<e> ... for a MoE model)", name);
        }
        check_tile_grid(tiles, hit->gemm.K, hit->gemm.N, name, file);
        hit->tiles = tiles;
    }
    for (const auto& [name, nnz] : lv.sparse_nnz)
        for (auto& it : work)
            if (it.gemm.name == name) it.sparse.nnz = nnz;
    for (const auto& [name, level] : lv.sparse_level)  // range-checked against the DVFS table by the simulator (E7021)
        for (auto& it : work)
            if (it.gemm.name == name) it.sparse.level = level;
}

}  // namespace halo::accel
