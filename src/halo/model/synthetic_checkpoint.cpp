#include "halo/model/synthetic_checkpoint.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <future>
#include <ostream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/model/float_convert.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

namespace halo::model {
namespace {

using nlohmann::json;

// clang-format off
// Numbers from each model's published config.json on the Hugging Face hub.
constexpr std::array<SyntheticShape, 8> kShapes = {{
    {"tinyllama-1.1b", "llama", 22, 2048, 32, 4, 5632, 32000, 2048, 10000.0, 1e-5, false, false,
     "TinyLlama/TinyLlama-1.1B-Chat-v1.0 config.json"},
    {"llama2-7b", "llama", 32, 4096, 32, 32, 11008, 32000, 4096, 10000.0, 1e-5, false, false,
     "meta-llama/Llama-2-7b-hf config.json"},
    {"llama3-8b", "llama", 32, 4096, 32, 8, 14336, 128256, 8192, 500000.0, 1e-5, false, false,
     "meta-llama/Meta-Llama-3-8B config.json"},
    {"qwen2.5-7b", "qwen2", 28, 3584, 28, 4, 18944, 152064, 32768, 1000000.0, 1e-6, true, false,
     "Qwen/Qwen2.5-7B config.json"},
    {"mixtral-8x7b", "mixtral", 32, 4096, 32, 8, 14336, 32000, 32768, 1000000.0, 1e-5, false, false,
     "mistralai/Mixtral-8x7B-v0.1 config.json", 8, 2},
    // The default model's shape (data/models/smollm2-135m-*.gguf): for GPU comparisons where the
    // 98 MB GGUF cannot travel.
    {"smollm2-135m", "llama", 30, 576, 9, 3, 1536, 49152, 8192, 100000.0, 1e-5, false, true,
     "HuggingFaceTB/SmolLM2-135M config.json"},
    {"test-tiny", "llama", 2, 64, 4, 2, 160, 320, 256, 10000.0, 1e-5, false, false,
     "halo's unit-test shape (GQA, vocabulary above the tokenizer's 258 ids)"},
    {"test-tiny-moe", "mixtral", 2, 64, 4, 2, 160, 320, 256, 10000.0, 1e-5, false, false,
     "halo's MoE unit-test shape (test-tiny with Mixtral's 8 experts, top-2)", 8, 2},
}};
// clang-format on

constexpr int kOutlierChannels = 4;        // per linear: input channels scaled by kOutlierScale
constexpr float kOutlierScale = 8.0f;
constexpr int kNormOutlierDims = 4;        // hidden dims with large norm weights (all blocks)
constexpr std::int64_t kChunkElements = 1 << 23;  // 16 MiB of FP16 per write

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

std::uint64_t name_hash(std::string_view s) {  // FNV-1a
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

enum class Kind : std::uint8_t { linear, norm, embedding, bias };

struct TensorPlan {
    std::string name;
    std::int64_t rows = 1, cols = 1;  // a vector is 1 x n, written with shape [n]
    bool vector = false;
    Kind kind = Kind::linear;
    int shard = 0;
    std::uint64_t begin = 0;  // offset within its shard's data section
    std::int64_t elements() const { return rows * cols; }
};

std::vector<TensorPlan> plan_tensors(const SyntheticShape& s) {
    std::vector<TensorPlan> t;
    const std::int64_t D = s.d_model, hd = s.d_model / s.n_heads, q = s.n_heads * hd, kv = s.n_kv_heads * hd, F = s.d_ff;
    t.push_back({"model.embed_tokens.weight", s.vocab_size, D, false, Kind::embedding});
    for (int l = 0; l < s.n_layers; ++l) {
        const std::string p = fmt::format("model.layers.{}.", l);
        t.push_back({p + "input_layernorm.weight", 1, D, true, Kind::norm});
        t.push_back({p + "self_attn.q_proj.weight", q, D, false, Kind::linear});
        t.push_back({p + "self_attn.k_proj.weight", kv, D, false, Kind::linear});
        t.push_back({p + "self_attn.v_proj.weight", kv, D, false, Kind::linear});
        if (s.qkv_bias) {
            t.push_back({p + "self_attn.q_proj.bias", 1, q, true, Kind::bias});
            t.push_back({p + "self_attn.k_proj.bias", 1, kv, true, Kind::bias});
            t.push_back({p + "self_attn.v_proj.bias", 1, kv, true, Kind::bias});
        }
        t.push_back({p + "self_attn.o_proj.weight", D, q, false, Kind::linear});
        t.push_back({p + "post_attention_layernorm.weight", 1, D, true, Kind::norm});
        if (s.n_experts > 0) {  // Mixtral: router, then w1 (gate), w2 (down), w3 (up) per expert
            t.push_back({p + "block_sparse_moe.gate.weight", s.n_experts, D, false, Kind::linear});
            for (int e = 0; e < s.n_experts; ++e) {
                const std::string q = fmt::format("{}block_sparse_moe.experts.{}.", p, e);
                t.push_back({q + "w1.weight", F, D, false, Kind::linear});
                t.push_back({q + "w2.weight", D, F, false, Kind::linear});
                t.push_back({q + "w3.weight", F, D, false, Kind::linear});
            }
            continue;
        }
        t.push_back({p + "mlp.gate_proj.weight", F, D, false, Kind::linear});
        t.push_back({p + "mlp.up_proj.weight", F, D, false, Kind::linear});
        t.push_back({p + "mlp.down_proj.weight", D, F, false, Kind::linear});
    }
    t.push_back({"model.norm.weight", 1, D, true, Kind::norm});
    if (!s.tied_embeddings) t.push_back({"lm_head.weight", s.vocab_size, D, false, Kind::embedding});
    return t;
}

int dtype_bytes(const std::string& dtype) { return dtype == "f32" ? 4 : 2; }
std::string dtype_tag(const std::string& dtype) { return dtype == "f32" ? "F32" : dtype == "f16" ? "F16" : "BF16"; }
std::string torch_dtype(const std::string& dtype) {
    return dtype == "f32" ? "float32" : dtype == "f16" ? "float16" : "bfloat16";
}

enum class Encoding { f32, f16, bf16 };
Encoding encoding_of(const std::string& dtype) {
    return dtype == "f32" ? Encoding::f32 : dtype == "f16" ? Encoding::f16 : Encoding::bf16;
}
std::int64_t bytes_of(Encoding e) { return e == Encoding::f32 ? 4 : 2; }

// Little-endian element bytes, as safetensors stores them.
void encode(const float* in, std::int64_t n, Encoding enc, char* out) {
    for (std::int64_t k = 0; k < n; ++k) {
        if (enc == Encoding::f32) {
            std::memcpy(out + 4 * k, in + k, 4);
        } else {
            const std::uint16_t h = enc == Encoding::f16 ? fp32_to_fp16(in[k]) : fp32_to_bf16(in[k]);
            std::memcpy(out + 2 * k, &h, 2);
        }
    }
}

// Tensors' values, by element index.
struct Generator {
    std::uint64_t seed;
    std::vector<std::int64_t> norm_outliers;

    // Elements [first, first + n) of tensor `t`, encoded as `enc`, into out (n * bytes_of(enc)
    // bytes). Pieces of 64 Ki elements are generated and encoded on the workers: each value
    // depends on its index only, so any split gives the same bytes.
    void fill_encoded(const TensorPlan& t, std::int64_t first, std::int64_t n, Encoding enc, char* out, unsigned threads) const {
        const std::uint64_t ts = splitmix64(seed) ^ name_hash(t.name);
        std::vector<std::int64_t> outlier_cols;
        if (t.kind == Kind::linear)
            for (int j = 0; j < kOutlierChannels; ++j)
                outlier_cols.push_back(static_cast<std::int64_t>(splitmix64(ts ^ (0x5a5aULL + j)) % static_cast<std::uint64_t>(t.cols)));
        constexpr std::int64_t kPiece = 65536;
        const std::size_t pieces = static_cast<std::size_t>((n + kPiece - 1) / kPiece);
        parallel_for(pieces, threads, [&](std::size_t piece, unsigned) {
            const std::int64_t lo = static_cast<std::int64_t>(piece) * kPiece, hi = std::min<std::int64_t>(n, lo + kPiece);
            std::vector<float> values(static_cast<std::size_t>(hi - lo));
            std::int64_t row = -1;
            float row_scale = 1.0f;
            for (std::int64_t k = lo; k < hi; ++k) {
                const std::int64_t i = first + k;
                const float z = synthetic_value(ts, static_cast<std::uint64_t>(i));
                float& v = values[static_cast<std::size_t>(k - lo)];
                switch (t.kind) {
                    case Kind::linear: {
                        const std::int64_t r = i / t.cols, c = i % t.cols;
                        if (r != row) {
                            row = r;
                            row_scale = std::exp(0.25f * synthetic_value(ts ^ 0xabcdefULL, static_cast<std::uint64_t>(r)));
                        }
                        v = z * 0.02f * row_scale;
                        for (auto oc : outlier_cols)
                            if (oc == c) v *= kOutlierScale;
                        break;
                    }
                    case Kind::norm: {
                        bool big = false;
                        for (auto d : norm_outliers) big = big || d == i;
                        v = big ? 4.0f + 0.5f * z : 1.0f + 0.1f * z;
                        break;
                    }
                    case Kind::embedding:
                    case Kind::bias: v = 0.02f * z; break;
                }
            }
            encode(values.data(), hi - lo, enc, out + lo * bytes_of(enc));
        });
    }
};

std::string shard_name(int i, int n) {
    return n == 1 ? "model.safetensors" : fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, n);
}

// GPT-2's byte -> printable code point map, as UTF-8 strings (what ByteLevel pre-tokenizers use).
std::array<std::string, 256> byte_alphabet() {
    std::array<std::string, 256> out;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
        const int cp = printable ? b : next++;
        std::string s;
        if (cp < 0x80) s.push_back(static_cast<char>(cp));
        else {
            s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        }
        out[static_cast<std::size_t>(b)] = s;
    }
    return out;
}

json tokenizer_json() {
    json vocab = json::object();
    const auto alphabet = byte_alphabet();
    for (int b = 0; b < 256; ++b) vocab[alphabet[static_cast<std::size_t>(b)]] = b;
    return {{"version", "1.0"},
            {"added_tokens",
             {{{"id", 256}, {"content", "<s>"}, {"special", true}}, {{"id", 257}, {"content", "</s>"}, {"special", true}}}},
            {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
            {"decoder", {{"type", "ByteLevel"}}},
            {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}}};
}

json config_json(const SyntheticShape& s, const SyntheticOptions& o) {
    json j = {{"architectures", {s.model_type == "qwen2" ? "Qwen2ForCausalLM" : s.n_experts > 0 ? "MixtralForCausalLM" : "LlamaForCausalLM"}},
            {"model_type", s.model_type},
            {"hidden_size", s.d_model},
            {"intermediate_size", s.d_ff},
            {"num_attention_heads", s.n_heads},
            {"num_key_value_heads", s.n_kv_heads},
            {"num_hidden_layers", s.n_layers},
            {"vocab_size", s.vocab_size},
            {"max_position_embeddings", s.context_length},
            {"rms_norm_eps", s.rms_norm_eps},
            {"rope_theta", s.rope_theta},
            {"tie_word_embeddings", s.tied_embeddings},
            {"hidden_act", "silu"},
            {"bos_token_id", 256},
            {"eos_token_id", 257},
            {"torch_dtype", torch_dtype(o.dtype)},
            {"halo_synthetic", {{"shape", s.name}, {"seed", o.seed}, {"source", s.source}}}};
    if (s.n_experts > 0) {
        j["num_local_experts"] = s.n_experts;
        j["num_experts_per_tok"] = s.n_experts_used;
    }
    return j;
}

}  // namespace

std::span<const SyntheticShape> synthetic_shapes() { return kShapes; }

const SyntheticShape& synthetic_shape(std::string_view name) {
    std::string names;
    for (const auto& s : kShapes) {
        if (s.name == name) return s;
        names += fmt::format("{}{}", names.empty() ? "" : ", ", s.name);
    }
    throw_bad_value("E5600", "--shape", "unknown synthetic model shape", names, std::string(name));
}

float synthetic_value(std::uint64_t tensor_seed, std::uint64_t index) {
    const std::uint64_t h = splitmix64(tensor_seed ^ splitmix64(index));
    float sum = 0;
    for (int k = 0; k < 4; ++k) sum += static_cast<float>((h >> (16 * k)) & 0xffff) * (1.0f / 65536.0f);
    return (sum - 2.0f) * 1.7320508f;  // Irwin-Hall(4): mean 2, variance 1/3 -> unit variance
}

SyntheticSummary write_synthetic_checkpoint(const std::filesystem::path& dir, const SyntheticShape& shape,
                                            const SyntheticOptions& o) {
    if (o.dtype != "f32" && o.dtype != "f16" && o.dtype != "bf16")
        throw_bad_value("E5601", "--dtype", "synthetic checkpoint dtype not supported", "f32, f16 or bf16", o.dtype);
    std::vector<TensorPlan> tensors = plan_tensors(shape);
    if (o.shards < 1 || o.shards > static_cast<int>(tensors.size()))
        throw_bad_value("E5607", "--shards", "shard count out of range", fmt::format("1..{}", tensors.size()),
                        std::to_string(o.shards));
    const std::int64_t esize = dtype_bytes(o.dtype);
    std::int64_t total = 0;
    for (const auto& t : tensors) total += t.elements() * esize;
    // Tensor i goes to the shard holding the midpoint of its bytes: shards of about equal size.
    std::vector<std::uint64_t> shard_bytes(static_cast<std::size_t>(o.shards), 0);
    std::int64_t before = 0;
    for (auto& t : tensors) {
        const std::int64_t bytes = t.elements() * esize;
        const double mid = static_cast<double>(before) + static_cast<double>(bytes) / 2.0;
        t.shard = std::min(o.shards - 1, static_cast<int>(mid * o.shards / static_cast<double>(total)));
        t.begin = shard_bytes[static_cast<std::size_t>(t.shard)];
        shard_bytes[static_cast<std::size_t>(t.shard)] += static_cast<std::uint64_t>(bytes);
        before += bytes;
    }
    for (int s = 0; s < o.shards; ++s)
        if (shard_bytes[static_cast<std::size_t>(s)] == 0)
            throw_bad_value("E5608", "--shards", fmt::format("{} shards leave shard {} empty for shape {}", o.shards, s + 1, shape.name),
                            "fewer shards", std::to_string(o.shards));

    Generator gen{o.seed, {}};
    for (int j = 0; j < kNormOutlierDims; ++j)
        gen.norm_outliers.push_back(static_cast<std::int64_t>(splitmix64(o.seed ^ (0x77ULL + j)) % static_cast<std::uint64_t>(shape.d_model)));

    AtomicDirectory out(dir, o.overwrite);
    Progress progress(o.progress ? o.progress : ProgressSink([](const ProgressUpdate&) {}), "synthetic tensors",
                      tensors.size());
    json weight_map = json::object();
    const unsigned threads = resolve_threads(o.threads);
    const Encoding enc = encoding_of(o.dtype);
    for (int s = 0; s < o.shards; ++s) {
        json header = json::object();
        header["__metadata__"] = {{"format", "pt"}};
        for (const auto& t : tensors) {
            if (t.shard != s) continue;
            const json shape_json = t.vector ? json::array({t.cols}) : json::array({t.rows, t.cols});
            header[t.name] = {{"dtype", dtype_tag(o.dtype)},
                              {"shape", shape_json},
                              {"data_offsets", {t.begin, t.begin + static_cast<std::uint64_t>(t.elements() * esize)}}};
            weight_map[t.name] = shard_name(s, o.shards);
        }
        std::string h = header.dump();
        h.resize((h.size() + 7) / 8 * 8, ' ');
        write_file_atomic(out / shard_name(s, o.shards), [&](std::ostream& os) {
            const std::uint64_t n = h.size();
            char len[8];
            std::memcpy(len, &n, 8);
            os.write(len, 8);
            os.write(h.data(), static_cast<std::streamsize>(h.size()));
            // Two buffers: the workers fill one while this thread's async write drains the other.
            std::array<std::vector<char>, 2> buffers;
            std::future<void> writing;
            int next = 0;
            for (const auto& t : tensors) {  // in plan order, which is the order of `begin`
                if (t.shard != s) continue;
                for (std::int64_t first = 0; first < t.elements(); first += kChunkElements) {
                    const std::int64_t n_chunk = std::min(kChunkElements, t.elements() - first);
                    auto& buf = buffers[static_cast<std::size_t>(next)];
                    buf.resize(static_cast<std::size_t>(n_chunk * esize));
                    gen.fill_encoded(t, first, n_chunk, enc, buf.data(), threads);
                    if (writing.valid()) writing.get();
                    writing = std::async(std::launch::async, [&os, &buf] { os.write(buf.data(), static_cast<std::streamsize>(buf.size())); });
                    next ^= 1;
                }
                progress.advance();
            }
            if (writing.valid()) writing.get();
        });
    }
    if (o.shards > 1) {
        const json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
        write_file_atomic(out / "model.safetensors.index.json", index.dump(1) + "\n");
    }
    write_file_atomic(out / "config.json", config_json(shape, o).dump(1) + "\n");
    write_file_atomic(out / "tokenizer.json", tokenizer_json().dump() + "\n");
    write_file_atomic(out / "tokenizer_config.json", json({{"bos_token", "<s>"}, {"eos_token", "</s>"}}).dump(1) + "\n");
    out.commit();
    progress.finish();

    SyntheticSummary summary;
    for (const auto& t : tensors) summary.parameters += t.elements();
    summary.bytes = total;
    summary.shards = o.shards;
    return summary;
}

}  // namespace halo::model
