// The hardware-design simulator: a workload's GEMMs on one of the amove_designs() rows
// (INT8, ANT-like, OliVe-like, MXFP4, INT-Sym g64, Amove Aggressive / Conservative) on a
// tensor-core or a systolic-array machine, per GEMM and in total. `halo simulate --design` and
// `halo amove-hw` both call simulate_design(); amove-hw's table is compare_designs().
//
// Per GEMM (all `count` instances):
//   tensor core: MAC cycles = M*K*N / (SMs x cores x MACs/core/cycle, x2 for 4-bit multipliers);
//     DRAM bytes = (M*K*a_bits + K*N*w_bits)/8 + M*N*2 (FP16 outputs); SRAM = 2 x DRAM bytes
//     (every byte written to shared memory once and read once: ASSUMPTION);
//   systolic:    MAC cycles = SCALE-Sim total cycles x mult_bits/8 (two 4-bit MACs per PE per
//     cycle: ASSUMPTION, BitMoD-style PEs); DRAM and SRAM bytes = accel's element counts x bits/8
//     (outputs and spilled partial sums at 2 bytes), clock array_clock_ghz;
//   decoder: values entering the MACs (M*K + K*N) / (decode_values_per_cycle x lanes) cycles,
//     lanes = tensor cores or array rows (one shared dequantization unit per tile row);
//   time = max(MAC time, DRAM time, decode time): decoding and transfers overlap the MACs, and
//     the GEMM is "decoder-bound" when the decode time is the largest.
// Energy = MACs x e_mac + rescales x e_rescale (+ groups x e_group) + decoded clusters x e_decode
// + SRAM and DRAM bytes x pJ/B (amove_hw.hpp has the per-op figures).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/accel/amove_hw.hpp"
#include "halo/accel/energy.hpp"
#include "halo/accel/systolic.hpp"
#include "halo/accel/workload.hpp"

namespace halo::accel {

enum class DesignArch : std::uint8_t { tensor_core, systolic };
struct DesignArchRow {
    DesignArch arch;
    std::string_view name;  // "tensor-core", "systolic" (`halo simulate --arch`)
};
std::span<const DesignArchRow> design_arches();
std::string_view arch_name(DesignArch arch);

struct TensorCoreConfig {
    int sms = 84;                  // RTX A6000 (GA102): 84 SMs x 4 tensor cores
    int tensor_cores_per_sm = 4;
    double clock_ghz = 1.8;
    int int8_macs_per_core_cycle = 256;  // 309.7 dense INT8 TOPS / 2 / (336 x 1.8 GHz)
    double dram_gbps = 768.0;
};

struct DesignMachine {
    DesignArch arch = DesignArch::tensor_core;
    TensorCoreConfig tensor_core;
    ArrayConfig array;             // systolic: rows, cols, dataflow, buffers, DRAM bandwidth
    double array_clock_ghz = 1.0;  // ASSUMPTION for the systolic array
    EnergyConstants energy;        // SRAM/DRAM pJ per byte (energy.hpp; `--config-file` may set them)
    double clock_hz() const;
    double decode_lanes() const;   // tensor cores, or array rows
};

// What bounds a GEMM's time (the largest of the three overlapped terms).
enum class Bound : std::uint8_t { compute, memory, decode };
std::string_view bound_name(Bound bound);  // "compute", "memory", "decode"

struct DesignLayer {
    std::string name;
    std::int64_t M = 0, K = 0, N = 0, count = 1;
    bool has_weights = true;
    double macs = 0;                              // all instances
    double mac_cycles = 0;                        // all instances, at the machine's clock
    double compute_s = 0, memory_s = 0, decode_s = 0, time_s = 0;
    double dram_bytes = 0, sram_bytes = 0;
    double decoded_values = 0;                    // operand values through the decoder
    Bound bound = Bound::compute;
    EnergyPj energy;
    double cycles(double clock_hz) const { return time_s * clock_hz; }  // with memory/decoder stalls
};

struct DesignTotals {
    double seconds = 0;
    double compute_s = 0, memory_s = 0, decode_s = 0;  // sums of the per-GEMM terms
    double mac_cycles = 0, cycles = 0;                  // cycles = seconds x clock
    double dram_bytes = 0, sram_bytes = 0;
    EnergyPj energy;
    std::int64_t macs = 0;
    std::int64_t decoder_bound = 0;                     // GEMMs (layers) bound by the decoder
};

struct DesignResult {
    std::string design;
    DesignArch arch = DesignArch::tensor_core;
    double clock_hz = 0;
    std::vector<DesignLayer> layers;
    DesignTotals total;
};

// Runs every work item (count > 0, E7003 otherwise) on the machine with the design.
DesignResult simulate_design(const std::vector<WorkItem>& work, const AmoveDesign& design, const DesignMachine& machine);

// Ratios against a baseline run: speedup = baseline time / time; energy_saving = baseline
// energy / energy (what `halo amove-hw` prints as "E ratio"); energy_ratio = its inverse.
struct DesignComparison {
    DesignResult run;
    double speedup = 0, energy_saving = 0, energy_ratio = 0;
};
DesignComparison compare_design(DesignResult run, const DesignResult& baseline);
// Every amove_designs() row against `baseline` on one machine (`halo amove-hw`'s table).
std::vector<DesignComparison> compare_designs(const std::vector<WorkItem>& work, const AmoveDesign& baseline,
                                              const DesignMachine& machine);

}  // namespace halo::accel
