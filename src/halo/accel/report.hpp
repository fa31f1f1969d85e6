// Simulator output: the JSON document (docs/formats.md "Simulator output") and an SVG bar plot
// of per-layer time and energy.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "halo/accel/simulate.hpp"

namespace halo::accel {

struct RunInfo {
    std::string arch;      // "systolic" or "gpu"
    std::string workload;  // model name or topology file
    std::string baseline;  // what the baseline run is
};

// {"layers": [...], "total": {...}, "baseline": {...}, "speedup": x, "energy_ratio": y, "run": {...}}
nlohmann::json report_json(const SimResult& run, const SimResult* baseline, const RunInfo& info);
std::string report_svg(const SimResult& run, const std::string& title);

// The plot itself: two bars per layer (time, energy), each scaled to its own maximum.
struct LayerBar {
    std::string name;
    double time_s = 0, energy_j = 0;
};
std::string bars_svg(const std::vector<LayerBar>& bars, const std::string& title);

}  // namespace halo::accel
