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

MacEnergyTable mac_energy_table(const mac::MacProfile& p, const std::string& file) {
    auto bad = [&](const std::string& place, const std::string& msg, const std::string& expected, const std::string& found) {
        throw_bad_input_at("E7030", file, place, msg, expected, found,
                           "give the profile.json written by `halo characterize` with the energy analysis");
    };
    MacEnergyTable t;
    t.weight_format = p.weight_format.empty() ? "int8" : p.weight_format;
    t.weight_bits = p.weight_bits;
    t.nominal_voltage_v = p.nominal_voltage_v > 0 ? p.nominal_voltage_v : 1.8;
    t.leakage_nw = p.leakage_nw.value_or(0);
    t.energy_fj.assign(std::size_t{1} << t.weight_bits, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t i = 0; i < p.weights.size(); ++i) {
        const auto& w = p.weights[i];
        if (!w.energy_fj)
            bad(fmt::format("weights[{}].energy_fj", i), "no switching energy", "a number (run the energy analysis)", "null");
        t.energy_fj[w.code] = *w.energy_fj;
    }
    return t;
}

MacEnergyTable parse_mac_profile(const nlohmann::json& j, const std::string& file) {
    return mac_energy_table(mac::parse_profile(j, file), file);
}

MacEnergyTable read_mac_profile(const std::filesystem::path& path) {
    return mac_energy_table(mac::read_profile(path), path.string());
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
        {"codebook_lookup_pj", &EnergyConstants::codebook_lookup_pj},
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
