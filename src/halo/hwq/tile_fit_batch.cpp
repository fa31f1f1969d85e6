#include "halo/hwq/tile_fit_batch.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "halo/util/parallel.hpp"

namespace halo::hwq {

void gather_tile(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& g, std::int64_t t,
                 std::vector<float>& wt, std::vector<std::uint8_t>& mt) {
    const auto b = g.bounds(t);
    wt.clear(), mt.clear();
    for (std::int64_t r = b.r0; r < b.r1; ++r)
        for (std::int64_t c = b.c0; c < b.c1; ++c) {
            wt.push_back(w.at(r, c));
            mt.push_back(mask[static_cast<std::size_t>(r * g.cols + c)]);
        }
}

namespace {
// Job indices grouped by tile (stable: job order within a tile): order, and where each tile's run starts (plus the end).
void group_by_tile(std::span<const TileFitJob> jobs, std::vector<std::size_t>& order, std::vector<std::size_t>& starts) {
    order.resize(jobs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return jobs[a].tile < jobs[b].tile; });
    starts.clear();
    for (std::size_t i = 0; i < order.size(); ++i)
        if (i == 0 || jobs[order[i]].tile != jobs[order[i - 1]].tile) starts.push_back(i);
    starts.push_back(order.size());
}
}  // namespace

std::vector<TileFit> fit_tiles_exact(TileFitter& fitter, const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& g,
                                     std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels, unsigned threads,
                                     std::span<const float> column_weight) {
    std::vector<TileFit> fits = fitter.fit(w, mask, g, jobs, levels);
    std::vector<std::size_t> order, starts;
    group_by_tile(jobs, order, starts);
    parallel_for(starts.size() - 1, threads, [&](std::size_t s, unsigned) {
        std::vector<float> wt, ht;
        std::vector<std::uint8_t> mt;
        const std::int64_t t = jobs[order[starts[s]]].tile;
        gather_tile(w, mask, g, t, wt, mt);
        if (!column_weight.empty()) {  // gather_tile's order: row-major inside the tile
            const auto b = g.bounds(t);
            for (std::int64_t r = b.r0; r < b.r1; ++r)
                for (std::int64_t c = b.c0; c < b.c1; ++c) ht.push_back(column_weight[static_cast<std::size_t>(c)]);
        }
        for (std::size_t i = starts[s]; i < starts[s + 1]; ++i) {
            const auto& lv = levels[static_cast<std::size_t>(jobs[order[i]].level)];
            fits[order[i]] = refit_exact(fits[order[i]], wt, mt, lv.allowed, lv.energy_fj, lv.options, ht);
        }
    });
    return fits;
}

std::vector<TileFit> CpuTileFitter::fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& g,
                                        std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels) {
    // Jobs grouped by tile, so each tile's histogram is built once.
    std::vector<std::size_t> order, starts;
    group_by_tile(jobs, order, starts);
    std::vector<TileFit> fits(jobs.size());
    parallel_for(starts.size() - 1, threads_, [&](std::size_t s, unsigned) {
        std::vector<float> wt;
        std::vector<std::uint8_t> mt;
        gather_tile(w, mask, g, jobs[order[starts[s]]].tile, wt, mt);
        const TileHistogram h = tile_histogram(wt, mt);
        for (std::size_t i = starts[s]; i < starts[s + 1]; ++i) {
            const auto& lv = levels[static_cast<std::size_t>(jobs[order[i]].level)];
            fits[order[i]] = fit_histogram(h, lv.allowed, lv.energy_fj, lv.options);
        }
    });
    return fits;
}

std::string RoutedTileFitter::describe() const {
    return fmt::format("{} (batches under {} jobs: cpu)", large_.describe(), min_jobs_);
}

std::vector<TileFit> RoutedTileFitter::fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& g,
                                           std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels) {
    return jobs.size() < min_jobs_ ? small_.fit(w, mask, g, jobs, levels) : large_.fit(w, mask, g, jobs, levels);
}

}  // namespace halo::hwq
