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

namespace {

// True if `name` is an option of the subcommand named on the line that takes a value (not a flag).
bool takes_value(const CLI::App& app, const std::vector<std::string>& args, const std::string& name) {
    for (const auto& a : args) {
        if (a.starts_with("-")) continue;
        const auto subs = app.get_subcommands([&a](const CLI::App* s) { return s->get_name() == a; });
        if (subs.empty()) return false;
        const CLI::App* sub = subs.front();
        const CLI::Option* opt = sub->get_option_no_throw(name);
        return opt != nullptr && opt->get_items_expected_min() > 0;
    }
    return false;
}

// The arguments for CLI11, in the reversed order its vector parse takes. "--name=" (an empty
// value written with '=') for an option that takes a value becomes "--name" and "": CLI11 read it
// as the option without its value and took the NEXT argument as the value (`--baselines= --seedz`
// quietly ran with baselines "--seedz"), where the user asked for an empty value. Flags keep
// CLI11's reading.
std::vector<std::string> cli_args(const CLI::App& app, int argc, char** argv) {
    const std::vector<std::string> given(argv + 1, argv + argc);
    std::vector<std::string> args;
    for (const auto& a : given) {
        const std::string name = a.substr(0, a.size() - 1);
        if (a.size() > 3 && a.starts_with("--") && a.find('=') == a.size() - 1 && takes_value(app, given, name)) {
            args.push_back(name);
            args.emplace_back();
        } else {
            args.push_back(a);
        }
    }
    return {args.rbegin(), args.rend()};
}

}  // namespace

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
        std::vector<std::string> args = cli_args(app, argc, argv);
        app.parse(args);
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
