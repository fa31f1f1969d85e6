#include "halo/cuda/cuda_tile_fit.hpp"

#include <map>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

CudaTileFitter::CudaTileFitter(int device) : device_(device), engine_(backend_api().make_tile_fit(device)) {}
CudaTileFitter::~CudaTileFitter() = default;

std::string CudaTileFitter::describe() const { return fmt::format("cuda:{}", device_); }

std::size_t CudaTileFitter::peak_device_bytes() const { return engine_->peak_device_bytes(); }

std::vector<hwq::TileFit> CudaTileFitter::fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const hwq::TileGrid& g,
                                              std::span<const hwq::TileFitJob> jobs, std::span<const hwq::LevelCodebook> levels) {
    if (w.rows != g.rows || w.cols != g.cols || mask.size() != w.data.size())
        throw_internal("E8143", fmt::format("tile fit of a {}x{} weight with a {}x{} grid and a mask of {}", w.rows, w.cols, g.rows,
                                            g.cols, mask.size()));
    TileFitBatch b;
    b.w = w.data.data(), b.mask = mask.data();
    b.rows = g.rows, b.cols = g.cols, b.tile_rows = g.tile_rows, b.tile_cols = g.tile_cols;
    std::map<std::int64_t, std::int32_t> slot;  // tile -> index into b.tiles
    for (const auto& j : jobs) {
        const auto [it, added] = slot.emplace(j.tile, static_cast<std::int32_t>(b.tiles.size()));
        if (added) b.tiles.push_back(j.tile);
        b.job_tile.push_back(it->second);
        b.job_level.push_back(j.level);
    }
    for (const auto& lv : levels)
        b.levels.push_back({std::vector<std::int32_t>(lv.allowed.begin(), lv.allowed.end()), lv.energy_fj, lv.options.max_codes,
                            lv.options.energy_weight, lv.options.zero_min, lv.options.zero_max});
    const TileFitResults r = engine_->fit(b);
    std::vector<hwq::TileFit> fits(jobs.size());
    for (std::size_t i = 0; i < fits.size(); ++i) {
        auto& f = fits[i];
        const auto* c = r.codes.data() + i * kTileFitMaxCodes;
        f.codes.assign(c, c + r.n_codes[i]);
        f.scale = r.scale[i], f.zero = r.zero[i], f.sse = r.sse[i], f.count = r.count[i], f.energy_fj = r.energy_fj[i];
    }
    return fits;
}

}  // namespace halo::cuda
