#include "halo/accel/energy.hpp"

#include <cmath>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {

double MacEnergyTable::mean_energy_fj() const {
    double sum = 0;
    std::size_t n = 0;
    for (double e : energy_fj)
        if (!std::isnan(e)) {
            sum += e;
            ++n;
        }
    return n ? sum / static_cast<double>(n) : 0.0;
}

double MacEnergyTable::weighted_energy_fj(const std::vector<std::uint64_t>& h) const {
    if (h.empty()) return mean_energy_fj();
    double sum = 0, n = 0;
    for (std::size_t c = 0; c < h.size() && c < energy_fj.size(); ++c) {
        if (h[c] == 0 || std::isnan(energy_fj[c])) continue;
        sum += static_cast<double>(h[c]) * energy_fj[c];
        n += static_cast<double>(h[c]);
    }
    return n > 0 ? sum / n : mean_energy_fj();
}

MacEnergyTable flat_mac_table(double mac_energy_fj, const std::string& weight_format, int bits) {
    MacEnergyTable t;
    t.weight_format = weight_format;
    t.weight_bits = bits;
    t.energy_fj.assign(std::size_t{1} << bits, mac_energy_fj);
    return t;
}

MacEnergyTable parse_mac_profile(const nlohmann::json& j, const std::string& file) {
    auto bad = [&](const std::string& place, const std::string& msg, const std::string& expected,
                   const std::string& found) -> void {
        throw_bad_input_at("E7030", file, place, msg, expected, found, "give the profile.json written by `halo characterize` with the energy analysis");
    };
    if (!j.is_object() || j.value("format", "") != "halo-mac-profile")
        bad("format", "not a halo MAC profile", "\"format\": \"halo-mac-profile\"",
            j.is_object() ? j.value("format", "(none)") : "not an object");
    MacEnergyTable t;
    const auto& d = j.at("design");
    t.weight_format = d.value("weight_format", "int8");
    t.weight_bits = d.value("weight_bits", 8);
    if (t.weight_bits < 1 || t.weight_bits > 16) bad("design.weight_bits", "weight width out of range", "1..16", std::to_string(t.weight_bits));
    t.nominal_voltage_v = d.value("nominal_voltage_v", 1.8);
    if (j.contains("leakage_nw") && j["leakage_nw"].is_number()) t.leakage_nw = j["leakage_nw"].get<double>();
    t.energy_fj.assign(std::size_t{1} << t.weight_bits, std::numeric_limits<double>::quiet_NaN());
    std::vector<bool> seen(t.energy_fj.size(), false);
    const auto& ws = j.at("weights");
    for (std::size_t i = 0; i < ws.size(); ++i) {
        const auto& w = ws[i];
        std::string place = fmt::format("weights[{}]", i);
        std::string code = w.value("code", "");
        if (static_cast<int>(code.size()) != t.weight_bits || code.find_first_not_of("01") != std::string::npos)
            bad(place + ".code", "bad code", fmt::format("{} binary digits", t.weight_bits), code);
        std::size_t c = std::stoul(code, nullptr, 2);
        if (seen[c]) bad(place + ".code", "duplicate code", "each code once", code);
        seen[c] = true;
        if (!w.contains("energy_fj") || !w["energy_fj"].is_number())
            bad(place + ".energy_fj", "no switching energy", "a number (run the energy analysis)", w.contains("energy_fj") ? w["energy_fj"].dump() : "missing");
        t.energy_fj[c] = w["energy_fj"].get<double>();
    }
    if (ws.empty()) bad("weights", "no weights", "one entry per code", "0");
    return t;
}

MacEnergyTable read_mac_profile(const std::filesystem::path& path) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw_bad_input("E7030", path.string(), 0, "profile is not valid JSON", "JSON", e.what());
    }
    try {
        return parse_mac_profile(j, path.string());
    } catch (const nlohmann::json::exception& e) {
        throw_bad_input("E7030", path.string(), 0, "profile misses a field", "the fields of docs/formats.md", e.what());
    }
}

void apply_energy_json(EnergyConstants& c, const nlohmann::json& j, const std::string& file) {
    struct Field {
        const char* key;
        double EnergyConstants::*member;
    };
    static const Field fields[] = {
        {"mac_energy_fj", &EnergyConstants::mac_energy_fj},
        {"mac_energy_scale", &EnergyConstants::mac_energy_scale},
        {"sram_pj_per_byte", &EnergyConstants::sram_pj_per_byte},
        {"dram_pj_per_byte", &EnergyConstants::dram_pj_per_byte},
        {"sram_leakage_mw_per_mb", &EnergyConstants::sram_leakage_mw_per_mb},
        {"mac_leakage_nw", &EnergyConstants::mac_leakage_nw},
        {"sparse_mac_energy_pj", &EnergyConstants::sparse_mac_energy_pj},
        {"sparse_bytes_per_mac", &EnergyConstants::sparse_bytes_per_mac},
        {"zero_point_op_pj", &EnergyConstants::zero_point_op_pj},
        {"zero_point_add_pj", &EnergyConstants::zero_point_add_pj},
    };
    for (const auto& [key, value] : j.items()) {
        if (key == "sparse_macs_per_cycle" || key == "zero_point_ops_per_cycle") {
            const bool sparse = key == "sparse_macs_per_cycle";
            if (!value.is_number_integer() || value.get<int>() < (sparse ? 1 : 0))
                throw_bad_input("E7031", file, 0, "bad energy." + key, sparse ? "a positive integer" : "an integer >= 0", value.dump());
            (sparse ? c.sparse_macs_per_cycle : c.zero_point_ops_per_cycle) = value.get<int>();
            continue;
        }
        const Field* f = nullptr;
        for (const auto& cand : fields)
            if (key == cand.key) f = &cand;
        if (!f) throw_bad_input("E7031", file, 0, "unknown key energy." + key, "a field of docs/formats.md", key);
        if (!value.is_number() || value.get<double>() < 0)
            throw_bad_input("E7031", file, 0, "bad energy." + key, "a number >= 0", value.dump());
        c.*(f->member) = value.get<double>();
    }
}

}  // namespace halo::accel
