#include "halo/util/paths.hpp"

#include <cstdlib>

namespace halo {

std::filesystem::path data_dir() {
    if (const char* env = std::getenv("HALO_DATA"); env && *env) return env;
    return HALO_DEFAULT_DATA_DIR;
}

std::filesystem::path shared_dir() {
    if (const char* env = std::getenv("HALO_SHARED"); env && *env) return env;
    return HALO_DEFAULT_SHARED_DIR;
}

}  // namespace halo
