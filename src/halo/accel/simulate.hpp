// The systolic-array simulation of a workload: SCALE-Sim-exact cycles per GEMM, per-tile DVFS
// time, halo's DRAM stall model, energy by component, and the comparison with a baseline
// (every tile at the nominal level, uniform INT8 codes).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/accel/dvfs.hpp"
#include "halo/accel/energy.hpp"
#include "halo/accel/systolic.hpp"
#include "halo/accel/workload.hpp"

namespace halo::accel {

struct EnergyBreakdown {
    double mac_j = 0, sram_j = 0, dram_j = 0, leakage_j = 0, dvfs_switch_j = 0, sparse_j = 0, zero_point_j = 0;
    double codebook_lookup_j = 0;  // weights stored as codebook indices, decoded on the way in
    double total_j() const {
        return mac_j + sram_j + dram_j + leakage_j + dvfs_switch_j + sparse_j + zero_point_j + codebook_lookup_j;
    }
    EnergyBreakdown& operator+=(const EnergyBreakdown& o);
};

struct LayerResult {
    std::string name;
    std::int64_t M = 0, K = 0, N = 0, count = 1;
    GemmStats stats;                  // one instance, SCALE-Sim conventions + halo's DRAM model
    std::int64_t stall_cycles = 0;    // halo: DRAM time beyond compute time, at the nominal clock (all instances)
    std::int64_t sram_reads = 0, sram_writes = 0, dram_reads = 0, dram_writes = 0;  // elements, all instances
    double compute_time_s = 0, stall_time_s = 0, switch_time_s = 0, sparse_time_s = 0, zero_point_time_s = 0, time_s = 0;
    int switches = 0;
    std::vector<std::int64_t> folds_per_level;  // per DVFS level, all instances
    EnergyBreakdown energy;
};

struct SimTotals {
    std::int64_t cycles = 0;  // sum of SCALE-Sim total cycles x count
    std::int64_t stall_cycles = 0, macs = 0, sram_reads = 0, sram_writes = 0, dram_reads = 0, dram_writes = 0;
    int switches = 0;
    double time_s = 0;
    EnergyBreakdown energy;
};

struct SimResult {
    std::vector<LayerResult> layers;
    SimTotals total;
};

struct SystolicOptions {
    ArrayConfig array;
    DvfsTable dvfs = halo_systolic_levels();
    EnergyConstants energy;
    MacEnergyTable mac = flat_mac_table(EnergyConstants{}.mac_energy_fj);
    Reorder reorder = Reorder::by_level;
    int default_level = -1;     // level of tiles without levels; -1 = dvfs.nominal
    int activation_level = -1;  // level of activation x activation GEMMs; -1 = dvfs.nominal
};

// Throws E7021 on tile levels that do not fit, E7022 on a profile whose weight format differs
// from the tiles' format.
SimResult simulate_systolic(const std::vector<WorkItem>& work, const SystolicOptions& options);

// The same workload with every tile level and histogram removed (uniform codes) at the nominal
// level, weights stored at the word size: the default baseline "uniform INT8 at the nominal clock".
std::vector<WorkItem> baseline_workload(const std::vector<WorkItem>& work);

}  // namespace halo::accel
