#include "halo/accel/sim_config.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::accel {

void apply_simulator_config(SystolicOptions& o, const nlohmann::json& j, const std::string& file) {
    auto bad = [&](const std::string& key, const std::string& expected, const std::string& found) {
        throw_bad_input("E7031", file, 0, "bad simulator config key " + key, expected, found,
                        "see docs/formats.md \"Simulator config\"");
    };
    // Types and ranges of the values: JsonView (E0020-E0022, naming the key path); the
    // array's and the DVFS table's consistency: validate() below.
    const JsonView top(j, file);
    if (!j.is_object()) bad("(top)", "an object", describe_json(j));
    constexpr std::int64_t kMaxSramKb = std::int64_t{1} << 40;  // 1 EB: beyond it byte counts overflow
    for (const auto& [sec, v] : top.members()) {
        if (sec == "array") {
            for (const auto& [k, x] : v.members()) {
                if (k == "rows") o.array.rows = x.int32();
                else if (k == "cols") o.array.cols = x.int32();
                else if (k == "dataflow") o.array.dataflow = parse_dataflow(x.string());
                else if (k == "ifmap_sram_kb") o.array.ifmap_sram_kb = x.integer(0, kMaxSramKb);
                else if (k == "filter_sram_kb") o.array.filter_sram_kb = x.integer(0, kMaxSramKb);
                else if (k == "ofmap_sram_kb") o.array.ofmap_sram_kb = x.integer(0, kMaxSramKb);
                else if (k == "dram_bandwidth_gbps") o.array.dram_bandwidth_gbps = x.number();
                else if (k == "word_bytes") o.array.word_bytes = x.int32(1, 64);
                else if (k == "psum_bytes") o.array.psum_bytes = x.int32(1, 64);
                else bad("array." + k, "rows, cols, dataflow, *_sram_kb, dram_bandwidth_gbps, word_bytes, psum_bytes", k);
            }
        } else if (sec == "dvfs") {
            for (const auto& [k, x] : v.members()) {
                if (k == "levels") {
                    o.dvfs.levels.clear();
                    for (const auto& l : x.elements())
                        o.dvfs.levels.push_back({l.string_or("name", fmt::format("L{}", o.dvfs.levels.size())),
                                                 l.at("freq_mhz").number(), l.at("voltage_v").number()});
                } else if (k == "nominal") o.dvfs.nominal = x.int32();
                else if (k == "switch_penalty_ns") o.dvfs.switch_penalty_ns = x.number();
                else if (k == "switch_energy_nj") o.dvfs.switch_energy_nj = x.number();
                else bad("dvfs." + k, "levels, nominal, switch_penalty_ns, switch_energy_nj", k);
            }
        } else if (sec == "energy") {
            v.require_object();
            apply_energy_json(o.energy, v.raw(), file);
        } else if (sec == "activation_level") {
            o.activation_level = v.int32();
        } else {
            bad(sec, "array, dvfs, energy or activation_level", sec);
        }
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
                    {"zero_point_add_pj", e.zero_point_add_pj}, {"zero_point_ops_per_cycle", e.zero_point_ops_per_cycle},
                    {"codebook_lookup_pj", e.codebook_lookup_pj}}}};
    if (o.activation_level >= 0) j["activation_level"] = o.activation_level;
    return j;
}

void write_simulator_config(const std::filesystem::path& path, const SystolicOptions& options) {
    write_file_atomic(path, dump_json(simulator_config_json(options), 1, path.string()) + "\n");
}

}  // namespace halo::accel
