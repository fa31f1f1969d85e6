#include "halo/mac/profile_reader.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {

namespace {

using nlohmann::json;

class FieldReader {
public:
    explicit FieldReader(const std::string& file) : file_(file) {}

    const json& need(const json& o, const char* key, const std::string& where) const {
        if (!o.is_object() || !o.contains(key))
            throw_bad_input_at("E4531", file_, where, fmt::format("MAC profile lacks \"{}\"", key), key, "nothing");
        return o.at(key);
    }
    template <class T>
    T get(const json& o, const char* key, const std::string& where) const {
        const json& v = need(o, key, where);
        try {
            return v.get<T>();
        } catch (const json::exception&) {
            throw_bad_input_at("E4532", file_, fmt::format("{}.{}", where, key), "MAC profile field has the wrong type",
                               "docs/formats.md \"MAC profile\"", v.dump());
        }
    }
    // A field that may be null (written as null when unknown or not finite).
    template <class T>
    std::optional<T> optional(const json& o, const char* key, const std::string& where) const {
        if (!o.is_object() || !o.contains(key) || o.at(key).is_null()) return std::nullopt;
        return get<T>(o, key, where);
    }
    std::string text_or_empty(const json& o, const char* key, const std::string& where) const {
        return optional<std::string>(o, key, where).value_or("");
    }

private:
    const std::string& file_;
};

std::uint64_t parse_code(const std::string& bits, int weight_bits, const std::string& file, const std::string& where) {
    const bool ok = !bits.empty() && static_cast<int>(bits.size()) == weight_bits &&
                    bits.find_first_not_of("01") == std::string::npos && weight_bits <= 64;
    if (!ok)
        throw_bad_input_at("E4533", file, where, "weight code is not a bit string of weight_bits bits",
                           fmt::format("{} characters 0/1", weight_bits), bits);
    std::uint64_t code = 0;
    for (char c : bits) code = (code << 1) | static_cast<std::uint64_t>(c == '1');
    return code;
}

}  // namespace

MacProfile parse_profile_json(std::string_view text, const std::string& file) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        throw_bad_input_at("E4530", file, fmt::format("byte {}", e.byte), "MAC profile is not valid JSON", "JSON", e.what());
    }
    if (!j.is_object() || j.value("format", json("")) != "halo-mac-profile")
        throw_bad_input_at("E4534", file, "format", "not a halo MAC profile", "\"format\": \"halo-mac-profile\"",
                           j.is_object() && j.contains("format") ? j.at("format").dump() : "no format field");
    const FieldReader r(file);
    MacProfile p;
    const json& d = r.need(j, "design", "");
    p.mac = r.get<std::string>(d, "mac", "design");
    p.arch = r.text_or_empty(d, "arch", "design");
    p.weight_format = r.get<std::string>(d, "weight_format", "design");
    p.weight_bits = r.get<int>(d, "weight_bits", "design");
    p.activation_format = r.text_or_empty(d, "activation_format", "design");
    p.accumulator_bits = r.optional<int>(d, "accumulator_bits", "design").value_or(0);
    p.top = r.get<std::string>(d, "top", "design");
    p.netlist = r.get<std::string>(d, "netlist", "design");
    p.liberty = r.get<std::string>(d, "liberty", "design");
    p.library = r.get<std::string>(d, "library", "design");
    p.nominal_voltage_v = r.get<double>(d, "nominal_voltage_v", "design");
    p.load_pf = r.get<double>(d, "load_pf", "design");
    p.cells = r.get<std::size_t>(d, "cells", "design");
    p.area_um2 = r.get<double>(d, "area_um2", "design");
    p.nominal_delay_ns = r.optional<double>(d, "nominal_delay_ns", "design");
    const json& a = r.need(j, "analysis", "");
    p.static_analysis = r.get<bool>(a, "static", "analysis");
    p.dynamic_analysis = r.get<bool>(a, "dynamic", "analysis");
    p.transitions = r.optional<std::uint64_t>(a, "transitions", "analysis");
    p.transition_set = r.text_or_empty(a, "transition_set", "analysis");
    p.seed = r.get<std::uint64_t>(a, "seed", "analysis");
    p.delay_model = r.get<std::string>(a, "delay_model", "analysis");
    const json& ws = r.need(j, "weights", "");
    if (!ws.is_array()) throw_bad_input_at("E4535", file, "weights", "MAC profile weights are not a list", "a list", ws.type_name());
    p.weights.reserve(ws.size());
    for (std::size_t i = 0; i < ws.size(); ++i) {
        const std::string where = fmt::format("weights[{}]", i);
        const json& w = ws[i];
        ProfileWeight pw;
        pw.code = parse_code(r.get<std::string>(w, "code", where), p.weight_bits, file, where + ".code");
        pw.value = r.optional<double>(w, "value", where);
        pw.static_delay_ns = r.optional<double>(w, "static_delay_ns", where);
        pw.dynamic_delay_ns = r.optional<double>(w, "dynamic_delay_ns", where);
        pw.data_delay_max_ns = r.optional<double>(w, "data_delay_max_ns", where);
        pw.data_delay_p999_ns = r.optional<double>(w, "data_delay_p999_ns", where);
        pw.energy_fj = r.optional<double>(w, "energy_fj", where);
        p.weights.push_back(pw);
    }
    p.leakage_nw = r.optional<double>(j, "leakage_nw", "");
    return p;
}

MacProfile read_profile_file(const std::filesystem::path& path) {
    return parse_profile_json(read_file(path), path.string());
}

}  // namespace halo::mac
