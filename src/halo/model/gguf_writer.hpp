// A small GGUF v3 writer: builds a file in memory (metadata, tensor infos, aligned data).
// Used by tests to write round-trip and deliberately broken files, by the fuzz seeds, by tools
// that need a tiny model, and by the GGUF export (quant/export_gguf). Not a general converter.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "halo/model/dequant.hpp"
#include "halo/model/gguf_reader.hpp"

namespace halo::model {

class GgufWriter {
public:
    void add_u32(const std::string& key, std::uint32_t v);
    void add_i32(const std::string& key, std::int32_t v);
    void add_u64(const std::string& key, std::uint64_t v);
    void add_f32(const std::string& key, float v);
    void add_f64(const std::string& key, double v);
    void add_bool(const std::string& key, bool v);
    void add_string(const std::string& key, const std::string& v);
    void add_string_array(const std::string& key, const std::vector<std::string>& v);
    void add_i32_array(const std::string& key, const std::vector<std::int32_t>& v);
    void add_f32_array(const std::string& key, const std::vector<float>& v);
    // A value as GgufFile read it, re-encoded in its own GGUF type (and element type), so a
    // file's metadata can be copied key by key. A nested array (the reader refuses them, so
    // only a hand-built value has one) is an internal error E5023.
    void add_value(const std::string& key, const GgufValue& v);
    // A key with raw bytes after the key (type + value), for tests of malformed values.
    void add_raw(const std::string& key, const std::string& type_and_value);

    // `ne` in GGUF order (ne[0] contiguous); `data` must be the type's exact byte count.
    void add_tensor(const std::string& name, std::vector<std::int64_t> ne, GgmlType type, std::string data);
    // FP32 tensor from row-major values with GGUF dims `ne`.
    void add_f32_tensor(const std::string& name, std::vector<std::int64_t> ne, const std::vector<float>& values);

    void set_alignment(std::uint32_t alignment);  // also writes general.alignment
    std::string bytes() const;
    void write(const std::filesystem::path& path) const;  // atomically

private:
    struct Tensor {
        std::string name;
        std::vector<std::int64_t> ne;
        std::uint32_t type;
        std::string data;
    };
    std::vector<std::pair<std::string, std::string>> kv_;  // key, encoded type + value
    std::vector<Tensor> tensors_;
    std::uint32_t alignment_ = 32;
};

// Little-endian encoders shared with tests that hand-craft bytes.
void put_u32(std::string& out, std::uint32_t v);
void put_u64(std::string& out, std::uint64_t v);
void put_gguf_string(std::string& out, const std::string& s);

}  // namespace halo::model
