// HALO's tile fitting on the GPU: hwq/tile_fit.cpp's two steps, line for line where the order of
// floating-point operations matters. Parallel where the CPU's result does not depend on the
// order (min/max, integer counts, each bin's nearest code), sequential in the CPU's order where
// it does (a bin's sum of weights, the error/energy/least-squares sums over bins, the Lloyd
// selection). Compiled with --fmad=false (src/halo/gpu/CMakeLists.txt).
#include <cmath>
#include <limits>

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cuda_fp16.h>

#include "halo/cuda/module/tile_fit_kernel.hpp"

namespace halo::cuda {
namespace {

constexpr int kHistThreads = 1024;  // one thread per bin
constexpr int kFitThreads = 256;
constexpr int kMaxCodes = 256;
constexpr std::uint16_t kSparse = 0xFFFF;

// quant::scale_format(fp16).round: clamp to the FP16 range (std::clamp), round to nearest even.
__device__ float fp16_round(float x) {
    const float c = x < -65504.0f ? -65504.0f : (65504.0f < x ? 65504.0f : x);
    return __half2float(__float2half_rn(c));
}

// hwq::nearest_code: lower_bound on float(code) < u, ties to the lower code.
__device__ int nearest_code(const int* codes, int n, float u) {
    int first = 0, len = n;
    while (len > 0) {
        const int half = len / 2;
        if (static_cast<float>(codes[first + half]) < u) first += half + 1, len -= half + 1;
        else len = half;
    }
    if (first == 0) return codes[0];
    if (first == n) return codes[n - 1];
    const int hi = codes[first], lo = codes[first - 1];
    return (u - static_cast<float>(lo)) <= (static_cast<float>(hi) - u) ? lo : hi;
}

__device__ int lower_index(const int* codes, int n, int c) {
    int first = 0, len = n;
    while (len > 0) {
        const int half = len / 2;
        if (codes[first + half] < c) first += half + 1, len -= half + 1;
        else len = half;
    }
    return first;
}

__global__ void __launch_bounds__(kHistThreads) histogram_kernel(const float* w, const std::uint8_t* mask, std::int64_t ld,
                                                                 std::int64_t col_base, std::int64_t rows, std::int64_t cols,
                                                                 std::int64_t tile_rows, std::int64_t tile_cols,
                                                                 const std::int64_t* tiles, double* center, double* count,
                                                                 int* n_bins, double* lo_hi_total) {
    extern __shared__ std::uint16_t bins[];
    using Reduce = cub::BlockReduce<float, kHistThreads>;
    using Scan = cub::BlockScan<int, kHistThreads>;
    __shared__ union {
        typename Reduce::TempStorage reduce;
        typename Scan::TempStorage scan;
    } tmp;
    __shared__ float sh_lo, sh_hi;
    const int tid = static_cast<int>(threadIdx.x);
    const std::int64_t n_col_tiles = (cols + tile_cols - 1) / tile_cols;
    const std::int64_t tile = tiles[blockIdx.x];
    const std::int64_t r0 = (tile / n_col_tiles) * tile_rows, c0 = (tile % n_col_tiles) * tile_cols;
    const std::int64_t tw = min(cols, c0 + tile_cols) - c0, th = min(rows, r0 + tile_rows) - r0;
    const int n = static_cast<int>(tw * th);
    auto at = [&](int i) { return (r0 + i / tw) * ld + (c0 + i % tw - col_base); };
    // Range of the dense weights (exact in float: min and max do not round).
    float lo = INFINITY, hi = -INFINITY;
    for (int i = tid; i < n; i += kHistThreads) {
        const auto k = at(i);
        if (mask[k]) {
            const float v = w[k];
            lo = v < lo ? v : lo;  // std::min(lo, v) keeps lo on a NaN
            hi = hi < v ? v : hi;
        }
    }
    lo = Reduce(tmp.reduce).Reduce(lo, [](float a, float b) { return b < a ? b : a; });
    __syncthreads();
    hi = Reduce(tmp.reduce).Reduce(hi, [](float a, float b) { return a < b ? b : a; });
    if (tid == 0) sh_lo = lo, sh_hi = hi;
    __syncthreads();
    const double dlo = sh_lo, dhi = sh_hi;
    double* out_center = center + static_cast<std::int64_t>(blockIdx.x) * kTileFitBins;
    double* out_count = count + static_cast<std::int64_t>(blockIdx.x) * kTileFitBins;
    double* out_lht = lo_hi_total + 3 * static_cast<std::int64_t>(blockIdx.x);
    if (!(dlo <= dhi)) {  // no dense weight: the CPU's empty histogram
        if (tid == 0) n_bins[blockIdx.x] = 0, out_lht[0] = 0, out_lht[1] = 0, out_lht[2] = 0;
        return;
    }
    const double width = (dhi - dlo) / kTileFitBins;
    for (int i = tid; i < n; i += kHistThreads) {
        const auto k = at(i);
        if (!mask[k]) {
            bins[i] = kSparse;
            continue;
        }
        int b = width > 0 ? static_cast<int>((static_cast<double>(w[k]) - dlo) / width) : 0;
        b = b < 0 ? 0 : (b > kTileFitBins - 1 ? kTileFitBins - 1 : b);
        bins[i] = static_cast<std::uint16_t>(b);
    }
    __syncthreads();
    // Thread b sums bin b's weights in index order, as the CPU's single pass does.
    double sum = 0, cnt = 0;
    for (int i = 0; i < n; ++i)
        if (bins[i] == tid) sum += static_cast<double>(w[at(i)]), cnt += 1;
    const int nonempty = cnt > 0 ? 1 : 0;
    int pos = 0, used = 0;
    Scan(tmp.scan).ExclusiveSum(nonempty, pos, used);
    if (nonempty) out_center[pos] = sum / cnt, out_count[pos] = cnt;
    if (tid == 0) {
        n_bins[blockIdx.x] = used;
        out_lht[0] = dlo, out_lht[1] = dhi;
    }
    __syncthreads();
    // The total: integer counts, exact in any order; summed by thread 0 in bin order anyway.
    if (tid == 0) {
        double total = 0;
        for (int i = 0; i < used; ++i) total += out_count[i];
        out_lht[2] = total;
    }
}

struct FitShared {
    double center[kTileFitBins], count[kTileFitBins];
    int code_of_bin[kTileFitBins];
    int allowed[kMaxCodes], codes[kMaxCodes], next[kMaxCodes];
    double energy[kMaxCodes];
    double cb_sum[kMaxCodes], cb_cnt[kMaxCodes];
    double sums[4];
    float s;
    int z, n_codes, go_on;
};

// The four sums of score() and the least-squares step over bins [0, nb), each in bin order by
// lane 0 of its own warp: squared error, energy, sum count*center*(c-z), sum count*(c-z)^2.
__device__ void bin_sums(FitShared& sh, int nb, float s, int z, bool has_energy, int n_allowed) {
    for (int i = static_cast<int>(threadIdx.x); i < nb; i += kFitThreads)
        sh.code_of_bin[i] = nearest_code(sh.codes, sh.n_codes, static_cast<float>(sh.center[i] / s + z));
    __syncthreads();
    const int warp = static_cast<int>(threadIdx.x) / 32;
    if (threadIdx.x % 32 == 0 && warp < 4) {
        double acc = 0;
        for (int i = 0; i < nb; ++i) {
            const int c = sh.code_of_bin[i];
            if (warp == 0) {
                const double d = sh.center[i] - double(s) * (c - z);
                acc += sh.count[i] * d * d;
            } else if (warp == 1) {
                if (!has_energy) break;
                const double ef = sh.energy[lower_index(sh.allowed, n_allowed, c)];
                if (isfinite(ef)) acc += sh.count[i] * ef;
            } else if (warp == 2) {
                acc += sh.count[i] * sh.center[i] * (c - z);
            } else {
                acc += sh.count[i] * double(c - z) * (c - z);
            }
        }
        sh.sums[warp] = acc;
    }
    __syncthreads();
}

// hwq::fit_histogram's snap: the allowed code not yet taken that minimizes
// cnt * (code - target)^2 + energy_weight * cnt * energy / mean energy.
__device__ int snap(const FitShared& sh, int n_allowed, bool has_energy, double emean, double energy_weight, double target,
                    double cnt, const int* taken, int n_taken) {
    int bestc = sh.allowed[0];
    double bc = INFINITY;
    for (int a = 0; a < n_allowed; ++a) {
        bool used = false;
        for (int t = 0; t < n_taken; ++t) used = used || taken[t] == sh.allowed[a];
        if (used) continue;
        const double e = !has_energy || !isfinite(sh.energy[a]) ? 0 : sh.energy[a] / emean;
        const double c = cnt * (sh.allowed[a] - target) * (sh.allowed[a] - target) + energy_weight * cnt * e;
        if (c < bc) bc = c, bestc = sh.allowed[a];
    }
    return bestc;
}

__device__ void sort_codes(int* v, int n) {  // insertion sort (std::sort's result: ascending)
    for (int i = 1; i < n; ++i) {
        const int x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) v[j + 1] = v[j], --j;
        v[j + 1] = x;
    }
}

// The codebook selection (Lloyd in the code domain), by one thread: cheap next to the scale
// search and full of order-dependent steps.
__device__ void select_codes(FitShared& sh, int nb, double lo, double hi, double total, int n_allowed, bool has_energy,
                             double emean, double energy_weight, int k) {
    const int amin = sh.allowed[0], amax = sh.allowed[n_allowed - 1];
    const double s0 = (hi - lo) / (amax - amin);
    const double z0 = amin - lo / s0;
    auto u = [&](int i) { return sh.center[i] / s0 + z0; };
    int* cb = sh.codes;
    int n = 0;
    double acc = 0;
    int qi = 0;
    for (int j = 0; j < k; ++j) {
        const double target = (j + 0.5) / k * total;
        while (qi + 1 < nb && acc + sh.count[qi] < target) acc += sh.count[qi++];
        cb[n] = snap(sh, n_allowed, has_energy, emean, energy_weight, u(qi), 1, cb, n);
        ++n;
    }
    sort_codes(cb, n);
    for (int it = 0; it < 12; ++it) {
        for (int j = 0; j < n; ++j) sh.cb_sum[j] = 0, sh.cb_cnt[j] = 0;
        for (int i = 0; i < nb; ++i) {
            const double ui = u(i);
            const int c = nearest_code(cb, n, static_cast<float>(ui));
            const int j = lower_index(cb, n, c);
            sh.cb_sum[j] += sh.count[i] * ui;
            sh.cb_cnt[j] += sh.count[i];
        }
        int m = 0;
        for (int j = 0; j < n; ++j) {
            const double target = sh.cb_cnt[j] > 0 ? sh.cb_sum[j] / sh.cb_cnt[j] : cb[j];
            sh.next[m] = snap(sh, n_allowed, has_energy, emean, energy_weight, target, sh.cb_cnt[j] > 1.0 ? sh.cb_cnt[j] : 1.0,
                              sh.next, m);
            ++m;
        }
        sort_codes(sh.next, m);
        bool same = true;
        for (int j = 0; j < n; ++j) same = same && sh.next[j] == cb[j];
        if (same) break;
        for (int j = 0; j < n; ++j) cb[j] = sh.next[j];
    }
    sh.n_codes = n;
}

__global__ void __launch_bounds__(kFitThreads) fit_kernel(const double* center, const double* count, const int* n_bins,
                                                          const double* lo_hi_total, const int* job_tile, const int* job_level,
                                                          const LevelDesc* levels, const int* allowed, const double* energy_fj,
                                                          int* out_codes, int* out_n_codes, float* out_scale, int* out_zero,
                                                          double* out_sse, double* out_count, double* out_energy) {
    __shared__ FitShared sh;
    const int job = static_cast<int>(blockIdx.x), tid = static_cast<int>(threadIdx.x);
    const int h = job_tile[job];
    const LevelDesc L = levels[job_level[job]];
    const int nb = n_bins[h];
    const double lo = lo_hi_total[3 * h], hi = lo_hi_total[3 * h + 1], total = lo_hi_total[3 * h + 2];
    for (int i = tid; i < nb; i += kFitThreads)
        sh.center[i] = center[static_cast<std::int64_t>(h) * kTileFitBins + i], sh.count[i] = count[static_cast<std::int64_t>(h) * kTileFitBins + i];
    for (int a = tid; a < L.n_allowed; a += kFitThreads) {
        sh.allowed[a] = allowed[L.offset + a];
        sh.energy[a] = L.has_energy ? energy_fj[L.offset + a] : 0.0;
    }
    __syncthreads();
    const bool has_energy = L.has_energy != 0;
    const int amin = sh.allowed[0], amax = sh.allowed[L.n_allowed - 1];
    int* codes_out = out_codes + static_cast<std::int64_t>(job) * kMaxCodes;
    auto write = [&](float s, int z, double sse, double cnt, double e) {
        if (tid == 0) {
            for (int j = 0; j < sh.n_codes; ++j) codes_out[j] = sh.codes[j];
            out_n_codes[job] = sh.n_codes, out_scale[job] = s, out_zero[job] = z, out_sse[job] = sse, out_count[job] = cnt;
            out_energy[job] = e;
        }
    };
    if (total == 0 || hi == lo || amin == amax) {
        // Constant tile (or a single code): one code c; z = c makes 0 exact, z = c - 1 lets the scale carry the value.
        if (tid == 0) {
            const double v = total > 0 ? (lo + hi) / 2 : 0;
            const int c = nearest_code(sh.allowed, L.n_allowed, static_cast<float>(L.zero_min + L.zero_max) / 2);
            const int zz = v == 0 ? c : c - 1;
            const int z = zz < L.zero_min ? L.zero_min : (L.zero_max < zz ? L.zero_max : zz);
            const int d = c - z;
            sh.codes[0] = c, sh.n_codes = 1;
            sh.s = d != 0 && v != 0 ? fp16_round(static_cast<float>(v / d)) : 1.0f;
            sh.z = z;
        }
        __syncthreads();
        const float s = sh.s;
        const int z = sh.z;
        bin_sums(sh, nb, s, z, has_energy, L.n_allowed);
        write(s, z, sh.sums[0], total, total > 0 ? sh.sums[1] / total : 0);
        return;
    }
    // 1. Codebook selection.
    const int k = L.max_codes > 0 ? L.max_codes : L.n_allowed;
    if (tid == 0) {
        double emean = 0;
        int en = 0;
        for (int a = 0; a < L.n_allowed && has_energy; ++a)
            if (isfinite(sh.energy[a])) emean += sh.energy[a], ++en;
        emean = en ? emean / en : 1;
        if (L.n_allowed > k) {
            select_codes(sh, nb, lo, hi, total, L.n_allowed, has_energy, emean, L.energy_weight, k);
        } else {
            for (int a = 0; a < L.n_allowed; ++a) sh.codes[a] = sh.allowed[a];
            sh.n_codes = L.n_allowed;
        }
    }
    __syncthreads();
    // 2. Scale and zero point: clip grid + least-squares scale refinement.
    double best_sse = INFINITY, best_e = 0, best_count = 0;
    float best_s = 1.0f;
    int best_z = 0;
    bool found = false;
    const int cmin = sh.codes[0], cmax = sh.codes[sh.n_codes - 1];
    for (double clip = 1.0; clip > 0.55; clip -= 0.05) {
        const double clo = lo * clip, chi = hi * clip;
        float s = fp16_round(static_cast<float>((chi - clo) / (cmax - cmin > 1 ? cmax - cmin : 1)));
        if (!(s > 0)) continue;
        const int zr = static_cast<int>(lround(cmin - clo / s));
        int z = zr < L.zero_min ? L.zero_min : (L.zero_max < zr ? L.zero_max : zr);
        for (int refine = 0; refine < 3; ++refine) {
            bin_sums(sh, nb, s, z, has_energy, L.n_allowed);  // every thread reads the same sums
            const double sse = sh.sums[0];
            if (sse < best_sse) {
                best_sse = sse, best_s = s, best_z = z, best_count = total, found = true;
                best_e = total > 0 ? sh.sums[1] / total : 0;
            }
            const double num = sh.sums[2], den = sh.sums[3];
            __syncthreads();  // sums read by all before the next bin_sums writes them
            if (!(den > 0) || !(num > 0)) break;
            s = fp16_round(static_cast<float>(num / den));
        }
    }
    if (!found) sh.n_codes = 0;  // the CPU's default TileFit: no codes, scale 1, zero 0, sse inf
    __syncthreads();
    write(best_s, best_z, best_sse, best_count, best_e);
}

}  // namespace

void tile_histograms(const float* w, const std::uint8_t* mask, std::int64_t ld, std::int64_t col_base, std::int64_t rows,
                     std::int64_t cols, std::int64_t tile_rows, std::int64_t tile_cols, const std::int64_t* tiles, int n_tiles,
                     double* center, double* count, int* n_bins, double* lo_hi_total, cudaStream_t s) {
    if (n_tiles <= 0) return;
    const std::size_t smem = static_cast<std::size_t>(tile_rows * tile_cols) * sizeof(std::uint16_t);
    cudaFuncSetAttribute(histogram_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem));
    histogram_kernel<<<n_tiles, kHistThreads, smem, s>>>(w, mask, ld, col_base, rows, cols, tile_rows, tile_cols, tiles, center,
                                                          count, n_bins, lo_hi_total);
}

void fit_histograms(const double* center, const double* count, const int* n_bins, const double* lo_hi_total,
                    const int* job_tile, const int* job_level, int n_jobs, const LevelDesc* levels, const int* allowed,
                    const double* energy_fj, int* codes, int* n_codes, float* scale, int* zero, double* sse, double* fit_count,
                    double* fit_energy_fj, cudaStream_t s) {
    if (n_jobs <= 0) return;
    fit_kernel<<<n_jobs, kFitThreads, 0, s>>>(center, count, n_bins, lo_hi_total, job_tile, job_level, levels, allowed, energy_fj,
                                              codes, n_codes, scale, zero, sse, fit_count, fit_energy_fj);
}

}  // namespace halo::cuda
