#include "halo/mac/profile.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"

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
    j["design"] = d;
    ordered_json a;
    a["static"] = p.static_analysis;
    a["dynamic"] = p.dynamic_analysis;
    a["transitions"] = p.transitions ? ordered_json(*p.transitions) : ordered_json(nullptr);
    a["transition_set"] = p.transition_set.empty() ? ordered_json(nullptr) : ordered_json(p.transition_set);
    a["seed"] = p.seed;
    a["delay_model"] = p.delay_model;
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
        ws.push_back(std::move(r));
    }
    j["weights"] = std::move(ws);
    j["leakage_nw"] = opt(p.leakage_nw);
    return j.dump(2) + "\n";
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

void write_profile(const MacProfile& profile, const std::filesystem::path& json_path) {
    auto base = json_path;
    write_file_atomic(json_path, profile_json(profile));
    write_file_atomic(base.replace_extension(".csv"), profile_csv(profile));
    write_file_atomic(base.replace_extension(".svg"), profile_svg(profile));
}

}  // namespace halo::mac
