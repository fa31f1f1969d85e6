#include "halo/hwq/ladder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::hwq {
namespace {

constexpr TimingFieldTraits kTimingFields[] = {
    {TimingField::static_delay, "static", &mac::ProfileWeight::static_delay_ns},
    {TimingField::dynamic_delay, "dynamic", &mac::ProfileWeight::dynamic_delay_ns},
};

int int_value(std::uint64_t code, int bits) {
    const auto half = std::uint64_t{1} << (bits - 1);
    return code >= half ? static_cast<int>(static_cast<std::int64_t>(code) - static_cast<std::int64_t>(half << 1))
                        : static_cast<int>(code);
}

}  // namespace

std::span<const TimingFieldTraits> timing_fields() { return kTimingFields; }

const TimingFieldTraits& timing_field(std::string_view name) {
    for (const auto& t : kTimingFields)
        if (t.name == name) return t;
    throw_bad_value("E9001", "--timing", "unknown timing model", "static or dynamic", std::string(name));
}

double VoltageModel::speed(double v) const {
    if (!(v > vt_v))
        throw_bad_value("E9002", "voltage", "the alpha-power model needs a supply above the threshold voltage",
                        fmt::format("V > Vt = {} V", vt_v), fmt::format("{} V", v));
    return std::pow(v - vt_v, alpha) / v;
}

std::vector<LevelSpec> parse_levels(std::string_view text) {
    std::vector<LevelSpec> out;
    std::stringstream in{std::string(text)};
    std::string item;
    while (std::getline(in, item, ',')) {
        const auto colon = item.find(':');
        LevelSpec s;
        try {
            if (colon == std::string::npos) throw std::invalid_argument("no colon");
            std::size_t used = 0;
            s.voltage_v = std::stod(item.substr(0, colon), &used);
            s.freq_mhz = std::stod(item.substr(colon + 1)) * 1000.0;
        } catch (const std::exception&) {
            throw_bad_value("E9003", "--levels", "a level is not VOLTS:GHZ", "e.g. 1.0:1.9,1.1:2.4,1.2:3.7", item);
        }
        if (!(s.voltage_v > 0) || !(s.freq_mhz > 0) || !std::isfinite(s.voltage_v) || !std::isfinite(s.freq_mhz))
            throw_bad_value("E9003", "--levels", "level voltage and frequency must be positive", "V > 0, GHz > 0", item);
        out.push_back(s);
    }
    if (out.empty()) throw_bad_value("E9003", "--levels", "no levels given", "VOLTS:GHZ,...", std::string(text));
    return out;
}

std::uint64_t Ladder::code_of(int v) const {
    const auto mod = std::int64_t{1} << weight_bits;
    return static_cast<std::uint64_t>(((static_cast<std::int64_t>(v) % mod) + mod) % mod);
}

double Ladder::code_fmax_mhz(std::uint64_t code, double voltage_v) const {
    return voltage.scale_freq(fmax_mhz[code], nominal_voltage_v, voltage_v);
}

bool Ladder::meets(int v, std::size_t l) const {
    const auto& lv = levels[l];
    return code_fmax_mhz(code_of(v), lv.voltage_v) >= lv.freq_mhz * (1 - 1e-12);
}

double Ladder::energy_of(int v) const { return energy_fj[code_of(v)]; }

Ladder build_ladder(const mac::MacProfile& p, const LadderOptions& o) {
    const std::string place = p.netlist.empty() ? "MAC profile" : p.netlist;
    const std::string fmt_name = p.weight_format.empty() ? fmt::format("int{}", p.weight_bits) : p.weight_format;
    if (fmt_name != o.expect_format || (fmt_name.rfind("int", 0) == 0 && fmt_name != fmt::format("int{}", p.weight_bits)))
        throw_bad_value("E9004", place, "the MAC profile's weight format differs from the quantizer's storage format",
                        o.expect_format, fmt_name, "characterize the MAC that multiplies the stored codes");
    if (p.weight_bits < 2 || p.weight_bits > 8 || p.weights.size() != (std::size_t{1} << p.weight_bits))
        throw_bad_value("E9004", place, "the profile must list every code of an integer weight port of 2..8 bits",
                        fmt::format("{} rows", std::size_t{1} << std::clamp(p.weight_bits, 0, 16)),
                        fmt::format("{} bits, {} rows", p.weight_bits, p.weights.size()));
    if (!(o.guard_band >= 0) || o.guard_band > 10)
        throw_bad_value("E9006", "--guard-band", "guard band is a non-negative fraction", "0 <= g <= 10",
                        fmt::format("{}", o.guard_band));
    const auto& tf = kTimingFields[static_cast<std::size_t>(o.timing)];
    Ladder L;
    L.weight_format = fmt_name;
    L.weight_bits = p.weight_bits;
    L.nominal_voltage_v = p.nominal_voltage_v > 0 ? p.nominal_voltage_v : 1.8;
    L.timing = std::string(tf.name);
    L.guard_band = o.guard_band;
    L.voltage = o.voltage;
    const std::size_t n = p.weights.size();
    L.value.assign(n, 0);
    L.delay_ns.assign(n, 0);
    L.fmax_mhz.assign(n, 0);
    L.energy_fj.assign(n, std::numeric_limits<double>::quiet_NaN());
    std::vector<bool> seen(n, false);
    for (const auto& w : p.weights) {
        if (w.code >= n || seen[w.code])
            throw_bad_value("E9005", place, "profile code out of range or repeated", fmt::format("0..{}", n - 1),
                            fmt::format("{}", w.code));
        seen[w.code] = true;
        const auto& d = w.*(tf.field);
        if (!d || !(*d > 0))
            throw_bad_value("E9005", place, fmt::format("profile has no {} delay for code {}", tf.name, w.code),
                            "a positive delay_ns", "null", fmt::format("characterize with --analysis {}", tf.name == "static" ? "static" : "dynamic"));
        L.value[w.code] = int_value(w.code, p.weight_bits);
        L.delay_ns[w.code] = *d;
        L.fmax_mhz[w.code] = 1e3 / (*d * (1 + o.guard_band));
        if (w.energy_fj) L.energy_fj[w.code] = *w.energy_fj;
    }
    const double vnom = L.nominal_voltage_v;
    std::vector<LevelSpec> specs = o.levels;
    if (specs.empty()) {
        if (o.counts.empty()) throw_bad_value("E9003", "--counts", "no levels to derive", "e.g. 0,16,9", "none");
        if (!o.voltage_factors.empty() && o.voltage_factors.size() != o.counts.size())
            throw_bad_value("E9085", "--level-voltages", "one voltage factor per derived level (as many as --counts)",
                            fmt::format("{} factors", o.counts.size()), fmt::format("{} factors", o.voltage_factors.size()));
        for (double fv : o.voltage_factors)
            if (!std::isfinite(fv) || !(fv > 0) || fv > 4)
                throw_bad_value("E9086", "--level-voltages", "a level's voltage factor is a multiple of the nominal voltage",
                                "0 < factor <= 4", fmt::format("{}", fv));
        for (std::size_t i = 0; i < o.counts.size(); ++i) {
            const double v = vnom * (o.voltage_factors.empty() ? 1 + o.voltage_step * static_cast<double>(i) : o.voltage_factors[i]);
            std::vector<double> f(n);
            for (std::size_t c = 0; c < n; ++c) f[c] = L.code_fmax_mhz(c, v);
            std::sort(f.begin(), f.end(), std::greater<>());
            const int want = o.counts[i];
            if (want < 0 || static_cast<std::size_t>(want) > n)
                throw_bad_value("E9003", "--counts", "a level's code count is out of range", fmt::format("0..{}", n),
                                fmt::format("{}", want));
            const std::size_t k = want == 0 ? n : static_cast<std::size_t>(want);
            specs.push_back({v, f[k - 1]});
        }
    }
    std::sort(specs.begin(), specs.end(), [](const LevelSpec& a, const LevelSpec& b) { return a.freq_mhz < b.freq_mhz; });
    for (std::size_t i = 0; i < specs.size(); ++i) {
        Level lv;
        lv.name = fmt::format("L{}", i);
        lv.voltage_v = specs[i].voltage_v;
        lv.freq_mhz = specs[i].freq_mhz;
        L.levels.push_back(lv);
        for (std::size_t c = 0; c < n; ++c)
            if (L.meets(L.value[c], i)) L.levels.back().values.push_back(L.value[c]);
        std::sort(L.levels.back().values.begin(), L.levels.back().values.end());
        if (L.levels.back().values.empty()) {
            double best = 0;
            for (std::size_t c = 0; c < n; ++c) best = std::max(best, L.code_fmax_mhz(c, specs[i].voltage_v));
            throw_bad_value("E9007", "--levels", fmt::format("no weight code meets level {} ({} V, {:.1f} MHz)", i,
                                                             specs[i].voltage_v, specs[i].freq_mhz),
                            fmt::format("a clock <= {:.1f} MHz at {} V (the fastest code, guard band {})", best,
                                        specs[i].voltage_v, o.guard_band),
                            fmt::format("{:.1f} MHz", specs[i].freq_mhz),
                            "levels are in the profile's technology; omit --levels to derive them");
        }
    }
    return L;
}

nlohmann::json ladder_json(const Ladder& L) {
    nlohmann::json levels = nlohmann::json::array();
    for (const auto& lv : L.levels)
        levels.push_back({{"name", lv.name}, {"voltage_v", lv.voltage_v}, {"freq_mhz", lv.freq_mhz}, {"values", lv.values}});
    return {{"weight_format", L.weight_format}, {"timing", L.timing}, {"guard_band", L.guard_band},
            {"nominal_voltage_v", L.nominal_voltage_v},
            {"voltage_model", {{"law", "alpha-power"}, {"vt_v", L.voltage.vt_v}, {"alpha", L.voltage.alpha}}},
            {"levels", levels}};
}

}  // namespace halo::hwq
