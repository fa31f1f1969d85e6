#include "halo/mac/profile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::mac {

namespace {

using nlohmann::ordered_json;

ordered_json opt(const std::optional<double>& v) {
    return v && std::isfinite(*v) ? ordered_json(*v) : ordered_json(nullptr);
}

std::string csv_opt(const std::optional<double>& v) {
    return v && std::isfinite(*v) ? fmt::format("{:.6g}", *v) : "";
}

}  // namespace

std::string code_string(std::uint64_t code, int bits) {
    std::string s;
    for (int b = bits - 1; b >= 0; --b) s += ((code >> b) & 1u) ? '1' : '0';
    return s;
}

std::string profile_json(const MacProfile& p) {
    ordered_json j;
    j["format"] = "halo-mac-profile";
    j["version"] = 1;
    ordered_json d;
    d["mac"] = p.mac;
    d["arch"] = p.arch.empty() ? ordered_json(nullptr) : ordered_json(p.arch);
    d["weight_format"] = p.weight_format;
    d["weight_bits"] = p.weight_bits;
    d["activation_format"] = p.activation_format.empty() ? ordered_json(nullptr) : ordered_json(p.activation_format);
    d["accumulator_bits"] = p.accumulator_bits > 0 ? ordered_json(p.accumulator_bits) : ordered_json(nullptr);
    d["top"] = p.top;
    d["netlist"] = p.netlist;
    d["liberty"] = p.liberty;
    d["library"] = p.library;
    d["nominal_voltage_v"] = p.nominal_voltage_v;
    d["load_pf"] = p.load_pf;
    d["cells"] = p.cells;
    d["area_um2"] = p.area_um2;
    d["nominal_delay_ns"] = opt(p.nominal_delay_ns);
    if (p.gpu) {
        d["driver"] = p.gpu->driver;
        d["power_limit_w"] = p.gpu->power_limit_w;
        d["gemm"] = p.gpu->gemm;
        d["kind"] = p.gpu->kind;
    }
    j["design"] = d;
    ordered_json a;
    a["static"] = p.static_analysis;
    a["dynamic"] = p.dynamic_analysis;
    a["transitions"] = p.transitions ? ordered_json(*p.transitions) : ordered_json(nullptr);
    a["transition_set"] = p.transition_set.empty() ? ordered_json(nullptr) : ordered_json(p.transition_set);
    a["seed"] = p.seed;
    a["delay_model"] = p.delay_model;
    if (p.gpu) {
        a["measured"] = true;
        a["profile_mode"] = p.gpu->profile_mode;
        a["repetitions"] = p.gpu->repetitions;
        a["seconds"] = p.gpu->seconds;
        a["activation_sigma"] = p.gpu->activation_sigma;
    }
    j["analysis"] = a;
    ordered_json ws = ordered_json::array();
    for (const auto& w : p.weights) {
        ordered_json r;
        r["value"] = opt(w.value);
        r["code"] = code_string(w.code, p.weight_bits);
        r["static_delay_ns"] = opt(w.static_delay_ns);
        r["dynamic_delay_ns"] = opt(w.dynamic_delay_ns);
        r["data_delay_max_ns"] = opt(w.data_delay_max_ns);
        r["data_delay_p999_ns"] = opt(w.data_delay_p999_ns);
        r["energy_fj"] = opt(w.energy_fj);
        if (p.gpu) {
            r["tops"] = opt(w.tops);
            r["sm_mhz"] = opt(w.sm_mhz);
            r["power_w"] = opt(w.power_w);
            r["measured_as"] = w.measured_as;
        }
        ws.push_back(std::move(r));
    }
    j["weights"] = std::move(ws);
    j["leakage_nw"] = opt(p.leakage_nw);
    return dump_json(j, 2, "profile.json") + "\n";  // names from the netlist and paths may be any bytes
}

std::string profile_csv(const MacProfile& p) {
    std::string s = "value,code,static_delay_ns,dynamic_delay_ns,data_delay_max_ns,data_delay_p999_ns,energy_fj\n";
    for (const auto& w : p.weights)
        s += fmt::format("{},{},{},{},{},{},{}\n", w.value ? fmt::format("{:.9g}", *w.value) : "",
                         code_string(w.code, p.weight_bits), csv_opt(w.static_delay_ns), csv_opt(w.dynamic_delay_ns),
                         csv_opt(w.data_delay_max_ns), csv_opt(w.data_delay_p999_ns), csv_opt(w.energy_fj));
    return s;
}

std::string profile_svg(const MacProfile& p) {
    // Points with a finite value, sorted by value; FP formats span decades, so their x axis is
    // sign(v) * log2(1 + |v|).
    bool is_float = p.weight_format.rfind("fp", 0) == 0 || p.weight_format.rfind("bf", 0) == 0;
    auto x_of = [&](double v) { return is_float ? std::copysign(std::log2(1 + std::abs(v)), v) : v; };
    struct Pt {
        double x;
        std::optional<double> delay, energy;
    };
    std::vector<Pt> pts;
    for (const auto& w : p.weights)
        if (w.value && std::isfinite(*w.value))
            pts.push_back({x_of(*w.value), w.static_delay_ns ? w.static_delay_ns : w.dynamic_delay_ns, w.energy_fj});
    std::sort(pts.begin(), pts.end(), [](const Pt& a, const Pt& b) { return a.x < b.x; });
    const double W = 800, H = 420, L = 70, R = 70, T = 40, B = 50;
    auto range = [&](auto get) {
        double lo = std::numeric_limits<double>::infinity(), hi = -lo;
        for (const auto& q : pts)
            if (auto v = get(q)) lo = std::min(lo, *v), hi = std::max(hi, *v);
        if (!(lo <= hi)) lo = 0, hi = 1;
        if (hi - lo < 1e-12) hi = lo + 1;
        return std::pair{lo, hi};
    };
    auto [x0, x1] = range([](const Pt& q) { return std::optional<double>(q.x); });
    auto [d0, d1] = range([](const Pt& q) { return q.delay; });
    auto [e0, e1] = range([](const Pt& q) { return q.energy; });
    auto sx = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
    auto sy = [&](double y, double lo, double hi) { return H - B - (y - lo) / (hi - lo) * (H - T - B); };
    std::string s = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" font-family=\"sans-serif\" "
        "font-size=\"12\">\n<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n"
        "<text x=\"{2}\" y=\"20\">{3} on {4}: delay{5} vs weight value</text>\n",
        W, H, L, p.mac == "netlist" ? p.top : p.mac, p.library, pts.empty() || !pts[0].energy ? "" : " and energy");
    s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n", L, H - B, W - R);
    s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n", L, T, H - B);
    for (int i = 0; i <= 4; ++i) {
        double fx = x0 + (x1 - x0) * i / 4, fd = d0 + (d1 - d0) * i / 4;
        double vx = is_float ? std::copysign(std::exp2(std::abs(fx)) - 1, fx) : fx;
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:.4g}</text>\n", sx(fx), H - B + 18, vx);
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#1f77b4\">{:.3f}</text>\n", L - 6,
                         sy(fd, d0, d1) + 4, fd);
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">weight value{}</text>\n", (L + W - R) / 2,
                     H - 12, is_float ? " (log scale)" : "");
    s += fmt::format("<text x=\"14\" y=\"{:.1f}\" fill=\"#1f77b4\" transform=\"rotate(-90 14 {:.1f})\">delay (ns)</text>\n",
                     H / 2, H / 2);
    auto polyline = [&](auto get, double lo, double hi, const char* color) {
        std::string pl;
        for (const auto& q : pts)
            if (auto v = get(q)) pl += fmt::format("{:.1f},{:.1f} ", sx(q.x), sy(*v, lo, hi));
        if (!pl.empty())
            s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1\" points=\"{}\"/>\n", color, pl);
    };
    polyline([](const Pt& q) { return q.delay; }, d0, d1, "#1f77b4");
    if (!pts.empty() && pts[0].energy) {
        polyline([](const Pt& q) { return q.energy; }, e0, e1, "#d62728");
        for (int i = 0; i <= 4; ++i) {
            double fe = e0 + (e1 - e0) * i / 4;
            s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" fill=\"#d62728\">{:.4g}</text>\n", W - R + 6,
                             sy(fe, e0, e1) + 4, fe);
        }
        s += fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" fill=\"#d62728\" transform=\"rotate(90 {0:.1f} {1:.1f})\">"
                         "energy (fJ)</text>\n", W - 14, H / 2);
    }
    s += "</svg>\n";
    return s;
}

namespace {

[[noreturn]] void bad_profile(const std::string& file, const std::string& field, const std::string& message,
                              const std::string& expected, const std::string& found) {
    throw_bad_input_at("E4050", file, field, message, expected, found,
                       "give the profile.json written by `halo characterize` (docs/formats.md \"MAC profile\")");
}

std::optional<double> opt_number(const nlohmann::json& o, const char* key, const std::string& file, const std::string& place) {
    if (!o.contains(key) || o.at(key).is_null()) return std::nullopt;
    if (!o.at(key).is_number()) bad_profile(file, (place.empty() ? "" : place + ".") + key, "profile field is not a number", "a number or null", o.at(key).dump());
    return o.at(key).get<double>();
}

// A count stored as a JSON number (cells, transitions, a seed): a whole number in [0, max], so the
// cast to an integer is defined (a negative or 1e300 "cells" was undefined behaviour).
std::optional<double> opt_count(const nlohmann::json& o, const char* key, const std::string& file, const std::string& place,
                                double max) {
    const auto v = opt_number(o, key, file, place);
    if (v && !(*v >= 0 && *v <= max && *v == std::floor(*v)))
        bad_profile(file, (place.empty() ? "" : place + ".") + key, "profile count is not a whole number in range",
                    fmt::format("0..{}", max), o.at(key).dump());
    return v;
}

std::string opt_string(const nlohmann::json& o, const char* key, const std::string& file, const std::string& place) {
    if (!o.contains(key) || o.at(key).is_null()) return {};
    if (!o.at(key).is_string()) bad_profile(file, (place.empty() ? "" : place + ".") + key, "profile field is not a string", "a string or null", o.at(key).dump());
    return o.at(key).get<std::string>();
}

std::uint64_t parse_code(const nlohmann::json& c, int bits, const std::string& file, const std::string& place) {
    const std::uint64_t n = std::uint64_t{1} << bits;
    if (c.is_number_unsigned() && c.get<std::uint64_t>() < n) return c.get<std::uint64_t>();
    const std::string s = c.is_string() ? c.get<std::string>() : c.dump();
    if (!c.is_string() || static_cast<int>(s.size()) != bits || s.find_first_not_of("01") != std::string::npos)
        bad_profile(file, place, "bad weight code", fmt::format("{} binary digits, e.g. \"{}\"", bits, code_string(n >> 1, bits)), s);
    return std::stoull(s, nullptr, 2);
}

}  // namespace

MacProfile parse_profile(const nlohmann::json& j, const std::string& file) {
    if (!j.is_object() || !j.contains("format") || j.at("format") != "halo-mac-profile")
        bad_profile(file, "format", "not a halo MAC profile", "\"format\": \"halo-mac-profile\"",
                    j.is_object() ? (j.contains("format") ? j.at("format").dump() : "(none)") : j.type_name());
    if (!j.contains("design") || !j.at("design").is_object())
        bad_profile(file, "design", "MAC profile lacks the design object", "an object", j.contains("design") ? j.at("design").dump() : "missing");
    const auto& d = j.at("design");
    MacProfile p;
    if (!d.contains("weight_bits") || !d.at("weight_bits").is_number_integer() || d.at("weight_bits").get<int>() < 1 ||
        d.at("weight_bits").get<int>() > 16)
        bad_profile(file, "design.weight_bits", "weight width missing or out of range", "an integer 1..16",
                    d.contains("weight_bits") ? d.at("weight_bits").dump() : "missing");
    p.weight_bits = d.at("weight_bits").get<int>();
    if (auto s = opt_string(d, "mac", file, "design"); !s.empty()) p.mac = s;
    p.arch = opt_string(d, "arch", file, "design");
    p.weight_format = opt_string(d, "weight_format", file, "design");
    p.activation_format = opt_string(d, "activation_format", file, "design");
    p.accumulator_bits = static_cast<int>(opt_count(d, "accumulator_bits", file, "design", 1024).value_or(0));
    p.top = opt_string(d, "top", file, "design");
    p.netlist = opt_string(d, "netlist", file, "design");
    p.liberty = opt_string(d, "liberty", file, "design");
    p.library = opt_string(d, "library", file, "design");
    p.nominal_voltage_v = opt_number(d, "nominal_voltage_v", file, "design").value_or(0);
    p.load_pf = opt_number(d, "load_pf", file, "design").value_or(p.load_pf);
    p.cells = static_cast<std::size_t>(opt_count(d, "cells", file, "design", 9007199254740992.0).value_or(0));
    p.area_um2 = opt_number(d, "area_um2", file, "design").value_or(0);
    p.nominal_delay_ns = opt_number(d, "nominal_delay_ns", file, "design");
    const nlohmann::json a = j.contains("analysis") && j.at("analysis").is_object() ? j.at("analysis") : nlohmann::json::object();
    p.static_analysis = a.contains("static") && a.at("static").is_boolean() && a.at("static").get<bool>();
    p.dynamic_analysis = a.contains("dynamic") && a.at("dynamic").is_boolean() && a.at("dynamic").get<bool>();
    if (auto t = opt_count(a, "transitions", file, "analysis", 9007199254740992.0)) p.transitions = static_cast<std::uint64_t>(*t);
    p.transition_set = opt_string(a, "transition_set", file, "analysis");
    p.seed = static_cast<std::uint64_t>(opt_count(a, "seed", file, "analysis", 9007199254740992.0).value_or(1));
    if (auto s = opt_string(a, "delay_model", file, "analysis"); !s.empty()) p.delay_model = s;
    if (a.contains("measured") && a.at("measured") == true) {
        GpuMeasurement g;
        g.driver = opt_string(d, "driver", file, "design");
        g.power_limit_w = opt_number(d, "power_limit_w", file, "design").value_or(0);
        g.gemm = opt_string(d, "gemm", file, "design");
        g.kind = opt_string(d, "kind", file, "design");
        g.profile_mode = opt_string(a, "profile_mode", file, "analysis");
        g.repetitions = static_cast<int>(opt_count(a, "repetitions", file, "analysis", 1e9).value_or(0));
        g.seconds = opt_number(a, "seconds", file, "analysis").value_or(0);
        g.activation_sigma = opt_number(a, "activation_sigma", file, "analysis").value_or(0);
        p.gpu = g;
    }
    if (!j.contains("weights") || !j.at("weights").is_array() || j.at("weights").empty())
        bad_profile(file, "weights", "MAC profile has no weights", "one entry per code", j.contains("weights") ? j.at("weights").dump().substr(0, 40) : "missing");
    const auto& ws = j.at("weights");
    if (ws.size() > (std::size_t{1} << p.weight_bits))
        bad_profile(file, "weights", "more weight rows than codes", fmt::format("at most {}", std::size_t{1} << p.weight_bits),
                    std::to_string(ws.size()));
    std::vector<bool> seen(std::size_t{1} << p.weight_bits, false);
    for (std::size_t i = 0; i < ws.size(); ++i) {
        const auto& w = ws[i];
        const std::string place = fmt::format("weights[{}]", i);
        if (!w.is_object() || !w.contains("code")) bad_profile(file, place + ".code", "weight row lacks its code", "\"code\"", w.dump().substr(0, 60));
        ProfileWeight pw;
        pw.code = parse_code(w.at("code"), p.weight_bits, file, place + ".code");
        if (seen[pw.code]) bad_profile(file, place + ".code", "repeated weight code", "each code once", code_string(pw.code, p.weight_bits));
        seen[pw.code] = true;
        pw.value = opt_number(w, "value", file, place);
        pw.static_delay_ns = opt_number(w, "static_delay_ns", file, place);
        pw.dynamic_delay_ns = opt_number(w, "dynamic_delay_ns", file, place);
        pw.data_delay_max_ns = opt_number(w, "data_delay_max_ns", file, place);
        pw.data_delay_p999_ns = opt_number(w, "data_delay_p999_ns", file, place);
        pw.energy_fj = opt_number(w, "energy_fj", file, place);
        pw.tops = opt_number(w, "tops", file, place);
        pw.sm_mhz = opt_number(w, "sm_mhz", file, place);
        pw.power_w = opt_number(w, "power_w", file, place);
        pw.measured_as = opt_string(w, "measured_as", file, place);
        p.weights.push_back(pw);
    }
    p.leakage_nw = opt_number(j, "leakage_nw", file, "");
    return p;
}

MacProfile read_profile(const std::filesystem::path& path) {
    const std::string text = read_file(path);
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e99999
        bad_profile(path.string(), "", "MAC profile is not valid JSON", "JSON", e.what());
    }
    return parse_profile(j, path.string());
}

void write_profile(const MacProfile& profile, const std::filesystem::path& json_path) {
    auto base = json_path;
    write_file_atomic(json_path, profile_json(profile));
    write_file_atomic(base.replace_extension(".csv"), profile_csv(profile));
    write_file_atomic(base.replace_extension(".svg"), profile_svg(profile));
}

}  // namespace halo::mac
