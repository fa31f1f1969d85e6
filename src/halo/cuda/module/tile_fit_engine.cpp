// Inside libhalo_cuda.so: HALO's tile fitting (cuda_backend_api.hpp TileFitEngine). One batch is
// one upload of the columns its tiles cover (and their mask), one histogram kernel over the
// distinct tiles, one fit kernel over the jobs, one download of the fits. Buffers only grow,
// so the many small batches of GPTQ's column blocks reuse them.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/cuda/module/device_memory.hpp"
#include "halo/cuda/module/tile_fit_kernel.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

constexpr const char* kLowerTileFit = "use a smaller --tile, or --device cpu";

void ensure(DeviceBuffer& b, std::size_t bytes, const char* what) {
    if (b.bytes() < bytes) b.allocate(bytes, what, kLowerTileFit);
}

template <class T>
void upload(DeviceBuffer& b, const std::vector<T>& v, const char* what) {
    ensure(b, std::max<std::size_t>(1, v.size() * sizeof(T)), what);
    if (!v.empty()) check(cudaMemcpy(b.f(), v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), what);
}

template <class T>
void download(std::vector<T>& v, const DeviceBuffer& b, std::size_t n, const char* what) {
    v.resize(n);
    if (n) check(cudaMemcpy(v.data(), b.f(), n * sizeof(T), cudaMemcpyDeviceToHost), what);
}

class TileFitGpu final : public TileFitEngine {
public:
    explicit TileFitGpu(int device) { check(cudaSetDevice(device), "cudaSetDevice"); }

    TileFitResults fit(const TileFitBatch& b) override {
        const std::size_t n_jobs = b.job_tile.size(), n_tiles = b.tiles.size();
        TileFitResults r;
        if (n_jobs == 0) return r;
        check_batch(b);
        // The columns the tiles cover: [c_lo, c_hi).
        const std::int64_t nct = (b.cols + b.tile_cols - 1) / b.tile_cols;
        std::int64_t ct_lo = nct, ct_hi = -1;
        for (auto t : b.tiles) ct_lo = std::min(ct_lo, t % nct), ct_hi = std::max(ct_hi, t % nct);
        const std::int64_t c_lo = ct_lo * b.tile_cols, c_hi = std::min(b.cols, (ct_hi + 1) * b.tile_cols), ld = c_hi - c_lo;
        const auto rows = static_cast<std::size_t>(b.rows);
        ensure(w_, rows * static_cast<std::size_t>(ld) * sizeof(float), "the weights being fitted");
        ensure(mask_, rows * static_cast<std::size_t>(ld), "the sparse mask");
        check(cudaMemcpy2D(w_.f(), static_cast<std::size_t>(ld) * sizeof(float), b.w + c_lo, static_cast<std::size_t>(b.cols) * sizeof(float),
                           static_cast<std::size_t>(ld) * sizeof(float), rows, cudaMemcpyHostToDevice),
              "upload weights");
        check(cudaMemcpy2D(mask_.f(), static_cast<std::size_t>(ld), b.mask + c_lo, static_cast<std::size_t>(b.cols),
                           static_cast<std::size_t>(ld), rows, cudaMemcpyHostToDevice),
              "upload mask");
        upload(tiles_, b.tiles, "the tile list");
        ensure(center_, n_tiles * kTileFitBins * sizeof(double), "the tile histograms");
        ensure(count_, n_tiles * kTileFitBins * sizeof(double), "the tile histograms");
        ensure(n_bins_, n_tiles * sizeof(int), "the tile histograms");
        ensure(lht_, n_tiles * 3 * sizeof(double), "the tile histograms");
        tile_histograms(w_.f(), reinterpret_cast<const std::uint8_t*>(mask_.f()), ld, c_lo, b.rows, b.cols, b.tile_rows, b.tile_cols,
                        reinterpret_cast<const std::int64_t*>(tiles_.f()), static_cast<int>(n_tiles), center_.d(), count_.d(),
                        n_bins_.i(), lht_.d(), nullptr);
        check(cudaGetLastError(), "tile histogram kernel");

        std::vector<LevelDesc> desc;
        std::vector<std::int32_t> allowed;
        std::vector<double> energy;
        for (const auto& lv : b.levels) {
            LevelDesc d;
            d.offset = static_cast<int>(allowed.size());
            d.n_allowed = static_cast<int>(lv.allowed.size());
            d.has_energy = lv.energy_fj.empty() ? 0 : 1;
            d.max_codes = lv.max_codes;
            d.energy_weight = lv.energy_weight;
            d.zero_min = lv.zero_min, d.zero_max = lv.zero_max;
            desc.push_back(d);
            allowed.insert(allowed.end(), lv.allowed.begin(), lv.allowed.end());
            if (lv.energy_fj.empty()) energy.resize(allowed.size(), 0.0);
            else energy.insert(energy.end(), lv.energy_fj.begin(), lv.energy_fj.end());
        }
        upload(levels_, desc, "the levels");
        upload(allowed_, allowed, "the levels");
        upload(energy_, energy, "the levels");
        upload(job_tile_, b.job_tile, "the jobs");
        upload(job_level_, b.job_level, "the jobs");
        ensure(codes_, n_jobs * kTileFitMaxCodes * sizeof(int), "the fits");
        ensure(n_codes_, n_jobs * sizeof(int), "the fits");
        ensure(zero_, n_jobs * sizeof(int), "the fits");
        ensure(scale_, n_jobs * sizeof(float), "the fits");
        ensure(sse_, n_jobs * sizeof(double), "the fits");
        ensure(fit_count_, n_jobs * sizeof(double), "the fits");
        ensure(fit_energy_, n_jobs * sizeof(double), "the fits");
        fit_histograms(center_.d(), count_.d(), n_bins_.i(), lht_.d(), job_tile_.i(), job_level_.i(), static_cast<int>(n_jobs),
                       reinterpret_cast<const LevelDesc*>(levels_.f()), allowed_.i(), energy_.d(), codes_.i(), n_codes_.i(),
                       scale_.f(), zero_.i(), sse_.d(), fit_count_.d(), fit_energy_.d(), nullptr);
        check(cudaGetLastError(), "tile fit kernel");
        check(cudaDeviceSynchronize(), "tile fit kernels");
        peak_ = std::max(peak_, device_used_bytes());
        download(r.codes, codes_, n_jobs * kTileFitMaxCodes, "download fits");
        download(r.n_codes, n_codes_, n_jobs, "download fits");
        download(r.zero, zero_, n_jobs, "download fits");
        download(r.scale, scale_, n_jobs, "download fits");
        download(r.sse, sse_, n_jobs, "download fits");
        download(r.count, fit_count_, n_jobs, "download fits");
        download(r.energy_fj, fit_energy_, n_jobs, "download fits");
        return r;
    }
    std::size_t peak_device_bytes() const override { return peak_; }

private:
    static void check_batch(const TileFitBatch& b) {
        if (b.tile_rows * b.tile_cols > kTileFitMaxTileWeights)
            throw_bad_value("E8140", "--tile", "the tile is too large for the CUDA tile fitter",
                            fmt::format("at most {} weights per tile", kTileFitMaxTileWeights),
                            fmt::format("{}x{} = {}", b.tile_rows, b.tile_cols, b.tile_rows * b.tile_cols), kLowerTileFit);
        for (const auto& lv : b.levels)
            if (lv.allowed.empty() || lv.allowed.size() > static_cast<std::size_t>(kTileFitMaxCodes) ||
                (!lv.energy_fj.empty() && lv.energy_fj.size() != lv.allowed.size()))
                throw_bad_value("E8141", "--profile", "a DVFS level the CUDA tile fitter cannot hold",
                                fmt::format("1 to {} allowed codes, an energy per code or none", kTileFitMaxCodes),
                                fmt::format("{} codes, {} energies", lv.allowed.size(), lv.energy_fj.size()), "use --device cpu");
        for (std::size_t j = 0; j < b.job_tile.size(); ++j)
            if (b.job_tile[j] < 0 || static_cast<std::size_t>(b.job_tile[j]) >= b.tiles.size() || b.job_level[j] < 0 ||
                static_cast<std::size_t>(b.job_level[j]) >= b.levels.size())
                throw_internal("E8142", fmt::format("tile fit job {} names tile {} of {} and level {} of {}", j, b.job_tile[j],
                                                    b.tiles.size(), b.job_level[j], b.levels.size()));
    }

    DeviceBuffer w_, mask_, tiles_, center_, count_, n_bins_, lht_, levels_, allowed_, energy_, job_tile_, job_level_, codes_,
        n_codes_, zero_, scale_, sse_, fit_count_, fit_energy_;
    std::size_t peak_ = 0;
};

}  // namespace

TileFitEngine* make_tile_fit_engine(int device) { return new TileFitGpu(device); }

}  // namespace halo::cuda
