// Safetensors reader (single file and sharded checkpoints) and Hugging Face config.json.
//
// The format: u64 little-endian N, then N bytes of UTF-8 JSON, then the data section.
//   { "__metadata__": {"k": "v", ...},                        (optional, strings only)
//     "<tensor>": {"dtype": "F32"|"F16"|"BF16"|..., "shape": [d0, d1, ...],
//                  "data_offsets": [begin, end]}, ... }
// Offsets are relative to the data section (8 + N); shape is row-major, d0 slowest.
// A sharded checkpoint has model.safetensors.index.json: {"weight_map": {"<tensor>": "<file>"}}.
//
// Validated before use: N within the file, JSON well-formed with no duplicate keys, every
// entry's dtype known, shape non-negative, end - begin == prod(shape) * dtype size, offsets
// inside the data section and not overlapping. Errors are halo::Error E52xx.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "halo/model/dequant.hpp"
#include "halo/model/weights.hpp"
#include "halo/util/mapped_file.hpp"

namespace halo::model {

struct SafetensorsTensor {
    std::string name;
    std::string dtype;                 // as written: "F32", "F16", "BF16"
    const TypeTraits* type = nullptr;  // the matching dequant row
    std::vector<std::int64_t> shape;   // row-major, slowest first
    std::uint64_t begin = 0, end = 0;  // within the data section
    std::int64_t n_elements() const;
};

class SafetensorsFile {
public:
    explicit SafetensorsFile(const std::filesystem::path& path);
    const std::filesystem::path& path() const { return map_.path(); }
    const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    const SafetensorsTensor* find(const std::string& name) const;
    std::span<const std::uint8_t> bytes(const SafetensorsTensor& t) const;
    std::vector<float> dequantize(const SafetensorsTensor& t) const;
    // Drops the tensor's mapped pages from the resident set (MappedFile::release).
    void release(const SafetensorsTensor& t) const { map_.release(bytes(t)); }

private:
    MappedFile map_;
    std::uint64_t data_offset_ = 0;
    std::vector<SafetensorsTensor> tensors_;
    std::map<std::string, std::size_t> index_;
    std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint directory: model.safetensors, or the shards listed by
// model.safetensors.index.json (every listed tensor must be in its shard; E5210).
class SafetensorsCheckpoint {
public:
    explicit SafetensorsCheckpoint(const std::filesystem::path& dir);
    struct Located {
        const SafetensorsFile* file;
        const SafetensorsTensor* tensor;
    };
    // nullopt-like: {nullptr, nullptr} when absent.
    Located find(const std::string& name) const;
    std::vector<std::string> names() const;
    std::string dtype_summary() const;  // "bf16" or "f32+bf16"

private:
    std::vector<std::unique_ptr<SafetensorsFile>> files_;
    std::map<std::string, Located> by_name_;
};

// config.json of a Llama-family checkpoint -> ModelConfig (E5220 for missing/invalid keys).
ModelConfig read_hf_config(const std::filesystem::path& config_json);

// Writes a safetensors file (F32/F16/BF16 from FP32 values) atomically; for tests and tools.
struct SafetensorsEntry {
    std::string name;
    std::string dtype;
    std::vector<std::int64_t> shape;
    std::vector<float> values;
};
std::string safetensors_bytes(const std::vector<SafetensorsEntry>& entries);

}  // namespace halo::model
