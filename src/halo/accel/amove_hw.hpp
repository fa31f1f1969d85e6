// The hardware designs of Amove's decoders beside the MACs, and of the baselines, as run by
// simulate_design() (design_sim.hpp) on two machines:
//  - a tensor core (Ampere-like GPU: SMs x tensor cores, per-core MACs/cycle by operand width);
//  - the systolic array of accel/systolic.hpp (SCALE-Sim cycle model), with a shared
//    group-dequantization unit per tile.
// One row per design in amove_designs() (weight and activation bits per value including
// metadata, multiplier width, how partial sums are rescaled, decoder throughput, area overhead).
//
// Per GEMM: time = max(MAC cycles, decode cycles, DRAM bytes / bandwidth) — decoding is
// overlapped with the MACs (Amove's design) and only shows when its throughput falls short.
// Energy = MACs x e_mac + rescales x e_rescale + decoded scales x e_decode + SRAM and DRAM bytes.
// Per-op energies are 45 nm figures (Horowitz, ISSCC 2014): 8-bit int mult 0.2 pJ, 8-bit add
// 0.03 pJ, 32-bit add 0.1 pJ, FP16 mult 1.1 pJ, FP16 add 0.4 pJ; a 4-bit multiplier at
// (4/8)^2 of the 8-bit one (ASSUMPTION: array-multiplier area/energy ~ bits^2); SRAM 2.5 pJ/B,
// DRAM 31.2 pJ/B (the accel module's constants). Area overheads: Amove's +1.62 % (tensor core)
// and +1.13 % (array) are the paper's 45 nm synthesis figures; the baselines' are ASSUMPTIONS
// stated in their rows.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace halo::accel {

// amove_factored: sum_i (S_w - R_w e_wi)(S_a - R_a e_ai) p_i = S_w S_a P0 - S_w R_a P1 - R_w S_a P2
// + R_w R_a P3 with P0 = sum p_i, P1 = sum e_ai p_i, P2 = sum e_wi p_i, P3 = sum e_wi e_ai p_i:
// per cluster three 2-bit x integer shift-adds into integer accumulators, per group four FP16
// multiply-adds (our decoder design; the paper gives no per-op breakdown).
enum class Rescale : std::uint8_t { none, per_tensor, per_group_fp16, per_block_pow2, amove_factored };

struct AmoveDesign {
    std::string_view name;
    std::string_view alias;   // also accepted by amove_design() ("ant-like" for "ant"); may be empty
    double weight_bits;       // per value, metadata included (linears)
    double act_bits;          // per value, metadata included (linear inputs)
    double attn_bits;         // per value for the attention operands (QK^T, PV)
    int mult_bits;            // multiplier width: 8 (INT8) or 4 (4-bit designs)
    Rescale rescale;          // how partial sums are scaled back
    int rescale_every;        // MACs per rescale of a partial sum (cluster / group / block size)
    int group_every;          // amove_factored: MACs per group (G); 0 otherwise
    double decode_values_per_cycle;  // per MAC lane: values the decoder prepares per cycle (0 = none)
    double area_tc_pct;       // tensor-core area overhead vs the design's own datapath
    double area_array_pct;    // systolic-array area overhead
    std::string_view source;  // where the figures come from
};

std::span<const AmoveDesign> amove_designs();
// By name or alias. Unknown name: bad input E7080 at `place` (the flag that named it) listing the designs.
const AmoveDesign& amove_design(std::string_view name, std::string_view place = "--design");

struct EnergyPj {
    double mac = 0, rescale = 0, decode = 0, sram = 0, dram = 0;
    double total() const { return mac + rescale + decode + sram + dram; }
};

// Per-op energy model of a design (pJ), shared by both machines (design_sim.cpp).
double design_mac_pj(const AmoveDesign& design);      // one MAC: multiply + accumulate
double design_rescale_pj(const AmoveDesign& design);  // one rescale of a partial sum
double design_group_pj(const AmoveDesign& design);    // amove_factored: per group of G MACs; 0 otherwise
double design_decode_pj(const AmoveDesign& design);   // Amove's decoder: one S - R*e per cluster; 0 otherwise

}  // namespace halo::accel
