// Inside libhalo_cuda.so: the two kernels of HALO's tile fitting (hwq/tile_fit.cpp on the GPU).
// tile_fit_kernel.cu is compiled with --fmad=false: every product and sum rounds as the CPU's
// does, and every order-dependent sum runs in the CPU's order, so the fits are bit-identical.
#pragma once

#include <cstdint>

#include <cuda_runtime.h>

namespace halo::cuda {

constexpr int kTileFitBins = 1024;  // hwq::TileHistogram::kBins

// Per tile: the 1024-bin histogram of hwq::tile_histogram, compacted (non-empty bins first).
// `w`/`mask` hold columns [col_base, col_base + ld) of the [rows x cols] matrix, row-major with
// leading dimension ld. Outputs per tile i: center/count [i * kTileFitBins ...], n_bins[i],
// lo_hi_total[3 i .. 3 i + 2]. Needs tile_rows * tile_cols * 2 bytes of dynamic shared memory.
void tile_histograms(const float* w, const std::uint8_t* mask, std::int64_t ld, std::int64_t col_base, std::int64_t rows,
                     std::int64_t cols, std::int64_t tile_rows, std::int64_t tile_cols, const std::int64_t* tiles, int n_tiles,
                     double* center, double* count, int* n_bins, double* lo_hi_total, cudaStream_t s);

// One level as the fit kernel reads it (codes and energies in the flat arrays at `offset`).
struct LevelDesc {
    int offset = 0, n_allowed = 0, has_energy = 0, max_codes = 0, zero_min = -128, zero_max = 127;
    double energy_weight = 0;
};

// Per job j: hwq::fit_histogram of tile job_tile[j]'s histogram at level job_level[j]. Outputs:
// codes [j * 256 ...] (n_codes[j] used), scale, zero, sse, count, energy_fj.
void fit_histograms(const double* center, const double* count, const int* n_bins, const double* lo_hi_total,
                    const int* job_tile, const int* job_level, int n_jobs, const LevelDesc* levels, const int* allowed,
                    const double* energy_fj, int* codes, int* n_codes, float* scale, int* zero, double* sse, double* fit_count,
                    double* fit_energy_fj, cudaStream_t s);

}  // namespace halo::cuda
