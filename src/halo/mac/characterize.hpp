// `halo characterize`: a MAC netlist (given, or a built-in MAC synthesized by the MAC generator)
// + a Liberty library -> the per-weight profile (profile.hpp): static longest path with the
// weight held (timing/static_sweep.hpp), optionally dynamic delay and energy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "halo/mac/profile.hpp"
#include "halo/netlist/netlist.hpp"
#include "halo/timing/delay_annotation.hpp"
#include "halo/util/progress.hpp"

namespace halo::mac {

enum class Analysis : std::uint8_t { static_only, dynamic_only, both };
Analysis parse_analysis(std::string_view name);  // "static" | "dynamic" | "both", E4510 otherwise

struct CharacterizeOptions {
    // Either a given netlist ...
    std::filesystem::path netlist_json;
    std::string top;                       // "" = the netlist's top module
    std::string weight_port = "w";
    std::string weight_format;             // "" = int<width of the weight port>
    // ... or a built-in MAC (mac_table of the MAC generator).
    std::string builtin_mac;               // int8, int4, fp8-e4m3, bf16 ...
    std::string arch = "yosys";
    std::filesystem::path work_dir = "halo-work";  // synthesis cache for built-in MACs

    std::filesystem::path liberty;
    Analysis analysis = Analysis::static_only;
    // Data-dependent transitions per weight, dynamic analysis: 0 = every activation pair when the
    // activation is at most 8 bits wide (65,536 for INT8), else kWideDefaultTransitions sampled.
    std::uint64_t transitions = 2000;
    std::string device = "cpu";            // "cpu" or "cuda": where the data transitions run
    std::uint64_t seed = 1;
    unsigned threads = 0;
    double load_pf = 0.01;
    ProgressSink progress;
};

constexpr std::uint64_t kWideDefaultTransitions = 65536;

MacProfile characterize(const CharacterizeOptions& options);

// Checks that `port` is an input of `netlist` `bits` wide (bits = 0: any width up to 16).
// E4501 missing, E4502 not an input, E4503 wrong width; all name the port and the netlist file.
void check_weight_port(const netlist::Netlist& netlist, const std::string& port, int bits);

// Value of `code` in `format` (intN two's complement, uintN; built-in FP formats through the
// MAC generator's weight-format table). None for NaN codes.
std::optional<double> decode_weight_value(const std::string& format, int bits, std::uint64_t code);

// ---- Glue to other modules (characterize_glue.cpp) ----

// A built-in MAC synthesized onto `liberty` (MAC generator: mac_table.hpp + yosys_driver.hpp).
struct BuiltMac {
    std::filesystem::path netlist_json;
    std::string top = "mac";
    std::string weight_port = "w";
    std::string weight_format;
    int weight_bits = 0;
    std::string activation_format;
    int accumulator_bits = 0;
    std::string arch;
    double area_um2 = 0;
};
BuiltMac build_mac(const std::string& name, const std::string& arch, const std::filesystem::path& liberty,
                   const std::filesystem::path& work_dir);

// Decodes codes of formats that only the MAC generator's weight-format table knows (fp8-e4m3,
// bf16); nullopt for a NaN code.
std::optional<double> decode_builtin_weight(const std::string& format, std::uint64_t code);

// Fills dynamic_delay_ns, data_delay_*, energy_fj of every weight and leakage_nw, the analysis
// fields (transitions, transition_set), using the dynamic-timing engine.
void run_dynamic_analysis(const netlist::Netlist& netlist, const timing::DelayAnnotation& annotation,
                          const CharacterizeOptions& options, std::span<const std::uint64_t> codes,
                          MacProfile& profile);

}  // namespace halo::mac
