// Systolic-array (TPU-like) timing and traffic model for one GEMM, C[M,N] = A[M,K] * W[K,N].
//
// Cycle counts follow SCALE-Sim v2 (scalesim-project/scale-sim-v2, commit 22f88b1) exactly:
// the operand matrices are cut into folds of the array's size and every fold streams
// `fold_lines` demand lines (fill + steady state + drain); COMPUTE_REPORT's "Total Cycles" is
// the service cycle of the last OFMAP line, i.e. folds * fold_lines - 1 when no stalls occur
// (SCALE-Sim's CALC bandwidth mode never stalls reads). Per dataflow (R x C array):
//   ws: rows <- K, cols <- N, streamed T = M; fold_lines = 2R + C + M - 2 (R cycles weight load)
//   os: rows <- M, cols <- N, streamed T = K; fold_lines =  R + C + K - 2
//   is: rows <- K, cols <- M, streamed T = N; fold_lines = 2R + C + N - 2
// SRAM reads/writes are SCALE-Sim's demand counts (including its OS quirk of adding R + C
// OFMAP writes per fold). SCALE-Sim writes every partial sum out (no on-chip accumulation), so
// its output traffic is M*N*ceil(K/R) for ws/is; halo also reports its own DRAM model, with
// partial sums kept on chip while they fit (docs/design/accel.md).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace halo::accel {

enum class Dataflow : std::uint8_t { ws, os, is };

// One row per dataflow: which GEMM dimension maps to the array rows, the array columns, and
// which one streams through time; and how many extra "weight load" rows a fold needs.
struct DataflowTraits {
    Dataflow dataflow;
    std::string_view name;        // "ws"
    std::string_view long_name;   // "weight-stationary"
    char rows_dim;                // 'K', 'M' or 'N'
    char cols_dim;
    char time_dim;
    int preload_rows;             // 1: fold_lines has 2R (stationary operand preloaded), 0: R
};
const std::array<DataflowTraits, 3>& dataflow_table();
const DataflowTraits& traits(Dataflow df);
// Parses "ws", "os", "is" (also "weight-stationary", ...); throws E7001 (bad input) otherwise.
Dataflow parse_dataflow(std::string_view text);

struct ArrayConfig {
    int rows = 128;  // ArrayHeight
    int cols = 128;  // ArrayWidth
    Dataflow dataflow = Dataflow::ws;
    std::int64_t ifmap_sram_kb = 6144;
    std::int64_t filter_sram_kb = 6144;
    std::int64_t ofmap_sram_kb = 2048;
    double dram_bandwidth_gbps = 460.0;  // bytes/ns = GB/s (assumption: one HBM2e stack)
    int word_bytes = 1;                  // operand element size (INT8), as SCALE-Sim's word_size
    int psum_bytes = 4;                  // accumulator element size for partial sums kept on chip
};
// Throws E7002 (bad input) on a non-positive or absurd array (more than 16384 on a side) or
// non-positive buffer/bandwidth.
void validate(const ArrayConfig& array);

struct Gemm {
    std::string name;
    std::int64_t M = 0;
    std::int64_t K = 0;
    std::int64_t N = 0;
};
// Throws E7003 (bad input) on a non-positive dimension, naming the layer.
void validate(const Gemm& gemm);

struct GemmStats {
    // SCALE-Sim's COMPUTE_REPORT
    std::int64_t folds = 0;
    std::int64_t fold_lines = 0;          // demand lines per fold (cycles of one fold)
    std::int64_t cycles = 0;              // Total Cycles = folds * fold_lines - 1 (+ stalls, 0 in CALC)
    std::int64_t stall_cycles = 0;        // SCALE-Sim's (0: CALC mode never stalls)
    double overall_util = 0;              // M*K*N / (cycles * R * C), as a fraction
    double mapping_efficiency = 0;        // mean over folds of used PEs / all PEs
    double compute_util = 0;              // mean over folds of SCALE-Sim's per-fold utilization
    // SCALE-Sim's DETAILED_ACCESS_REPORT (elements)
    std::int64_t sram_ifmap_reads = 0;
    std::int64_t sram_filter_reads = 0;
    std::int64_t sram_ofmap_writes = 0;
    std::int64_t scalesim_dram_ofmap_writes = 0;  // every partial sum written out: M*N*ceil(K/R) (ws/is)
    // halo's DRAM model (elements): operands read once if their buffer holds them, else
    // re-read per fold pass; partial sums accumulated on chip while they fit in the OFMAP buffer.
    std::int64_t dram_ifmap_reads = 0;
    std::int64_t dram_filter_reads = 0;
    std::int64_t dram_ofmap_writes = 0;
    std::int64_t dram_psum_reads = 0;     // partial sums read back when they spill
    std::int64_t macs = 0;                // M*K*N
};

// Closed form (what halo uses).
GemmStats simulate_gemm(const ArrayConfig& array, const Gemm& gemm);
// Plain reference: walks every fold like SCALE-Sim's compute modules; slow for big GEMMs,
// used by tests to check the closed form.
GemmStats simulate_gemm_reference(const ArrayConfig& array, const Gemm& gemm);

}  // namespace halo::accel
