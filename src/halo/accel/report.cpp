#include "halo/accel/report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace halo::accel {

namespace {

nlohmann::json energy_json(const EnergyBreakdown& e) {
    return {{"mac", e.mac_j},       {"sram", e.sram_j},     {"dram", e.dram_j},
            {"leakage", e.leakage_j}, {"dvfs_switch", e.dvfs_switch_j}, {"sparse", e.sparse_j}, {"zero_point", e.zero_point_j},
            {"codebook_lookup", e.codebook_lookup_j}, {"total", e.total_j()}};
}

nlohmann::json total_json(const SimTotals& t) {
    return {{"cycles", t.cycles},         {"stall_cycles", t.stall_cycles}, {"macs", t.macs},
            {"sram_reads", t.sram_reads}, {"sram_writes", t.sram_writes},   {"dram_reads", t.dram_reads},
            {"dram_writes", t.dram_writes}, {"switches", t.switches},       {"time_s", t.time_s},
            {"energy_j", energy_json(t.energy)}};
}

}  // namespace

nlohmann::json report_json(const SimResult& run, const SimResult* baseline, const RunInfo& info) {
    nlohmann::json layers = nlohmann::json::array();
    for (const auto& L : run.layers) {
        const GemmStats& s = L.stats;
        layers.push_back({{"name", L.name},
                          {"M", L.M},
                          {"K", L.K},
                          {"N", L.N},
                          {"count", L.count},
                          {"cycles", s.cycles},
                          {"utilization", s.overall_util},
                          {"sram_reads", L.sram_reads},
                          {"sram_writes", L.sram_writes},
                          {"dram_reads", L.dram_reads},
                          {"dram_writes", L.dram_writes},
                          {"stall_cycles", L.stall_cycles},
                          {"switches", L.switches},
                          {"folds_per_level", L.folds_per_level},
                          {"time_s", L.time_s},
                          {"energy_j", energy_json(L.energy)},
                          {"scalesim",
                           {{"folds", s.folds},
                            {"stall_cycles", s.stall_cycles},
                            {"mapping_efficiency", s.mapping_efficiency},
                            {"compute_util", s.compute_util},
                            {"sram_ifmap_reads", s.sram_ifmap_reads},
                            {"sram_filter_reads", s.sram_filter_reads},
                            {"sram_ofmap_writes", s.sram_ofmap_writes},
                            {"dram_ofmap_writes", s.scalesim_dram_ofmap_writes}}}});
    }
    nlohmann::json j = {{"run", {{"arch", info.arch}, {"workload", info.workload}, {"baseline", info.baseline}}},
                        {"layers", layers},
                        {"total", total_json(run.total)}};
    if (baseline) {
        j["baseline"] = total_json(baseline->total);
        j["speedup"] = run.total.time_s > 0 ? baseline->total.time_s / run.total.time_s : 0.0;
        j["energy_ratio"] = baseline->total.energy.total_j() > 0 ? run.total.energy.total_j() / baseline->total.energy.total_j() : 0.0;
    }
    return j;
}

std::string bars_svg(const std::vector<LayerBar>& bars, const std::string& title) {
    // Two bar rows per layer (time, energy), each scaled to its own maximum.
    const std::size_t n = bars.size();
    const double w = 900, bar_h = 8, row_h = 22, left = 200, top = 40;
    const double h = top + row_h * static_cast<double>(n) + 30;
    double tmax = 0, emax = 0;
    for (const auto& L : bars) {
        tmax = std::max(tmax, L.time_s);
        emax = std::max(emax, L.energy_j);
    }
    auto esc = [](std::string s) {
        std::string o;
        for (char c : s) o += c == '<' ? std::string("&lt;") : c == '&' ? std::string("&amp;") : std::string(1, c);
        return o;
    };
    std::string svg = fmt::format(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n"
        "<text x=\"10\" y=\"18\" font-size=\"14\">{}</text>\n"
        "<rect x=\"{}\" y=\"24\" width=\"10\" height=\"8\" fill=\"#3b6ea5\"/><text x=\"{}\" y=\"32\">time (max {:.3g} s)</text>\n"
        "<rect x=\"{}\" y=\"24\" width=\"10\" height=\"8\" fill=\"#c8553d\"/><text x=\"{}\" y=\"32\">energy (max {:.3g} J)</text>\n",
        w, h, esc(title), left, left + 14, tmax, left + 250, left + 264, emax);
    for (std::size_t i = 0; i < n; ++i) {
        const auto& L = bars[i];
        const double y = top + row_h * static_cast<double>(i);
        const double tw = tmax > 0 ? (w - left - 20) * L.time_s / tmax : 0;
        const double ew = emax > 0 ? (w - left - 20) * L.energy_j / emax : 0;
        svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", left - 6, y + 12, esc(L.name));
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"#3b6ea5\"/>\n", left, y + 2, tw, bar_h);
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" fill=\"#c8553d\"/>\n", left, y + 2 + bar_h, ew, bar_h);
    }
    svg += "</svg>\n";
    return svg;
}

std::string report_svg(const SimResult& run, const std::string& title) {
    std::vector<LayerBar> bars;
    for (const auto& L : run.layers) bars.push_back({L.name, L.time_s, L.energy.total_j()});
    return bars_svg(bars, title);
}

}  // namespace halo::accel
