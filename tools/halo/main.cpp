// halo: the command-line front. Parses the subcommand with CLI11, runs it, and is the only
// place an error becomes an exit code: 0 ok, 1 usage, 2 bad input, 3 internal.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "blas_start.h"
#include "command.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/provenance.hpp"

int main(int argc, char** argv) {
    halo_blas_start_restore();  // OpenBLAS started no worker threads; give children the user's environment
    halo::record_command_line(std::vector<std::string>(argv, argv + argc));  // the "command" of every manifest and report
    // Named "halo" whatever the path it was started by, so help and usage read the same everywhere.
    CLI::App app{"halo: hardware-aware quantization of LLMs (characterize, quantize, eval, simulate, gpu-bench, run)", "halo"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "help for every subcommand");
    std::function<int()> action;
    for (const auto& cmd : halo::cli::command_table()) {
        CLI::App* sub = app.add_subcommand(cmd.name, cmd.summary);
        auto run = cmd.setup(*sub);
        sub->callback([&action, run] { action = run; });
    }
    // `halo help <cmd>` is the documentation of each subcommand.
    std::string help_topic;
    CLI::App* help = app.add_subcommand("help", "show help for a subcommand");
    help->add_option("command", help_topic, "the subcommand");
    help->callback([&] {
        action = [&]() -> int {
            if (help_topic.empty()) {
                // Not app.help(): with the `help` subcommand selected it would describe `help` itself.
                fmt::print("{}", app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal));
                return 0;
            }
            try {
                fmt::print("{}", app.get_subcommand(help_topic)->help(app.get_name()));
            } catch (const CLI::OptionNotFound&) {
                fmt::print(stderr, "halo: unknown command '{}'\n", help_topic);
                return 1;
            }
            return 0;
        };
    });
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 1;
    }
    try {
        return action ? action() : 0;
    } catch (const halo::Error& e) {
        std::fflush(stdout);
        fmt::print(stderr, "halo: {}\n", e.diagnostic().render());
        return e.exit_code();
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "halo: error E0009: out of memory\n");
        return 3;
    } catch (const std::exception& e) {
        fmt::print(stderr, "halo: internal error E0000: {}\n", e.what());
        return 3;
    }
}
