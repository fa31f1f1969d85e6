// The codebook ladder: from a MAC profile (docs/formats.md "MAC profile") to DVFS levels and,
// per level, the weight codes fast enough to run at it.
//
//   f_code(V) = 1 / (delay_code(V) * (1 + guard_band))      (delay from the static or dynamic
//                                                             field, at the profile's voltage)
//   delay(V)  = delay(V_nom) * k(V_nom) / k(V),  k(V) = (V - Vt)^alpha / V   (alpha-power law,
//               Sakurai & Newton, IEEE JSSC 25(2), 1990; defaults Vt = 0.5 V, alpha = 1.3 are
//               ASSUMPTIONS for osu018's 0.18 um process: typical long-channel-ish values)
//   a code meets level (V, f) iff f_code(V) >= f.
//
// Levels are given ("V:GHz,...") or derived: level 0 is the nominal point (V_nom, the clock
// every code meets); level i > 0 runs at V_nom * (1 + voltage_step * i), or at
// V_nom * voltage_factors[i] when those are given, and at the clock the `counts[i]`-th fastest
// code allows there (HALO: 16 values at the middle level, 9 at the top). A factor of 1 is a
// frequency-only level: the same supply, a faster clock for a subset of codes (on osu018 the
// 128 non-negative codes run 1.29x faster than the slowest code), so its speed-up owes nothing
// to voltage.
// Levels are sorted by frequency, level 0 slowest; a given level no code meets is bad input.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "halo/mac/profile.hpp"

namespace halo::hwq {

enum class TimingField : std::uint8_t { static_delay, dynamic_delay };
struct TimingFieldTraits {
    TimingField id;
    std::string_view name;  // "static" | "dynamic"
    std::optional<double> mac::ProfileWeight::*field;
};
std::span<const TimingFieldTraits> timing_fields();
const TimingFieldTraits& timing_field(std::string_view name);  // E9001 otherwise

struct VoltageModel {
    double vt_v = 0.5;
    double alpha = 1.3;
    double speed(double v) const;  // k(V) = (V - Vt)^alpha / V; E9002 when V <= Vt
    // Frequency at `v` of something running at `f_nom` at `v_nom`.
    double scale_freq(double f_nom, double v_nom, double v) const { return f_nom * speed(v) / speed(v_nom); }
};

struct LevelSpec {
    double voltage_v = 0;
    double freq_mhz = 0;
};
// "1.0:1.9,1.1:2.4" (volts:GHz) -> specs; E9003 on a malformed list.
std::vector<LevelSpec> parse_levels(std::string_view text);

struct LadderOptions {
    TimingField timing = TimingField::static_delay;
    double guard_band = 0.05;          // fraction added to every delay
    std::vector<LevelSpec> levels;     // given levels; empty = derive
    std::vector<int> counts = {0, 16, 9};  // derived: codes meeting each level (0 = all); its size = levels
    double voltage_step = 0.1;         // derived: V_i = V_nom * (1 + step * i)
    std::vector<double> voltage_factors;  // derived: V_i = V_nom * factors[i] (empty: from voltage_step); size = counts
    VoltageModel voltage;
    std::string expect_format = "int8";  // the quantizer's storage format; profile must match (E9004)
};

struct Level {
    std::string name;   // "L0" ...
    double voltage_v = 0;
    double freq_mhz = 0;
    std::vector<int> values;  // integer weight values of the codes meeting it, ascending
};

struct Ladder {
    std::string weight_format;
    int weight_bits = 0;
    double nominal_voltage_v = 0;
    std::string timing;       // field used
    double guard_band = 0;
    VoltageModel voltage;
    // Per code (index = code as unsigned): value, delay, max frequency at V_nom, energy.
    std::vector<int> value;
    std::vector<double> delay_ns;
    std::vector<double> fmax_mhz;
    std::vector<double> energy_fj;  // NaN when the profile has none
    std::vector<Level> levels;      // ascending frequency
    // Code of an integer value (two's complement for intN).
    std::uint64_t code_of(int v) const;
    double code_fmax_mhz(std::uint64_t code, double voltage_v) const;
    // Whether `value` meets level `l` (the definition all levels were built from).
    bool meets(int value, std::size_t l) const;
    double energy_of(int v) const;  // NaN when unknown
};

Ladder build_ladder(const mac::MacProfile& profile, const LadderOptions& options);

// The profile is read by its owner, mac::read_profile (mac/profile.hpp); build_ladder checks the
// fields the ladder needs (E9004 width/format, E9005 a missing delay).
nlohmann::json ladder_json(const Ladder& ladder);

}  // namespace halo::hwq
