#include <fmt/format.h>

#include "commands.hpp"
#include "halo/util/paths.hpp"
#include "halo/util/provenance.hpp"

namespace halo::cli {

Command version_command() {
    return {"version", "print halo's version and where it looks for installed data",
            [](CLI::App& app) -> std::function<int()> {
                return [] {
                    fmt::print("halo {} (commit {})\ndata dir: {}\nshared dir: {}\n", halo_version(), git_commit(), data_dir().string(),
                               shared_dir().string());
                    return 0;
                };
            }};
}

}  // namespace halo::cli
