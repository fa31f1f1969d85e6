#include "halo/accel/design_report.hpp"

#include <nlohmann/json.hpp>

#include "halo/accel/report.hpp"

namespace halo::accel {
namespace {

nlohmann::json energy_json(const EnergyPj& e) {
    constexpr double kJPerPj = 1e-12;
    return {{"mac", e.mac * kJPerPj},   {"rescale", e.rescale * kJPerPj}, {"decode", e.decode * kJPerPj},
            {"sram", e.sram * kJPerPj}, {"dram", e.dram * kJPerPj},       {"total", e.total() * kJPerPj}};
}

nlohmann::json total_json(const DesignResult& r) {
    const DesignTotals& t = r.total;
    nlohmann::json bound = nlohmann::json::array();
    for (const auto& L : r.layers)
        if (L.bound == Bound::decode) bound.push_back(L.name);
    return {{"macs", t.macs},
            {"mac_cycles", t.mac_cycles},
            {"cycles", t.cycles},
            {"time_s", t.seconds},
            {"compute_s", t.compute_s},
            {"memory_s", t.memory_s},
            {"decode_s", t.decode_s},
            {"dram_bytes", t.dram_bytes},
            {"sram_bytes", t.sram_bytes},
            {"decoder_bound_gemms", t.decoder_bound},
            {"decoder_bound_layers", bound},
            {"energy_j", energy_json(t.energy)}};
}

}  // namespace

nlohmann::json design_report_json(const DesignResult& run, const AmoveDesign& d, const DesignResult* baseline,
                                  const DesignRunInfo& info) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& L : run.layers)
        layers.push_back({{"name", L.name},
                          {"M", L.M},
                          {"K", L.K},
                          {"N", L.N},
                          {"count", L.count},
                          {"has_weights", L.has_weights},
                          {"macs", L.macs},
                          {"mac_cycles", L.mac_cycles},
                          {"cycles", L.cycles(run.clock_hz)},
                          {"time_s", L.time_s},
                          {"compute_s", L.compute_s},
                          {"memory_s", L.memory_s},
                          {"decode_s", L.decode_s},
                          {"bound", bound_name(L.bound)},
                          {"dram_bytes", L.dram_bytes},
                          {"sram_bytes", L.sram_bytes},
                          {"decoded_values", L.decoded_values},
                          {"energy_j", energy_json(L.energy)}});
    const bool tc = run.arch == DesignArch::tensor_core;
    nlohmann::json j = {
        {"run",
         {{"arch", arch_name(run.arch)},
          {"workload", info.workload},
          {"design", run.design},
          {"baseline", baseline ? nlohmann::json(baseline->design) : nlohmann::json("none")},
          {"picked_from", info.picked_from.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.picked_from)},
          {"pick_reason", info.pick_reason.empty() ? nlohmann::json(nullptr) : nlohmann::json(info.pick_reason)},
          {"clock_hz", run.clock_hz}}},
        {"design",
         {{"name", d.name},
          {"weight_bits", d.weight_bits},
          {"act_bits", d.act_bits},
          {"attn_bits", d.attn_bits},
          {"mult_bits", d.mult_bits},
          {"decode_values_per_cycle", d.decode_values_per_cycle},
          {"area_overhead_pct", tc ? d.area_tc_pct : d.area_array_pct},
          {"source", d.source}}},
        {"layers", layers},
        {"total", total_json(run)}};
    if (baseline) {
        j["baseline"] = {{"design", baseline->design}, {"total", total_json(*baseline)}};
        const auto c = compare_design(run, *baseline);
        j["speedup"] = c.speedup;
        j["energy_ratio"] = c.energy_ratio;
        j["energy_saving"] = c.energy_saving;
    }
    return j;
}

std::string design_report_svg(const DesignResult& run, const std::string& title) {
    std::vector<LayerBar> bars;
    for (const auto& L : run.layers) bars.push_back({L.name, L.time_s, L.energy.total() * 1e-12});
    return bars_svg(bars, title);
}

}  // namespace halo::accel
