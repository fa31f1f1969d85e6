// The simulator config file (JSON, docs/formats.md "Simulator config"): overrides of the array,
// the DVFS table and the energy constants. Unknown keys are errors (E7031) so typos surface.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "halo/accel/simulate.hpp"

namespace halo::accel {

// Parses "RxC" (e.g. "128x128"); E7002 otherwise.
void parse_array_shape(const std::string& text, ArrayConfig& array);
void apply_simulator_config(SystolicOptions& options, const nlohmann::json& j, const std::string& file);
void read_simulator_config(SystolicOptions& options, const std::filesystem::path& path);

}  // namespace halo::accel
