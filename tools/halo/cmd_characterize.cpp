// `halo characterize`: per-weight delay (and energy) profile of a MAC. All logic is in
// halo/mac/characterize.hpp; this parses flags and prints a summary.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "commands.hpp"
#include "flags.hpp"
#include "menus.hpp"
#include "halo/mac/characterize.hpp"
#include "halo/util/diagnostics.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {

Command characterize_command() {
    return {"characterize", "per-weight critical path (and energy) of a MAC on a Liberty library -> profile.json",
            [](CLI::App& app) -> std::function<int()> {
                struct Flags {
                    mac::CharacterizeOptions o;
                    std::string analysis = "static";
                    std::string out = "profile.json";
                    bool quiet = false;
                };
                auto f = std::make_shared<Flags>();
                auto* netlist = app.add_option("--netlist", f->o.netlist_json, "Yosys write_json netlist of the MAC");
                auto* top = app.add_option("--top", f->o.top, "top module (default: the netlist's top)");
                auto* weight_port = app.add_option("--weight-port", f->o.weight_port, "the MAC's weight input port")->capture_default_str();
                auto* weight_format = app.add_option("--weight-format", f->o.weight_format,
                                                     "how codes decode to values: intN, uintN (any width N) or " +
                                                         menu_text(weight_format_names()) + " (default int<width>)");
                auto* builtin = app.add_option("--mac", f->o.builtin_mac, "built-in MAC: " + menu_text(mac_names()))
                                    ->excludes(netlist);
                auto* arch = app.add_option("--mac-arch", f->o.arch, "multiplier architecture of a built-in MAC: " + menu_text(mac_arch_names()))
                                 ->capture_default_str();
                auto* work_dir = app.add_option("--work-dir", f->o.work_dir, "synthesis cache for built-in MACs")->capture_default_str();
                app.add_option("--liberty", f->o.liberty, "Liberty cell library (.lib)")->required();
                app.add_option("--analysis", f->analysis, "static, dynamic or both")->capture_default_str();
                auto* transitions = app.add_option("--transitions", f->o.transitions,
                                                   "data-dependent transitions per weight (dynamic); 0 = every activation pair (<= 8-bit "
                                                   "activations, else 65536 sampled)")
                    ->check(integer_in(0, 1 << 24))
                    ->capture_default_str();
                auto* device = app.add_option("--device", f->o.device, "where data transitions run: cpu or cuda")->capture_default_str();
                auto* seed = app.add_option("--seed", f->o.seed, "seed of sampled transitions")->capture_default_str();
                app.add_option("--threads", f->o.threads, "worker threads (0 = all cores)")->check(integer_in(0, 4096))->capture_default_str();
                app.add_option("--load-pf", f->o.load_pf, "load on every output port, pF")->check(finite_in(0, 1000))->capture_default_str();
                app.add_option("--out", f->out, "profile JSON (CSV and SVG written beside it)")->capture_default_str();
                app.add_flag("--quiet", f->quiet, "no progress");
                return [f, netlist, builtin, top, weight_port, weight_format, arch, work_dir, transitions, device, seed] {
                    if (netlist->count() == 0 && builtin->count() == 0)
                        throw_usage("E4511", "characterize needs --netlist F.json or --mac NAME",
                                    "see `halo help characterize`");
                    if (builtin->count() > 0) {
                        const CLI::Option* const netlist_only[] = {top, weight_port, weight_format};
                        refuse_flags(netlist_only, "to a built-in --mac (its table row fixes the top, port and format)");
                    } else {
                        const CLI::Option* const builtin_only[] = {arch, work_dir};
                        refuse_flags(builtin_only, "to a given --netlist (they choose how a built-in MAC is synthesized)");
                    }
                    f->o.analysis = mac::parse_analysis(f->analysis);
                    if (f->o.analysis == mac::Analysis::static_only) {
                        const CLI::Option* const dynamic_only[] = {transitions, device, seed};
                        refuse_flags(dynamic_only, "to --analysis static (they sample activation transitions)");
                    }
                    require_extension("--out", f->out, ".json");
                    const NamedPath inputs[] = {{"--netlist", f->o.netlist_json.string()}, {"--liberty", std::filesystem::path(f->o.liberty).string()}};
                    require_not_input("--out", f->out, inputs);
                    f->o.progress = terminal_progress(f->quiet);
                    auto t0 = std::chrono::steady_clock::now();
                    mac::MacProfile p = mac::characterize(f->o);
                    mac::write_profile(p, f->out);
                    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
                    double lo = 1e300, hi = 0;
                    for (const auto& w : p.weights)
                        if (w.static_delay_ns) lo = std::min(lo, *w.static_delay_ns), hi = std::max(hi, *w.static_delay_ns);
                    if (!f->quiet) {
                        fmt::print("{} ({} cells, {:.1f} um2) on {}: nominal {:.4f} ns", p.top, p.cells, p.area_um2,
                                   p.library, p.nominal_delay_ns.value_or(0));
                        if (p.static_analysis) fmt::print(", per weight {:.4f} .. {:.4f} ns", lo, hi);
                        fmt::print(" ({} weights, {:.2f} s)\n", p.weights.size(), secs);
                        if (p.dynamic_analysis)
                            fmt::print("data-dependent delay and energy: {} transitions per weight ({})\n",
                                       p.transitions.value_or(0), f->o.device);
                        fmt::print("wrote {}\n", f->out);
                    }
                    return 0;
                };
            }};
}

}  // namespace halo::cli
