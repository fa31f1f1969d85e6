// GGUF reader: a memory-mapped, validated view of a GGUF v2/v3 file.
//
// The format (all integers little-endian; learned from ggml's include/gguf.h):
//
//   header      u32 magic "GGUF" (bytes 47 47 55 46), u32 version (2 or 3),
//               u64 n_tensors, u64 n_kv
//   n_kv x      string key, u32 value_type, value
//   n_tensors x string name, u32 n_dims (1..4), u64 ne[n_dims], u32 ggml_type, u64 offset
//   padding     zeros up to a multiple of the alignment
//   data        tensor bytes; each tensor at data_start + offset, offset a multiple of the
//               alignment
//
//   string      u64 length, then that many bytes (UTF-8, no terminator)
//   value_type  0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool (1 byte, 0 or 1),
//               8 string, 9 array, 10 u64, 11 i64, 12 f64
//   array       u32 element type (not array), u64 count, then count elements
//   alignment   metadata "general.alignment" (u32, a power of two), default 32
//   ne          ne[0] is the fastest-varying (contiguous) dimension: a matrix [rows x cols]
//               in row-major order is ne = {cols, rows}. ne[0] must be a multiple of the
//               type's block size; the tensor's bytes are prod(ne) / block_size * type_size.
//
// Nothing in the file is trusted: counts are checked against the bytes left before anything
// is allocated, every string and array against the file end, tensors against the data
// section (in range, aligned, not overlapping each other), types against the dequant table,
// and duplicate keys and tensor names are rejected. Errors are halo::Error E50xx naming the
// file, the byte offset or the key/tensor, what was expected and what was found.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "halo/model/dequant.hpp"
#include "halo/util/mapped_file.hpp"

namespace halo::model {

enum class GgufType : std::uint32_t {
    u8 = 0, i8 = 1, u16 = 2, i16 = 3, u32 = 4, i32 = 5, f32 = 6, boolean = 7,
    string = 8, array = 9, u64 = 10, i64 = 11, f64 = 12,
};
std::string_view gguf_type_name(GgufType type);

// One metadata value. A scalar is held as an array of one; integers and bools in `ints`
// (u64 above INT64_MAX would not fit: the reader rejects them), floats in `floats`, strings
// in `strings`.
struct GgufValue {
    GgufType type = GgufType::u8;        // the value's type; `array` for arrays
    GgufType element_type = GgufType::u8;  // the element type (== type for scalars)
    std::vector<std::int64_t> ints;
    std::vector<double> floats;
    std::vector<std::string> strings;

    bool is_array() const { return type == GgufType::array; }
    std::size_t size() const { return ints.size() + floats.size() + strings.size(); }
};

struct GgufTensorInfo {
    std::string name;
    std::vector<std::int64_t> ne;  // GGUF order: ne[0] contiguous
    const TypeTraits* type = nullptr;
    std::uint64_t offset = 0;      // from the start of the data section
    std::int64_t n_bytes = 0;
    std::int64_t n_elements() const;
    // Row-major shape, slowest dimension first (reversed ne): {rows, cols} for a matrix.
    std::vector<std::int64_t> shape() const;
};

class GgufFile {
public:
    // Maps and validates the whole file; throws halo::Error (bad input) on any violation.
    explicit GgufFile(const std::filesystem::path& path);

    const std::filesystem::path& path() const { return map_.path(); }
    std::uint32_t version() const { return version_; }
    std::uint32_t alignment() const { return alignment_; }
    std::uint64_t data_offset() const { return data_offset_; }

    const std::map<std::string, GgufValue>& metadata() const { return metadata_; }
    const GgufValue* find(const std::string& key) const;
    // Typed look-ups: nullopt when absent; a present key of the wrong type or shape is an
    // error (E5020) naming the key, the expected and the found type.
    std::optional<std::int64_t> get_int(const std::string& key) const;
    std::optional<double> get_float(const std::string& key) const;  // accepts f32/f64 and integers
    std::optional<std::string> get_string(const std::string& key) const;
    std::optional<bool> get_bool(const std::string& key) const;
    // Required variants: absent is an error (E5021) naming the key.
    std::int64_t require_int(const std::string& key) const;
    double require_float(const std::string& key) const;
    std::string require_string(const std::string& key) const;

    const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
    const GgufTensorInfo* find_tensor(const std::string& name) const;
    std::span<const std::uint8_t> tensor_bytes(const GgufTensorInfo& info) const;
    // All elements of the tensor as FP32 in row-major order (fast dequant path).
    std::vector<float> dequantize(const GgufTensorInfo& info) const;
    // Drops the tensor's mapped pages from the resident set (MappedFile::release).
    void release(const GgufTensorInfo& info) const { map_.release(tensor_bytes(info)); }

private:
    MappedFile map_;
    std::uint32_t version_ = 0;
    std::uint32_t alignment_ = 32;
    std::uint64_t data_offset_ = 0;
    std::map<std::string, GgufValue> metadata_;
    std::vector<GgufTensorInfo> tensors_;
    std::map<std::string, std::size_t> tensor_index_;
};

}  // namespace halo::model
