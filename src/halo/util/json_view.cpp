#include "halo/util/json_view.hpp"

#include <cmath>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo {
namespace {

using nlohmann::json;

// Printable ASCII as is, every other byte as \xNN: a diagnostic line stays one valid line.
std::string printable(std::string_view s, std::size_t max_bytes) {
    std::string out;
    for (std::size_t i = 0; i < s.size() && i < max_bytes; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') out.push_back(static_cast<char>(c));
        else out += fmt::format("\\x{:02x}", c);
    }
    if (s.size() > max_bytes) out += fmt::format("... ({} bytes)", s.size());
    return out;
}

std::string child_path(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, std::size_t i) { return fmt::format("{}[{}]", parent, i); }

}  // namespace

std::string describe_json(const json& v) {
    switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::string: return "a string \"" + printable(v.get_ref<const std::string&>(), 60) + "\"";
    case json::value_t::array: return fmt::format("an array of {}", v.size());
    case json::value_t::object: return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "the integer " + v.dump();
    case json::value_t::number_float: return "the number " + v.dump();
    default: return v.type_name();
    }
}

void JsonView::wrong_type(const std::string& expected) const {
    throw_bad_input_at("E0020", file_, place(), "JSON value has the wrong type", expected, describe_json(*value_));
}

void JsonView::require_object() const {
    if (!value_->is_object()) wrong_type("an object");
}

void JsonView::require_array() const {
    if (!value_->is_array()) wrong_type("an array");
}

bool JsonView::has(std::string_view key) const {
    require_object();
    const auto it = value_->find(key);
    return it != value_->end() && !it->is_null();
}

JsonView JsonView::at(std::string_view key) const {
    if (!has(key))
        throw_bad_input_at("E0021", file_, child_path(path_, key), "required JSON key is missing", "a value", "none");
    return JsonView(*value_->find(key), file_, child_path(path_, key));
}

std::size_t JsonView::size() const {
    require_array();
    return value_->size();
}

JsonView JsonView::at(std::size_t index) const {
    if (index >= size())
        throw_bad_input_at("E0025", file_, index_path(path_, index), "JSON array is too short",
                           fmt::format("at least {} elements", index + 1), fmt::format("{}", value_->size()));
    return JsonView((*value_)[index], file_, index_path(path_, index));
}

std::vector<JsonView> JsonView::elements() const {
    require_array();
    std::vector<JsonView> out;
    out.reserve(value_->size());
    for (std::size_t i = 0; i < value_->size(); ++i) out.emplace_back((*value_)[i], file_, index_path(path_, i));
    return out;
}

std::vector<std::pair<std::string, JsonView>> JsonView::members() const {
    require_object();
    std::vector<std::pair<std::string, JsonView>> out;
    for (const auto& [k, v] : value_->items()) out.emplace_back(k, JsonView(v, file_, child_path(path_, k)));
    return out;
}

std::int64_t JsonView::integer(std::int64_t lo, std::int64_t hi) const {
    const json& v = *value_;
    std::int64_t x = 0;
    if (v.is_number_integer() && !v.is_number_unsigned()) {
        x = v.get<std::int64_t>();
    } else if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(hi))
            throw_bad_input_at("E0022", file_, place(), "JSON number is out of range", fmt::format("{}..{}", lo, hi), v.dump());
        x = static_cast<std::int64_t>(u);
    } else if (v.is_number_float()) {
        const double d = v.get<double>();
        // 2.0 is an integer written as a float; 2.5 is not one, and 1e300 is out of any range.
        if (!std::isfinite(d) || d != std::floor(d)) wrong_type("an integer");
        if (d < static_cast<double>(lo) || d > static_cast<double>(hi))
            throw_bad_input_at("E0022", file_, place(), "JSON number is out of range", fmt::format("{}..{}", lo, hi), v.dump());
        x = static_cast<std::int64_t>(d);
    } else {
        wrong_type("an integer");
    }
    if (x < lo || x > hi)
        throw_bad_input_at("E0022", file_, place(), "JSON number is out of range", fmt::format("{}..{}", lo, hi), v.dump());
    return x;
}

double JsonView::number(double lo, double hi) const {
    if (!value_->is_number()) wrong_type("a number");
    const double d = value_->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
        throw_bad_input_at("E0022", file_, place(), "JSON number is out of range", fmt::format("a finite number in [{}, {}]", lo, hi),
                           value_->dump());
    return d;
}

std::string JsonView::string() const {
    if (!value_->is_string()) wrong_type("a string");
    return value_->get<std::string>();
}

bool JsonView::boolean() const {
    if (!value_->is_boolean()) wrong_type("true or false");
    return value_->get<bool>();
}

std::int64_t JsonView::integer_or(std::string_view key, std::int64_t fallback, std::int64_t lo, std::int64_t hi) const {
    return has(key) ? at(key).integer(lo, hi) : fallback;
}

double JsonView::number_or(std::string_view key, double fallback, double lo, double hi) const {
    return has(key) ? at(key).number(lo, hi) : fallback;
}

std::string JsonView::string_or(std::string_view key, std::string fallback) const {
    return has(key) ? at(key).string() : fallback;
}

bool JsonView::boolean_or(std::string_view key, bool fallback) const {
    return has(key) ? at(key).boolean() : fallback;
}

namespace {

bool valid_utf8(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        int n = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) n = 0, cp = c;
        else if ((c & 0xe0) == 0xc0) n = 1, cp = c & 0x1f;
        else if ((c & 0xf0) == 0xe0) n = 2, cp = c & 0x0f;
        else if ((c & 0xf8) == 0xf0) n = 3, cp = c & 0x07;
        else return false;
        if (n > 0 && i + static_cast<std::size_t>(n) >= s.size()) return false;  // cut short
        for (int k = 1; k <= n; ++k) {
            const auto d = static_cast<unsigned char>(s[i + k]);
            if ((d & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (d & 0x3f);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += static_cast<std::size_t>(n) + 1;
    }
    return true;
}

// The key path and bytes of the first string (key or value) in `j` that is not UTF-8.
template <class Json>
bool find_bad_utf8(const Json& j, const std::string& path, std::string& where, std::string& bytes) {
    if (j.is_string()) {
        const auto& s = j.template get_ref<const std::string&>();
        if (valid_utf8(s)) return false;
        where = path.empty() ? "(top)" : path;
        bytes = s;
        return true;
    }
    if (j.is_array()) {
        for (std::size_t i = 0; i < j.size(); ++i)
            if (find_bad_utf8(j[i], index_path(path, i), where, bytes)) return true;
    } else if (j.is_object()) {
        for (const auto& [k, v] : j.items()) {
            if (!valid_utf8(k)) {
                where = child_path(path, "(key)");
                bytes = k;
                return true;
            }
            if (find_bad_utf8(v, child_path(path, k), where, bytes)) return true;
        }
    }
    return false;
}

template <class Json>
std::string dump_checked(const Json& j, int indent, const std::string& out) {
    std::string where, bytes;
    if (find_bad_utf8(j, "", where, bytes))
        throw_bad_input_at("E0023", out == "-" ? "--json (stdout)" : out, where, "a name to be written into JSON output is not UTF-8 text",
                           "UTF-8 text (rename the input file or tensor)", "\"" + printable(bytes, 120) + "\"");
    return j.dump(indent);
}

}  // namespace

std::string dump_json(const nlohmann::json& j, int indent, const std::string& out) { return dump_checked(j, indent, out); }
std::string dump_json(const nlohmann::ordered_json& j, int indent, const std::string& out) { return dump_checked(j, indent, out); }

}  // namespace halo
