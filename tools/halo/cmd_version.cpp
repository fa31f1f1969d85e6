#include <fmt/format.h>

#include "commands.hpp"
#include "halo/util/paths.hpp"

namespace halo::cli {

Command version_command() {
    return {"version", "print halo's version and where it looks for installed data",
            [](CLI::App& app) -> std::function<int()> {
                return [] {
                    fmt::print("halo 0.1.0\ndata dir: {}\nshared dir: {}\n", data_dir().string(), shared_dir().string());
                    return 0;
                };
            }};
}

}  // namespace halo::cli
