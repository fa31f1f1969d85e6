// `halo simulate --design` output (docs/formats.md "Simulator output", design runs): the JSON
// document of a DesignResult and its baseline.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "halo/accel/design_sim.hpp"

namespace halo::accel {

struct DesignRunInfo {
    std::string workload;      // model name and phase, or topology file
    std::string picked_from;   // manifest the design was picked from ("" = --design)
    std::string pick_reason;   // the manifest fields that picked it
};

// {"run": {...}, "design": {...}, "layers": [...], "total": {...}, and with a baseline:
//  "baseline": {"design", "total"}, "speedup", "energy_ratio" (run / baseline), "energy_saving" (baseline / run)}
nlohmann::json design_report_json(const DesignResult& run, const AmoveDesign& design, const DesignResult* baseline,
                                  const DesignRunInfo& info);
// Per-layer time and energy bars (report.hpp's bars_svg).
std::string design_report_svg(const DesignResult& run, const std::string& title);

}  // namespace halo::accel
