// Case analysis (set_case_analysis): input port bits held at 0 or 1, the constants propagated
// through every cell by exact ternary evaluation of its function (the output is constant iff it
// is the same for every completion of the unknown inputs), and each arc's timing sense
// re-derived under its cell's constant inputs, as OpenSTA's Sim does (a BDD there, a truth
// table here): an XOR with one input tied becomes unate, a mux input not selected gets no arc.
//
// Truth tables: bit m of a gate's 64-bit table is its output for the input assignment where
// variable i = bit i of m (at most 6 variables, enough for every OSU cell).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "halo/liberty/library.hpp"
#include "halo/netlist/netlist.hpp"

namespace halo::timing {

// Net values during case analysis.
enum class Logic : std::uint8_t { zero = 0, one = 1, x = 2 };

// One held net (a port bit, usually).
struct NetConstant {
    netlist::NetId net = netlist::kNoNet;
    bool value = false;
};

// The constants that hold input port `port` at `code` (bit i of code on bit i of the port).
// Throws E3001 when the port is missing, E3002 when it is not an input, E3003 when `code`
// does not fit its width.
std::vector<NetConstant> hold_port(const netlist::Netlist& netlist, std::string_view port, std::uint64_t code);

// Timing sense of an arc after case analysis. `unknown` = the cell has no constant input, so
// the Liberty sense stands.
enum class SimSense : std::uint8_t { unknown, positive, negative, non_unate, none };

namespace truth {

// Minterms where variable i is 1.
inline constexpr std::uint64_t kVarMask[6] = {
    0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
    0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull,
};

// Minterms consistent with the constants among `values` (one per variable).
inline std::uint64_t consistent(std::span<const Logic> values) {
    std::uint64_t cons = ~0ull;
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (values[i] == Logic::one) cons &= kVarMask[i];
        else if (values[i] == Logic::zero) cons &= ~kVarMask[i];
    }
    return cons;
}

inline Logic eval(std::uint64_t table, std::uint64_t cons) {
    std::uint64_t ones = table & cons;
    if (ones == 0) return Logic::zero;
    if (ones == cons) return Logic::one;
    return Logic::x;
}

// Sense of variable `var` over the minterms in `cons` (which must not constrain `var`).
inline SimSense sense(std::uint64_t table, std::uint64_t cons, int var) {
    std::uint64_t low = ~kVarMask[var] & cons;                   // assignments with var = 0
    std::uint64_t f0 = table & low;                              // f there
    std::uint64_t f1 = (table >> (1u << var)) & low;             // f with var flipped to 1
    bool rises = (~f0 & f1 & low) != 0;
    bool falls = (f0 & ~f1 & low) != 0;
    if (rises && falls) return SimSense::non_unate;
    if (rises) return SimSense::positive;
    if (falls) return SimSense::negative;
    return SimSense::none;
}

}  // namespace truth

// Whether an (input edge -> output edge) pair survives the derived sense.
inline bool sim_sense_allows(SimSense s, int in_edge, int out_edge) {
    switch (s) {
        case SimSense::unknown:
        case SimSense::non_unate: return true;
        case SimSense::positive: return in_edge == out_edge;
        case SimSense::negative: return in_edge != out_edge;
        case SimSense::none: return false;
    }
    return true;
}

}  // namespace halo::timing
