// The simulator config file (JSON, docs/formats.md "Simulator config"): overrides of the array,
// the DVFS table and the energy constants. Unknown keys are errors (E7031) so typos surface.
// accel owns the format: apply/read_simulator_config is its one reader, simulator_config_json /
// write_simulator_config its one writer (a HALO directory's DIR/sim_config.json is written here).
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "halo/accel/simulate.hpp"

namespace halo::accel {

void apply_simulator_config(SystolicOptions& options, const nlohmann::json& j, const std::string& file);
void read_simulator_config(SystolicOptions& options, const std::filesystem::path& path);
// The machine of `options` as a complete config (array, dvfs, energy, activation_level when set):
// reading it onto default options gives back the same array, DVFS table and energy constants.
// The MAC energy table is not part of it (that is the MAC profile, mac/profile.hpp).
nlohmann::json simulator_config_json(const SystolicOptions& options);
void write_simulator_config(const std::filesystem::path& path, const SystolicOptions& options);

}  // namespace halo::accel
