#include "halo/accel/sim_config.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {

void apply_simulator_config(SystolicOptions& o, const nlohmann::json& j, const std::string& file) {
    auto bad = [&](const std::string& key, const std::string& expected, const std::string& found) {
        throw_bad_input("E7031", file, 0, "bad simulator config key " + key, expected, found,
                        "see docs/formats.md \"Simulator config\"");
    };
    if (!j.is_object()) bad("(top)", "an object", j.type_name());
    try {
        for (const auto& [sec, v] : j.items()) {
            if (sec == "array") {
                for (const auto& [k, x] : v.items()) {
                    if (k == "rows") o.array.rows = x.get<int>();
                    else if (k == "cols") o.array.cols = x.get<int>();
                    else if (k == "dataflow") o.array.dataflow = parse_dataflow(x.get<std::string>());
                    else if (k == "ifmap_sram_kb") o.array.ifmap_sram_kb = x.get<std::int64_t>();
                    else if (k == "filter_sram_kb") o.array.filter_sram_kb = x.get<std::int64_t>();
                    else if (k == "ofmap_sram_kb") o.array.ofmap_sram_kb = x.get<std::int64_t>();
                    else if (k == "dram_bandwidth_gbps") o.array.dram_bandwidth_gbps = x.get<double>();
                    else if (k == "word_bytes") o.array.word_bytes = x.get<int>();
                    else if (k == "psum_bytes") o.array.psum_bytes = x.get<int>();
                    else bad("array." + k, "rows, cols, dataflow, *_sram_kb, dram_bandwidth_gbps, word_bytes, psum_bytes", k);
                }
            } else if (sec == "dvfs") {
                for (const auto& [k, x] : v.items()) {
                    if (k == "levels") {
                        o.dvfs.levels.clear();
                        for (const auto& l : x)
                            o.dvfs.levels.push_back({l.value("name", fmt::format("L{}", o.dvfs.levels.size())),
                                                     l.at("freq_mhz").get<double>(), l.at("voltage_v").get<double>()});
                    } else if (k == "nominal") o.dvfs.nominal = x.get<int>();
                    else if (k == "switch_penalty_ns") o.dvfs.switch_penalty_ns = x.get<double>();
                    else if (k == "switch_energy_nj") o.dvfs.switch_energy_nj = x.get<double>();
                    else bad("dvfs." + k, "levels, nominal, switch_penalty_ns, switch_energy_nj", k);
                }
            } else if (sec == "energy") {
                apply_energy_json(o.energy, v, file);
            } else if (sec == "activation_level") {
                o.activation_level = v.get<int>();
            } else {
                bad(sec, "array, dvfs, energy or activation_level", sec);
            }
        }
    } catch (const nlohmann::json::exception& e) {
        bad("(value)", "the types of docs/formats.md", e.what());
    }
    validate(o.array);
    validate(o.dvfs);
}

void read_simulator_config(SystolicOptions& o, const std::filesystem::path& path) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw_bad_input("E7031", path.string(), 0, "simulator config is not valid JSON", "JSON", e.what());
    }
    apply_simulator_config(o, j, path.string());
}

nlohmann::json simulator_config_json(const SystolicOptions& o) {
    const auto& a = o.array;
    nlohmann::json levels = nlohmann::json::array();
    for (const auto& l : o.dvfs.levels) levels.push_back({{"name", l.name}, {"freq_mhz", l.freq_mhz}, {"voltage_v", l.voltage_v}});
    const auto& e = o.energy;
    nlohmann::json j = {
        {"array", {{"rows", a.rows}, {"cols", a.cols}, {"dataflow", std::string(traits(a.dataflow).name)},
                   {"ifmap_sram_kb", a.ifmap_sram_kb}, {"filter_sram_kb", a.filter_sram_kb}, {"ofmap_sram_kb", a.ofmap_sram_kb},
                   {"dram_bandwidth_gbps", a.dram_bandwidth_gbps}, {"word_bytes", a.word_bytes}, {"psum_bytes", a.psum_bytes}}},
        {"dvfs", {{"levels", levels}, {"nominal", o.dvfs.nominal}, {"switch_penalty_ns", o.dvfs.switch_penalty_ns},
                  {"switch_energy_nj", o.dvfs.switch_energy_nj}}},
        {"energy", {{"mac_energy_fj", e.mac_energy_fj}, {"mac_energy_scale", e.mac_energy_scale},
                    {"sram_pj_per_byte", e.sram_pj_per_byte}, {"dram_pj_per_byte", e.dram_pj_per_byte},
                    {"sram_leakage_mw_per_mb", e.sram_leakage_mw_per_mb}, {"mac_leakage_nw", e.mac_leakage_nw},
                    {"sparse_mac_energy_pj", e.sparse_mac_energy_pj}, {"sparse_bytes_per_mac", e.sparse_bytes_per_mac},
                    {"sparse_macs_per_cycle", e.sparse_macs_per_cycle}, {"zero_point_op_pj", e.zero_point_op_pj},
                    {"zero_point_add_pj", e.zero_point_add_pj}, {"zero_point_ops_per_cycle", e.zero_point_ops_per_cycle}}}};
    if (o.activation_level >= 0) j["activation_level"] = o.activation_level;
    return j;
}

void write_simulator_config(const std::filesystem::path& path, const SystolicOptions& options) {
    write_file_atomic(path, simulator_config_json(options).dump(1) + "\n");
}

}  // namespace halo::accel
