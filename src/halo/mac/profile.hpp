// The per-weight MAC profile (docs/formats.md, "MAC profile"): what `halo characterize` and
// `halo gpu-bench --profile` write and the ladder (HALO) and the simulator's energy table read.
// This module owns the format: its one reader (parse_profile / read_profile) and its one writer
// (profile_json / write_profile). JSON, a CSV twin (one row per weight) and an SVG plot of delay
// and energy against weight value, all written atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace halo::mac {

struct ProfileWeight {
    std::uint64_t code = 0;                  // weight port bit pattern
    std::optional<double> value;             // decoded number; none for NaN codes
    std::optional<double> static_delay_ns;   // none when static analysis did not run
    std::optional<double> dynamic_delay_ns;
    std::optional<double> data_delay_max_ns;
    std::optional<double> data_delay_p999_ns;
    std::optional<double> energy_fj;
    // GPU profiles only (`halo gpu-bench --profile`): the measured medians behind the row.
    std::optional<double> tops, sm_mhz, power_w;
    std::string measured_as;                 // the weight set measured ("popcount:3"), "" otherwise
};

// A profile measured on a GPU (`halo gpu-bench --profile`) instead of characterized on a netlist.
struct GpuMeasurement {
    std::string driver;
    double power_limit_w = 0;
    std::string gemm;                        // "MxNxK"
    std::string kind;                        // gpu::gemm_kind_name
    std::string profile_mode;                // "popcount" | "single"
    int repetitions = 0;
    double seconds = 0;
    double activation_sigma = 0;
};

struct MacProfile {
    // design
    std::string mac = "netlist";             // built-in MAC name, or "netlist"
    std::string arch;                        // multiplier architecture, "" for a given netlist
    std::string weight_format;               // int8, int4, fp8-e4m3, bf16, or intN/uintN
    int weight_bits = 0;
    std::string activation_format;
    int accumulator_bits = 0;
    std::string top;
    std::string netlist;
    std::string liberty;
    std::string library;
    double nominal_voltage_v = 0;
    double load_pf = 0.01;
    std::size_t cells = 0;
    double area_um2 = 0;
    std::optional<double> nominal_delay_ns;  // static longest path with the weight free
    // analysis
    bool static_analysis = false;
    bool dynamic_analysis = false;
    std::optional<std::uint64_t> transitions;
    std::string transition_set;              // "exhaustive-8bit", "sampled", "" when not run
    std::uint64_t seed = 1;
    std::string delay_model = "nldm-static-slews";
    std::vector<ProfileWeight> weights;
    std::optional<double> leakage_nw;
    std::optional<GpuMeasurement> gpu;       // set for GPU-measured profiles
};

// The bit pattern, MSB first ("10000000").
std::string code_string(std::uint64_t code, int bits);

std::string profile_json(const MacProfile& profile);
std::string profile_csv(const MacProfile& profile);
// Delay (left axis) and energy (right axis, when present) against weight value.
std::string profile_svg(const MacProfile& profile);

// The one reader. Bad input E4050 names the file and the field: not JSON, wrong "format" tag,
// missing design.weight_bits or weights, a code that is not weight_bits binary digits (or an
// integer below 2^weight_bits), a repeated code, a field of the wrong type. Fields a writer
// leaves out keep the struct's defaults; what a consumer needs (delays, energies) it checks.
MacProfile parse_profile(const nlohmann::json& j, const std::string& file);
MacProfile read_profile(const std::filesystem::path& path);

// Writes <json_path>, and beside it <stem>.csv and <stem>.svg, each atomically.
void write_profile(const MacProfile& profile, const std::filesystem::path& json_path);

}  // namespace halo::mac
