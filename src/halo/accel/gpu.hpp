// GPU roofline model: per kernel (one GEMM), time = max(FLOPs / tensor-core peak at the
// kernel's clock, bytes / memory bandwidth); energy = idle power x time + compute energy per
// FLOP x (V/V_nominal)^2 + HBM energy per byte. Peaks are the public datasheet figures (dense,
// no sparsity) at the boost clock; the per-FLOP energy is derived from TDP (ASSUMPTION, to be
// calibrated against the gpu module's measurements).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "halo/accel/dvfs.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"

namespace halo::accel {

enum class GpuPath : std::uint8_t { int8, fp8, fp16 };
struct GpuPathTraits {
    GpuPath path;
    std::string_view name;
    int operand_bytes;
};
const std::array<GpuPathTraits, 3>& gpu_path_table();
GpuPath parse_gpu_path(std::string_view text);  // E7050

struct GpuSpec {
    std::string name;
    double boost_mhz = 0;
    double peak_tops[3] = {0, 0, 0};  // dense, indexed by GpuPath, at boost_mhz
    double mem_bandwidth_gbps = 0;
    double tdp_w = 0;
    double idle_w = 0;       // ASSUMPTION
    double hbm_pj_per_byte = 0;
};
// NVIDIA H100 SXM5 and H200 SXM datasheets: 1,979 TOPS INT8 / 1,979 TFLOPS FP8 / 989 TFLOPS
// FP16 dense tensor; HBM3 3.35 TB/s (H100) and HBM3e 4.8 TB/s (H200); 700 W; boost 1,980 MHz.
const std::vector<GpuSpec>& gpu_table();
const GpuSpec& gpu_spec(std::string_view name);  // "h100", "h200"; E7050 otherwise

struct GpuOptions {
    GpuSpec spec = gpu_table()[0];
    GpuPath path = GpuPath::int8;
    // Per-kernel levels: HALO's GPU levels (0.9 V, 1.5 GHz), (1.0 V, 2.0 GHz), (1.1 V, 2.8 GHz);
    // a kernel runs at the slowest level of its tiles.
    DvfsTable dvfs;
    int default_level = -1;  // -1: dvfs.nominal
};
GpuOptions default_gpu_options(std::string_view gpu = "h100");

SimResult simulate_gpu(const std::vector<WorkItem>& work, const GpuOptions& options);

}  // namespace halo::accel
