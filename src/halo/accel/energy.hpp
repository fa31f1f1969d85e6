// Energy constants of the accelerator models and the MAC energy table read from a MAC profile
// (docs/formats.md, `halo characterize`). Every default names its source; those marked
// ASSUMPTION are not measured for this design and should be overridden from a config file
// (JSON, see docs/formats.md "Simulator config") when better figures exist.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "halo/mac/profile.hpp"

namespace halo::accel {

// Per-code MAC energy, from a profile's `weights[].energy_fj` (indexed by `code` read as an
// unsigned integer, MSB first).
struct MacEnergyTable {
    std::string weight_format = "int8";
    int weight_bits = 8;
    double nominal_voltage_v = 1.8;     // the profile's characterization voltage
    std::vector<double> energy_fj;      // [2^weight_bits]; NaN where the profile had null
    double leakage_nw = 0;              // one MAC's leakage
    double mean_energy_fj() const;      // uniform over codes with a value
    // Histogram-weighted mean energy per operation; an empty histogram means uniform.
    double weighted_energy_fj(const std::vector<std::uint64_t>& histogram) const;
};
// From a profile read by its owner (mac::read_profile, E4050 on a malformed file): E7030 (bad
// input, naming the file) when a code has no energy (the energy analysis did not run).
MacEnergyTable mac_energy_table(const mac::MacProfile& profile, const std::string& file);
// mac::parse_profile / mac::read_profile, then mac_energy_table.
MacEnergyTable parse_mac_profile(const nlohmann::json& j, const std::string& file);
MacEnergyTable read_mac_profile(const std::filesystem::path& path);
// When no profile is given: every INT8 code costs `mac_energy_fj` (ASSUMPTION below).
MacEnergyTable flat_mac_table(double mac_energy_fj, const std::string& weight_format = "int8", int bits = 8);

struct EnergyConstants {
    // Horowitz, "Computing's energy problem", ISSCC 2014 (45 nm): 8-bit multiply 0.2 pJ +
    // 32-bit add 0.1 pJ. Used only without a MAC profile.
    double mac_energy_fj = 300;
    // Multiplies the profile's energies: the profile's technology (e.g. osu018) to the array's.
    // ASSUMPTION: 1 (no scaling) unless the config says otherwise.
    double mac_energy_scale = 1.0;
    // Horowitz ISSCC 2014: 64-bit read of a 32 KB SRAM 20 pJ -> 2.5 pJ/byte (45 nm).
    double sram_pj_per_byte = 2.5;
    // O'Connor et al., "Fine-Grained DRAM", MICRO 2017: HBM2 3.9 pJ/bit -> 31.2 pJ/byte.
    double dram_pj_per_byte = 31.2;
    // ASSUMPTION: SRAM leakage 1 mW per MB of buffer; array leakage = MACs x profile leakage
    // (or `mac_leakage_nw` without a profile, ASSUMPTION 50 nW).
    double sram_leakage_mw_per_mb = 1.0;
    double mac_leakage_nw = 50;
    // Sparse engine (FP16 MACs on the outliers): Horowitz ISSCC 2014, FP16 multiply 1.1 pJ +
    // FP16 add 0.4 pJ; plus ASSUMPTION 4 bytes of index+value SRAM traffic per nonzero use.
    double sparse_mac_energy_pj = 1.5;
    double sparse_bytes_per_mac = 4;
    int sparse_macs_per_cycle = 256;  // ASSUMPTION: 256 FP16 MACs
    // Zero-point correction (tiles with w = s * (c - z)): per output and K-tile one z * sum(a)
    // multiply-add, Horowitz ISSCC 2014 (45 nm): 8-bit multiply 0.2 pJ + 32-bit add 0.1 pJ;
    // per activation and K-tile one add into the row sum sum(a), 8-bit add 0.03 pJ. Runs at the
    // nominal level; ASSUMPTION: one correction per array column per cycle (0 = array width).
    double zero_point_op_pj = 0.3;
    double zero_point_add_pj = 0.03;
    int zero_point_ops_per_cycle = 0;
    // Codebook lookup per weight read from DRAM as a per-tile index (WorkItem::weight_indices):
    // ASSUMPTION one byte read at the 32 KB SRAM's 2.5 pJ/byte above (Horowitz ISSCC 2014, 45 nm);
    // a table of at most 256 one-byte entries costs less, so this over-charges the lookup.
    double codebook_lookup_pj = 2.5;
};

// Overrides the fields present in `j` (the "energy" object of a simulator config); unknown
// keys are an error E7031 so a typo is not silently ignored.
void apply_energy_json(EnergyConstants& c, const nlohmann::json& j, const std::string& file);

}  // namespace halo::accel
