#include "halo/model/gguf_reader.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <set>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr std::size_t kHeaderBytes = 24;
constexpr std::uint32_t kMaxDims = 4;

std::string at_byte(std::size_t pos) { return fmt::format("byte {}", pos); }

// Smallest encoding of one value of each type, used to bound counts before allocating.
std::size_t min_value_bytes(GgufType t) {
    switch (t) {
        case GgufType::u8: case GgufType::i8: case GgufType::boolean: return 1;
        case GgufType::u16: case GgufType::i16: return 2;
        case GgufType::u32: case GgufType::i32: case GgufType::f32: return 4;
        case GgufType::u64: case GgufType::i64: case GgufType::f64: case GgufType::string: return 8;
        case GgufType::array: return 12;
    }
    return 1;
}

bool known_type(std::uint32_t t) { return t <= static_cast<std::uint32_t>(GgufType::f64); }

// A bounds-checked reader over the mapped bytes.
class Cursor {
public:
    Cursor(const std::filesystem::path& file, std::span<const std::uint8_t> bytes) : file_(file), bytes_(bytes) {}

    std::size_t pos() const { return pos_; }
    std::size_t left() const { return bytes_.size() - pos_; }

    template <typename T>
    T read(const char* what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }

    std::string read_string(const char* what) {
        const std::size_t start = pos_;
        const auto len = read<std::uint64_t>(what);
        if (len > left())
            throw_bad_input_at("E5009", file_, at_byte(start), fmt::format("{} string length runs past the end of the file", what),
                 fmt::format("at most {} bytes", left()), fmt::format("{} bytes", len),
                 "the file is truncated or this is not a GGUF string");
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), static_cast<std::size_t>(len));
        pos_ += static_cast<std::size_t>(len);
        return s;
    }

    // Rejects a count whose smallest encoding would not fit in what is left.
    void check_count(std::uint64_t count, std::size_t min_each, const char* what, std::size_t at) {
        if (min_each != 0 && count > left() / min_each)
            throw_bad_input_at("E5005", file_, at_byte(at), fmt::format("{} count is larger than the file can hold", what),
                 fmt::format("at most {} (the {} bytes left / {} bytes each)", left() / min_each, left(), min_each),
                 std::to_string(count), "the file is truncated or corrupt");
    }

private:
    void need(std::size_t n, const char* what) {
        if (n > left())
            throw_bad_input_at("E5004", file_, at_byte(pos_), fmt::format("file ends while reading {}", what),
                 fmt::format("{} more bytes", n), fmt::format("{}", left()), "the file is truncated");
    }

    const std::filesystem::path& file_;
    std::span<const std::uint8_t> bytes_;
    std::size_t pos_ = 0;
};

void read_element(Cursor& c, GgufType t, GgufValue& v, const std::filesystem::path& file, const std::string& key) {
    const std::size_t at = c.pos();
    switch (t) {
        case GgufType::u8: v.ints.push_back(c.read<std::uint8_t>("a u8 value")); return;
        case GgufType::i8: v.ints.push_back(c.read<std::int8_t>("an i8 value")); return;
        case GgufType::u16: v.ints.push_back(c.read<std::uint16_t>("a u16 value")); return;
        case GgufType::i16: v.ints.push_back(c.read<std::int16_t>("an i16 value")); return;
        case GgufType::u32: v.ints.push_back(c.read<std::uint32_t>("a u32 value")); return;
        case GgufType::i32: v.ints.push_back(c.read<std::int32_t>("an i32 value")); return;
        case GgufType::i64: v.ints.push_back(c.read<std::int64_t>("an i64 value")); return;
        case GgufType::u64: {
            const auto x = c.read<std::uint64_t>("a u64 value");
            if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                throw_bad_input_at("E5018", file, key, "u64 value too large", "at most 2^63-1", std::to_string(x));
            v.ints.push_back(static_cast<std::int64_t>(x));
            return;
        }
        case GgufType::boolean: {
            const auto x = c.read<std::uint8_t>("a bool value");
            if (x > 1) throw_bad_input_at("E5018", file, key + " (" + at_byte(at) + ")", "bool value is not 0 or 1", "0 or 1", std::to_string(x));
            v.ints.push_back(x);
            return;
        }
        case GgufType::f32: v.floats.push_back(c.read<float>("an f32 value")); return;
        case GgufType::f64: v.floats.push_back(c.read<double>("an f64 value")); return;
        case GgufType::string: v.strings.push_back(c.read_string("a string value")); return;
        case GgufType::array: break;
    }
    throw_bad_input_at("E5019", file, key, "arrays of arrays are not supported", "a scalar element type", "array");
}

GgufValue read_value(Cursor& c, const std::filesystem::path& file, const std::string& key) {
    GgufValue v;
    const std::size_t at = c.pos();
    const auto raw = c.read<std::uint32_t>("a value type");
    if (!known_type(raw))
        throw_bad_input_at("E5006", file, key + " (" + at_byte(at) + ")", "unknown metadata value type", "0..12", std::to_string(raw),
             "the file is corrupt or uses a newer GGUF revision");
    v.type = static_cast<GgufType>(raw);
    v.element_type = v.type;
    if (v.type != GgufType::array) {
        read_element(c, v.type, v, file, key);
        return v;
    }
    const std::size_t elem_at = c.pos();
    const auto raw_elem = c.read<std::uint32_t>("an array element type");
    if (!known_type(raw_elem))
        throw_bad_input_at("E5006", file, key + " (" + at_byte(elem_at) + ")", "unknown array element type", "0..12", std::to_string(raw_elem));
    v.element_type = static_cast<GgufType>(raw_elem);
    if (v.element_type == GgufType::array)
        throw_bad_input_at("E5019", file, key, "arrays of arrays are not supported", "a scalar element type", "array");
    const std::size_t count_at = c.pos();
    const auto n = c.read<std::uint64_t>("an array length");
    c.check_count(n, min_value_bytes(v.element_type), "array element", count_at);
    const auto count = static_cast<std::size_t>(n);
    if (v.element_type == GgufType::string) v.strings.reserve(count);
    else if (v.element_type == GgufType::f32 || v.element_type == GgufType::f64) v.floats.reserve(count);
    else v.ints.reserve(count);
    for (std::size_t i = 0; i < count; ++i) read_element(c, v.element_type, v, file, key);
    return v;
}

}  // namespace

std::string_view gguf_type_name(GgufType type) {
    static constexpr std::string_view names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                                 "bool", "string", "array", "u64", "i64", "f64"};
    const auto i = static_cast<std::uint32_t>(type);
    return i < std::size(names) ? names[i] : "unknown";
}

std::int64_t GgufTensorInfo::n_elements() const {
    std::int64_t n = 1;
    for (auto d : ne) n *= d;
    return n;
}

std::vector<std::int64_t> GgufTensorInfo::shape() const { return {ne.rbegin(), ne.rend()}; }

GgufFile::GgufFile(const std::filesystem::path& path) : map_(path) {
    const auto bytes = map_.bytes();
    if (bytes.size() < kHeaderBytes)
        throw_bad_input_at("E5001", path, "", "file too small for a GGUF header", fmt::format("at least {} bytes", kHeaderBytes),
             fmt::format("{} bytes", bytes.size()), "is this a GGUF file?");
    Cursor c(path, bytes);
    const auto magic = c.read<std::uint32_t>("the magic");
    if (magic != kMagic) {
        std::string found;
        for (int i = 0; i < 4; ++i) {
            const auto ch = bytes[static_cast<std::size_t>(i)];
            found += (ch >= 32 && ch < 127) ? std::string(1, static_cast<char>(ch)) : fmt::format("\\x{:02x}", ch);
        }
        throw_bad_input_at("E5002", path, "byte 0", "not a GGUF file: bad magic", "\"GGUF\"", "\"" + found + "\"",
             "safetensors checkpoints are directories with config.json; GGML/GGJT files must be converted");
    }
    version_ = c.read<std::uint32_t>("the version");
    if (version_ != 2 && version_ != 3)
        throw_bad_input_at("E5003", path, "byte 4", "unsupported GGUF version", "2 or 3", std::to_string(version_),
             "re-convert the model with a current llama.cpp convert script");
    const auto n_tensors = c.read<std::uint64_t>("the tensor count");
    const auto n_kv = c.read<std::uint64_t>("the metadata count");
    // A key-value pair is at least a string (8) + type (4) + 1-byte value; a tensor info at
    // least name (8) + n_dims (4) + one dim (8) + type (4) + offset (8).
    c.check_count(n_kv, 13, "metadata key-value", 16);
    c.check_count(n_tensors, 32, "tensor", 8);

    for (std::uint64_t i = 0; i < n_kv; ++i) {
        const std::size_t at = c.pos();
        std::string key = c.read_string("a metadata key");
        if (metadata_.count(key))
            throw_bad_input_at("E5007", path, key + " (" + at_byte(at) + ")", "duplicate metadata key", "each key once",
                 "a second occurrence", "the writer emitted the key twice");
        GgufValue v = read_value(c, path, key);
        metadata_.emplace(std::move(key), std::move(v));
    }

    if (const GgufValue* a = find("general.alignment")) {
        if (a->is_array() || a->type != GgufType::u32)
            throw_bad_input_at("E5008", path, "general.alignment", "alignment has the wrong type", "u32",
                 std::string(gguf_type_name(a->type)));
        const auto value = a->ints.front();
        if (value == 0 || (value & (value - 1)) != 0)
            throw_bad_input_at("E5008", path, "general.alignment", "alignment is not a power of two", "a power of two",
                 std::to_string(value));
        alignment_ = static_cast<std::uint32_t>(value);
    }

    tensors_.reserve(static_cast<std::size_t>(n_tensors));
    for (std::uint64_t i = 0; i < n_tensors; ++i) {
        GgufTensorInfo t;
        const std::size_t at = c.pos();
        t.name = c.read_string("a tensor name");
        if (t.name.empty()) throw_bad_input_at("E5022", path, at_byte(at), "tensor with an empty name", "a name", "\"\"");
        if (tensor_index_.count(t.name))
            throw_bad_input_at("E5017", path, t.name, "duplicate tensor name", "each tensor name once", "a second tensor info",
                 "the writer emitted the tensor twice");
        const auto n_dims = c.read<std::uint32_t>("a tensor's dimension count");
        if (n_dims == 0 || n_dims > kMaxDims)
            throw_bad_input_at("E5010", path, t.name, "tensor dimension count out of range", "1..4", std::to_string(n_dims));
        std::int64_t n_elements = 1;
        for (std::uint32_t d = 0; d < n_dims; ++d) {
            const auto ne = c.read<std::uint64_t>("a tensor dimension");
            if (ne == 0 || ne > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max() / n_elements))
                throw_bad_input_at("E5011", path, t.name, fmt::format("tensor dimension {} is zero or overflows", d),
                     "a positive size whose product fits in 63 bits", std::to_string(ne));
            n_elements *= static_cast<std::int64_t>(ne);
            t.ne.push_back(static_cast<std::int64_t>(ne));
        }
        const auto type_id = c.read<std::uint32_t>("a tensor type");
        t.type = find_type(type_id);
        if (!t.type) {
            std::string known;
            for (const auto& row : type_table()) known += (known.empty() ? "" : ", ") + std::string(row.name);
            throw_bad_input_at("E5012", path, t.name, "tensor type is not supported", "one of " + known,
                 fmt::format("ggml type {}", type_id), "re-quantize the model to one of the supported types");
        }
        if (t.ne[0] % t.type->block_size != 0)
            throw_bad_input_at("E5013", path, t.name,
                 fmt::format("row length is not a whole number of {} blocks", t.type->name),
                 fmt::format("ne[0] a multiple of {}", t.type->block_size), std::to_string(t.ne[0]));
        t.n_bytes = *row_bytes(*t.type, n_elements);  // cannot fail: divisible, and bytes <= elements * 4
        t.offset = c.read<std::uint64_t>("a tensor offset");
        if (t.offset % alignment_ != 0)
            throw_bad_input_at("E5014", path, t.name, "tensor data offset is not aligned", fmt::format("a multiple of {}", alignment_),
                 std::to_string(t.offset));
        tensor_index_.emplace(t.name, tensors_.size());
        tensors_.push_back(std::move(t));
    }

    const std::uint64_t info_end = c.pos();
    data_offset_ = (info_end + alignment_ - 1) / alignment_ * alignment_;
    // A file without tensors (a vocabulary-only GGUF) ends with its metadata: no aligned data
    // section follows, and none is needed.
    if (tensors_.empty()) data_offset_ = std::min<std::uint64_t>(data_offset_, bytes.size());
    if (data_offset_ > bytes.size())
        throw_bad_input_at("E5015", path, "data section", "data section starts past the end of the file",
             fmt::format("at most {}", bytes.size()), std::to_string(data_offset_), "the file is truncated");
    const std::uint64_t data_size = bytes.size() - data_offset_;

    for (const auto& t : tensors_) {
        if (t.offset > data_size || static_cast<std::uint64_t>(t.n_bytes) > data_size - t.offset)
            throw_bad_input_at("E5015", path, t.name, "tensor data runs past the end of the file",
                 fmt::format("bytes [{}, {}) within the {}-byte data section", t.offset, t.offset + t.n_bytes, data_size),
                 fmt::format("{} bytes of {} {} elements", t.n_bytes, t.type->name, t.n_elements()),
                 "the file is truncated or the tensor info is corrupt");
    }
    std::vector<const GgufTensorInfo*> by_offset;
    for (const auto& t : tensors_) by_offset.push_back(&t);
    std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) { return a->offset < b->offset; });
    for (std::size_t i = 1; i < by_offset.size(); ++i) {
        const auto* prev = by_offset[i - 1];
        const auto* cur = by_offset[i];
        if (prev->offset + static_cast<std::uint64_t>(prev->n_bytes) > cur->offset)
            throw_bad_input_at("E5016", path, cur->name, fmt::format("tensor data overlaps tensor {}", prev->name),
                 fmt::format("an offset >= {}", prev->offset + prev->n_bytes), std::to_string(cur->offset),
                 "the tensor infos are corrupt");
    }
}

const GgufValue* GgufFile::find(const std::string& key) const {
    const auto it = metadata_.find(key);
    return it == metadata_.end() ? nullptr : &it->second;
}

namespace {
[[noreturn]] void wrong_type(const std::filesystem::path& file, const std::string& key, const char* expected,
                             const GgufValue& v) {
    std::string found(gguf_type_name(v.type));
    if (v.is_array()) found += " of " + std::string(gguf_type_name(v.element_type));
    throw_bad_input_at("E5020", file, key, "metadata value has the wrong type", expected, found);
}
bool is_int_type(GgufType t) { return t != GgufType::f32 && t != GgufType::f64 && t != GgufType::string && t != GgufType::boolean && t != GgufType::array; }
}  // namespace

std::optional<std::int64_t> GgufFile::get_int(const std::string& key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_array() || !is_int_type(v->type)) wrong_type(path(), key, "an integer", *v);
    return v->ints.front();
}

std::optional<double> GgufFile::get_float(const std::string& key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (v->is_array()) wrong_type(path(), key, "a number", *v);
    if (v->type == GgufType::f32 || v->type == GgufType::f64) return v->floats.front();
    if (is_int_type(v->type)) return static_cast<double>(v->ints.front());
    wrong_type(path(), key, "a number", *v);
}

std::optional<std::string> GgufFile::get_string(const std::string& key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (v->type != GgufType::string) wrong_type(path(), key, "a string", *v);
    return v->strings.front();
}

std::optional<bool> GgufFile::get_bool(const std::string& key) const {
    const GgufValue* v = find(key);
    if (!v) return std::nullopt;
    if (v->type != GgufType::boolean) wrong_type(path(), key, "a bool", *v);
    return v->ints.front() != 0;
}

namespace {
[[noreturn]] void missing(const std::filesystem::path& file, const std::string& key) {
    throw_bad_input_at("E5021", file, key, "required metadata key is missing", "the key present", "no such key",
         "the file may be for another architecture or an old converter");
}
}  // namespace

std::int64_t GgufFile::require_int(const std::string& key) const {
    if (auto v = get_int(key)) return *v;
    missing(path(), key);
}
double GgufFile::require_float(const std::string& key) const {
    if (auto v = get_float(key)) return *v;
    missing(path(), key);
}
std::string GgufFile::require_string(const std::string& key) const {
    if (auto v = get_string(key)) return *v;
    missing(path(), key);
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
    const auto it = tensor_index_.find(name);
    return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const std::uint8_t> GgufFile::tensor_bytes(const GgufTensorInfo& info) const {
    return map_.bytes().subspan(static_cast<std::size_t>(data_offset_ + info.offset), static_cast<std::size_t>(info.n_bytes));
}

std::vector<float> GgufFile::dequantize(const GgufTensorInfo& info) const {
    std::vector<float> out(static_cast<std::size_t>(info.n_elements()));
    model::dequantize(*info.type, tensor_bytes(info), out);
    return out;
}

}  // namespace halo::model
