// A halo subcommand: a name, a one-line summary, a function that declares its options on a
// CLI11 sub-app, and run(), which calls the library. The list lives in command_table.cpp.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace halo::cli {

struct Command {
    std::string name;
    std::string summary;
    // Declares the options on `app` and returns the action to run after parsing. The action
    // returns the process exit code (0 ok); errors are thrown as halo::Error.
    std::function<std::function<int()>(CLI::App& app)> setup;
};

const std::vector<Command>& command_table();

}  // namespace halo::cli
