#include "halo/model/gguf_writer.hpp"

#include <cstring>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {

void put_u32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_gguf_string(std::string& out, const std::string& s) {
    put_u64(out, s.size());
    out += s;
}

namespace {
template <typename T>
void put_raw(std::string& out, T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out.append(buf, sizeof(T));
}
std::string typed(GgufType t) {
    std::string s;
    put_u32(s, static_cast<std::uint32_t>(t));
    return s;
}
}  // namespace

void GgufWriter::add_u32(const std::string& key, std::uint32_t v) {
    auto s = typed(GgufType::u32);
    put_u32(s, v);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_i32(const std::string& key, std::int32_t v) {
    auto s = typed(GgufType::i32);
    put_raw(s, v);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_u64(const std::string& key, std::uint64_t v) {
    auto s = typed(GgufType::u64);
    put_u64(s, v);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_f32(const std::string& key, float v) {
    auto s = typed(GgufType::f32);
    put_raw(s, v);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_f64(const std::string& key, double v) {
    auto s = typed(GgufType::f64);
    put_raw(s, v);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_bool(const std::string& key, bool v) {
    auto s = typed(GgufType::boolean);
    s.push_back(v ? 1 : 0);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_string(const std::string& key, const std::string& v) {
    auto s = typed(GgufType::string);
    put_gguf_string(s, v);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_string_array(const std::string& key, const std::vector<std::string>& v) {
    auto s = typed(GgufType::array);
    put_u32(s, static_cast<std::uint32_t>(GgufType::string));
    put_u64(s, v.size());
    for (const auto& x : v) put_gguf_string(s, x);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_i32_array(const std::string& key, const std::vector<std::int32_t>& v) {
    auto s = typed(GgufType::array);
    put_u32(s, static_cast<std::uint32_t>(GgufType::i32));
    put_u64(s, v.size());
    for (auto x : v) put_raw(s, x);
    kv_.emplace_back(key, s);
}
void GgufWriter::add_f32_array(const std::string& key, const std::vector<float>& v) {
    auto s = typed(GgufType::array);
    put_u32(s, static_cast<std::uint32_t>(GgufType::f32));
    put_u64(s, v.size());
    for (auto x : v) put_raw(s, x);
    kv_.emplace_back(key, s);
}
namespace {
// Element i of `v` in GGUF type `t` (the reader keeps integers and bools in `ints`, floats in
// `floats`): the inverse of gguf_reader.cpp's read_element.
void put_element(std::string& out, GgufType t, const GgufValue& v, std::size_t i) {
    switch (t) {
        case GgufType::u8: case GgufType::boolean: put_raw(out, static_cast<std::uint8_t>(v.ints.at(i))); return;
        case GgufType::i8: put_raw(out, static_cast<std::int8_t>(v.ints.at(i))); return;
        case GgufType::u16: put_raw(out, static_cast<std::uint16_t>(v.ints.at(i))); return;
        case GgufType::i16: put_raw(out, static_cast<std::int16_t>(v.ints.at(i))); return;
        case GgufType::u32: put_raw(out, static_cast<std::uint32_t>(v.ints.at(i))); return;
        case GgufType::i32: put_raw(out, static_cast<std::int32_t>(v.ints.at(i))); return;
        case GgufType::u64: put_raw(out, static_cast<std::uint64_t>(v.ints.at(i))); return;
        case GgufType::i64: put_raw(out, v.ints.at(i)); return;
        case GgufType::f32: put_raw(out, static_cast<float>(v.floats.at(i))); return;  // read from an f32: exact
        case GgufType::f64: put_raw(out, v.floats.at(i)); return;
        case GgufType::string: put_gguf_string(out, v.strings.at(i)); return;
        case GgufType::array: break;
    }
    throw_internal("E5023", "GgufWriter::add_value: arrays of arrays cannot be written (GgufFile never reads one)");
}
}  // namespace

void GgufWriter::add_value(const std::string& key, const GgufValue& v) {
    auto s = typed(v.type);
    if (!v.is_array()) {
        put_element(s, v.type, v, 0);
    } else {
        put_u32(s, static_cast<std::uint32_t>(v.element_type));
        put_u64(s, v.size());
        for (std::size_t i = 0; i < v.size(); ++i) put_element(s, v.element_type, v, i);
    }
    kv_.emplace_back(key, s);
}

void GgufWriter::add_raw(const std::string& key, const std::string& type_and_value) { kv_.emplace_back(key, type_and_value); }

void GgufWriter::add_tensor(const std::string& name, std::vector<std::int64_t> ne, GgmlType type, std::string data) {
    tensors_.push_back({name, std::move(ne), static_cast<std::uint32_t>(type), std::move(data)});
}

void GgufWriter::add_f32_tensor(const std::string& name, std::vector<std::int64_t> ne, const std::vector<float>& values) {
    std::string data(values.size() * 4, '\0');
    std::memcpy(data.data(), values.data(), data.size());
    add_tensor(name, std::move(ne), GgmlType::f32, std::move(data));
}

void GgufWriter::set_alignment(std::uint32_t alignment) {
    alignment_ = alignment;
    add_u32("general.alignment", alignment);
}

std::string GgufWriter::bytes() const {
    std::string out = "GGUF";
    put_u32(out, 3);
    put_u64(out, tensors_.size());
    put_u64(out, kv_.size());
    for (const auto& [key, value] : kv_) {
        put_gguf_string(out, key);
        out += value;
    }
    const auto align = [this](std::uint64_t x) { return (x + alignment_ - 1) / alignment_ * alignment_; };
    std::uint64_t offset = 0;
    for (const auto& t : tensors_) {
        put_gguf_string(out, t.name);
        put_u32(out, static_cast<std::uint32_t>(t.ne.size()));
        for (auto d : t.ne) put_u64(out, static_cast<std::uint64_t>(d));
        put_u32(out, t.type);
        put_u64(out, offset);
        offset = align(offset + t.data.size());
    }
    out.resize(align(out.size()), '\0');
    for (const auto& t : tensors_) {
        out += t.data;
        out.resize(out.size() + (align(t.data.size()) - t.data.size()), '\0');
    }
    return out;
}

void GgufWriter::write(const std::filesystem::path& path) const { write_file_atomic(path, bytes()); }

}  // namespace halo::model
