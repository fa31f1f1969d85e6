#include "halo/model/safetensors_reader.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/model/architecture.hpp"
#include "halo/model/float_convert.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::model {
namespace {

using nlohmann::json;

// The dtypes halo reads, mapped onto rows of the dequant table.
const TypeTraits* safetensors_type(const std::string& dtype) {
    if (dtype == "F32") return &traits(GgmlType::f32);
    if (dtype == "F16") return &traits(GgmlType::f16);
    if (dtype == "BF16") return &traits(GgmlType::bf16);
    return nullptr;
}

// Parses JSON rejecting duplicate keys at any depth (nlohmann would keep the last silently).
json parse_strict(const std::string& text, const std::filesystem::path& file, const char* code) {
    std::vector<std::set<std::string>> seen;
    std::string duplicate;
    auto cb = [&](int, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) seen.emplace_back();
        else if (event == json::parse_event_t::object_end) seen.pop_back();
        else if (event == json::parse_event_t::key && !seen.empty()) {
            const auto key = parsed.get<std::string>();
            if (!seen.back().insert(key).second && duplicate.empty()) duplicate = key;
        }
        return true;
    };
    json j;
    try {
        j = json::parse(text, cb);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 2e2222222222
        throw_bad_input_at(code, file, "header", "header is not valid JSON", "a JSON object", e.what());
    }
    if (!duplicate.empty())
        throw_bad_input_at(code, file, duplicate, "duplicate key in the JSON header", "each key once", "a second occurrence");
    return j;
}

}  // namespace

std::int64_t SafetensorsTensor::n_elements() const {
    std::int64_t n = 1;
    for (auto d : shape) n *= d;
    return n;
}

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path) : map_(path) {
    const auto bytes = map_.bytes();
    if (bytes.size() < 8)
        throw_bad_input_at("E5200", path, "", "file too small for a safetensors header", "at least 8 bytes",
             fmt::format("{} bytes", bytes.size()));
    std::uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    if (n > bytes.size() - 8)
        throw_bad_input_at("E5201", path, "byte 0", "header length runs past the end of the file",
             fmt::format("at most {}", bytes.size() - 8), std::to_string(n), "the file is truncated or not safetensors");
    data_offset_ = 8 + n;
    const std::uint64_t data_size = bytes.size() - data_offset_;
    const json header = parse_strict(std::string(reinterpret_cast<const char*>(bytes.data() + 8), n), path, "E5202");
    if (!header.is_object()) throw_bad_input_at("E5202", path, "header", "header is not a JSON object", "an object", header.type_name());

    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            if (!entry.is_object()) throw_bad_input_at("E5203", path, name, "__metadata__ is not an object", "an object", entry.type_name());
            for (const auto& [k, v] : entry.items())
                if (v.is_string()) metadata_[k] = v.get<std::string>();
            continue;
        }
        SafetensorsTensor t;
        t.name = name;
        if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") || !entry.contains("data_offsets"))
            throw_bad_input_at("E5203", path, name, "tensor entry is incomplete", "an object with dtype, shape and data_offsets",
                 entry.dump().substr(0, 80));
        if (!entry["dtype"].is_string()) throw_bad_input_at("E5203", path, name, "dtype is not a string", "a string", entry["dtype"].dump());
        t.dtype = entry["dtype"].get<std::string>();
        t.type = safetensors_type(t.dtype);
        if (!t.type)
            throw_bad_input_at("E5204", path, name, "tensor dtype is not supported", "F32, F16 or BF16", t.dtype,
                 "convert the checkpoint to a floating-point dtype");
        const auto& shape = entry["shape"];
        if (!shape.is_array()) throw_bad_input_at("E5203", path, name, "shape is not an array", "an array", shape.dump());
        std::int64_t n_elements = 1;
        for (const auto& d : shape) {
            if (!d.is_number_unsigned() || d.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / std::max<std::int64_t>(n_elements, 1)))
                throw_bad_input_at("E5203", path, name, "shape entry is not a non-negative integer that fits", "a size", d.dump());
            t.shape.push_back(d.get<std::int64_t>());
            n_elements *= t.shape.back();
        }
        const auto& off = entry["data_offsets"];
        if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
            throw_bad_input_at("E5203", path, name, "data_offsets is not a pair of offsets", "[begin, end]", off.dump());
        t.begin = off[0].get<std::uint64_t>();
        t.end = off[1].get<std::uint64_t>();
        if (t.begin > t.end || t.end > data_size)
            throw_bad_input_at("E5205", path, name, "tensor data is outside the data section",
                 fmt::format("0 <= begin <= end <= {}", data_size), fmt::format("[{}, {}]", t.begin, t.end),
                 "the file is truncated or the header is corrupt");
        const std::int64_t want = n_elements * t.type->type_size;
        if (static_cast<std::uint64_t>(want) != t.end - t.begin)
            throw_bad_input_at("E5206", path, name, "tensor byte size does not match its shape and dtype",
                 fmt::format("{} bytes ({} {} elements)", want, n_elements, t.dtype),
                 fmt::format("{} bytes", t.end - t.begin));
        index_.emplace(name, tensors_.size());
        tensors_.push_back(std::move(t));
    }
    std::vector<const SafetensorsTensor*> sorted;
    for (const auto& t : tensors_) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->begin < b->begin; });
    for (std::size_t i = 1; i < sorted.size(); ++i)
        if (sorted[i - 1]->end > sorted[i]->begin)
            throw_bad_input_at("E5207", path, sorted[i]->name, "tensor data overlaps tensor " + sorted[i - 1]->name,
                 fmt::format("begin >= {}", sorted[i - 1]->end), std::to_string(sorted[i]->begin));
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
    const auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::uint8_t> SafetensorsFile::bytes(const SafetensorsTensor& t) const {
    return map_.bytes().subspan(static_cast<std::size_t>(data_offset_ + t.begin), static_cast<std::size_t>(t.end - t.begin));
}

std::vector<float> SafetensorsFile::dequantize(const SafetensorsTensor& t) const {
    std::vector<float> out(static_cast<std::size_t>(t.n_elements()));
    model::dequantize(*t.type, bytes(t), out);
    return out;
}

SafetensorsCheckpoint::SafetensorsCheckpoint(const std::filesystem::path& dir) {
    const auto index_path = dir / "model.safetensors.index.json";
    std::vector<std::string> shard_names;
    std::map<std::string, std::string> weight_map;
    if (std::filesystem::exists(index_path)) {
        const json index = parse_strict(read_file(index_path), index_path, "E5210");
        if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
            throw_bad_input_at("E5210", index_path, "weight_map", "index has no weight_map object", "{\"weight_map\": {...}}", "none");
        for (const auto& [tensor, shard] : index["weight_map"].items()) {
            if (!shard.is_string()) throw_bad_input_at("E5210", index_path, tensor, "shard name is not a string", "a file name", shard.dump());
            const auto s = shard.get<std::string>();
            if (s.find('/') != std::string::npos || s.find("..") != std::string::npos)
                throw_bad_input_at("E5210", index_path, tensor, "shard name leaves the checkpoint directory", "a plain file name", s);
            weight_map[tensor] = s;
            if (std::find(shard_names.begin(), shard_names.end(), s) == shard_names.end()) shard_names.push_back(s);
        }
    } else if (std::filesystem::exists(dir / "model.safetensors")) {
        shard_names.push_back("model.safetensors");
    } else {
        throw_bad_input_at("E5211", dir, "", "no safetensors checkpoint in the directory",
             "model.safetensors or model.safetensors.index.json", "neither");
    }
    for (const auto& s : shard_names) {
        files_.push_back(std::make_unique<SafetensorsFile>(dir / s));
        for (const auto& t : files_.back()->tensors()) {
            if (by_name_.count(t.name))
                throw_bad_input_at("E5212", dir / s, t.name, "tensor appears in two shards", "each tensor once", "a second copy");
            by_name_[t.name] = {files_.back().get(), &t};
        }
    }
    for (const auto& [tensor, shard] : weight_map) {
        const auto it = by_name_.find(tensor);
        if (it == by_name_.end() || it->second.file->path().filename() != shard)
            throw_bad_input_at("E5210", index_path, tensor, "index lists a tensor its shard does not hold", "the tensor in " + shard,
                 it == by_name_.end() ? "no such tensor" : "it in " + it->second.file->path().filename().string());
    }
}

SafetensorsCheckpoint::Located SafetensorsCheckpoint::find(const std::string& name) const {
    const auto it = by_name_.find(name);
    return it == by_name_.end() ? Located{nullptr, nullptr} : it->second;
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
    std::vector<std::string> out;
    for (const auto& [name, loc] : by_name_) out.push_back(name);
    return out;
}

std::string SafetensorsCheckpoint::dtype_summary() const {
    std::set<std::string> dtypes;
    for (const auto& [name, loc] : by_name_) {
        std::string d = loc.tensor->dtype;
        std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        dtypes.insert(d);
    }
    std::string out;
    for (const auto& d : dtypes) out += (out.empty() ? "" : "+") + d;
    return out;
}

ModelConfig read_hf_config(const std::filesystem::path& config_json) {
    const json j = parse_strict(read_file(config_json), config_json, "E5220");
    if (!j.is_object()) throw_bad_input_at("E5220", config_json, "", "config is not a JSON object", "an object", j.type_name());
    const auto req_int = [&](const char* key) -> int {
        if (!j.contains(key)) throw_bad_input_at("E5220", config_json, key, "required config key is missing", "the key", "none");
        if (!j[key].is_number_integer() || j[key].get<long long>() <= 0 || j[key].get<long long>() > (1LL << 30))
            throw_bad_input_at("E5220", config_json, key, "config value is not a positive integer", "a positive integer", j[key].dump());
        return j[key].get<int>();
    };
    const auto opt_num = [&](const char* key, double fallback) -> double {
        if (!j.contains(key) || j[key].is_null()) return fallback;
        if (!j[key].is_number()) throw_bad_input_at("E5220", config_json, key, "config value is not a number", "a number", j[key].dump());
        return j[key].get<double>();
    };
    const JsonView top(j, config_json.string());  // every other key: type-checked, named by its path
    ModelConfig c;
    const std::string model_type = top.string_or("model_type", "llama");
    const ArchitectureRow* row = find_architecture_hf(model_type);
    if (row == nullptr || row->moe_shared_expert) {
        std::string known;
        for (const auto& r : architecture_table())
            if (!r.moe_shared_expert) known += (known.empty() ? "" : ", ") + std::string(r.hf_model_type);
        throw_bad_input_at("E5221", config_json, "model_type",
                           row ? "mixture-of-experts with a shared expert is not implemented" : "architecture is not in halo's table",
                           known, model_type);
    }
    apply_architecture(*row, c);
    if (row->moe) {  // Mixtral's keys (modeling_mixtral.py / configuration_mixtral.py)
        c.n_experts = req_int("num_local_experts");
        c.n_experts_used = req_int("num_experts_per_tok");
        if (c.n_experts_used > c.n_experts)
            throw_bad_input_at("E5323", config_json, "num_experts_per_tok", "experts used per token out of range",
                               fmt::format("1..{} (num_local_experts)", c.n_experts), std::to_string(c.n_experts_used));
    }
    c.name = config_json.parent_path().filename().string();
    c.n_layers = req_int("num_hidden_layers");
    c.d_model = req_int("hidden_size");
    c.n_heads = req_int("num_attention_heads");
    c.n_kv_heads = j.contains("num_key_value_heads") ? req_int("num_key_value_heads") : c.n_heads;
    c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null() ? req_int("head_dim") : c.d_model / c.n_heads;
    c.d_ff = req_int("intermediate_size");
    c.vocab_size = req_int("vocab_size");
    c.context_length = j.contains("max_position_embeddings") ? req_int("max_position_embeddings") : 2048;
    c.rms_norm_eps = static_cast<float>(opt_num("rms_norm_eps", 1e-6));
    c.rope_theta = static_cast<float>(opt_num("rope_theta", 10000.0));
    // Gemma ties its head unless told otherwise; the Llama-style configs default to untied.
    c.tied_embeddings = top.boolean_or("tie_word_embeddings", row->embedding_scale_sqrt_d);
    if (top.has("rope_scaling")) {
        const JsonView rs = top.at("rope_scaling");
        const std::string key = rs.has("rope_type") ? "rope_scaling.rope_type" : "rope_scaling.type";
        const std::string kind = rs.string_or("rope_type", rs.string_or("type", "none"));
        c.rope_scaling = parse_rope_scaling(kind, config_json.string(), key);
        c.rope_scaling_factor = static_cast<float>(rs.number_or("factor", 1.0));
    }
    // Sliding window: Mistral and Gemma 3 use `sliding_window`; Qwen2 only when use_sliding_window.
    if (top.boolean_or("use_sliding_window", true) && j.contains("sliding_window") && !j["sliding_window"].is_null())
        c.sliding_window = req_int("sliding_window");
    if (j.contains("sliding_window_pattern") && !j["sliding_window_pattern"].is_null())
        c.swa_pattern = req_int("sliding_window_pattern");
    c.rope_theta_local = static_cast<float>(opt_num("rope_local_base_freq", c.rope_theta_local));
    c.final_logit_softcap = static_cast<float>(opt_num("final_logit_softcapping", c.final_logit_softcap));
    if (opt_num("attn_logit_softcapping", 0.0) != 0.0)
        throw_bad_input_at("E5222", config_json, "attn_logit_softcapping", "attention-logit soft-capping is not implemented",
                           "null", j["attn_logit_softcapping"].dump());
    if (row->embedding_scale_sqrt_d && c.head_dim > 0 &&
        opt_num("query_pre_attn_scalar", c.head_dim) != static_cast<double>(c.head_dim))
        throw_bad_input_at("E5223", config_json, "query_pre_attn_scalar",
                           "attention scale other than 1/sqrt(head_dim) is not implemented", std::to_string(c.head_dim),
                           j["query_pre_attn_scalar"].dump());
    if (c.d_model % c.n_heads != 0 && !j.contains("head_dim"))
        throw_bad_input_at("E5220", config_json, "hidden_size", "hidden_size is not a multiple of num_attention_heads",
             fmt::format("a multiple of {}", c.n_heads), std::to_string(c.d_model));
    if (c.n_heads % c.n_kv_heads != 0)
        throw_bad_input_at("E5220", config_json, "num_key_value_heads", "query heads are not a multiple of key/value heads",
             fmt::format("a divisor of {}", c.n_heads), std::to_string(c.n_kv_heads));
    return c;
}

std::string safetensors_bytes(const std::vector<SafetensorsEntry>& entries) {
    json header = json::object();
    std::string data;
    for (const auto& e : entries) {
        const std::uint64_t begin = data.size();
        for (float v : e.values) {
            if (e.dtype == "F32") {
                char buf[4];
                std::memcpy(buf, &v, 4);
                data.append(buf, 4);
            } else {
                const std::uint16_t h = e.dtype == "F16" ? fp32_to_fp16(v) : fp32_to_bf16(v);
                data.push_back(static_cast<char>(h & 0xff));
                data.push_back(static_cast<char>(h >> 8));
            }
        }
        header[e.name] = {{"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {begin, data.size()}}};
    }
    std::string h = header.dump();
    h.resize((h.size() + 7) / 8 * 8, ' ');  // the format pads the header to 8 bytes with spaces
    std::string out;
    const std::uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    return out + h + data;
}

}  // namespace halo::model
