// Where halo finds what the setup script installed: models and texts under the data directory
// ($HALO_DATA, else the build's configured data/), and the project's shared/ folder.
#pragma once

#include <filesystem>

namespace halo {

std::filesystem::path data_dir();
std::filesystem::path shared_dir();

}  // namespace halo
