// Runs the built `halo` binary (path from CMake) as a user would and captures what it prints.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace halo::test {

struct CliResult {
    int exit_code = -1;
    std::string out;  // stdout
    std::string err;  // stderr
};

// `halo <args...>` with the working directory `cwd`; stdout and stderr captured separately.
CliResult run_halo(const std::vector<std::string>& args, const std::filesystem::path& cwd);

// A fresh, empty directory under the test temp dir, named after the running test.
std::filesystem::path fresh_dir();

std::string read_text(const std::filesystem::path& path);

}  // namespace halo::test
