// The batch tile fitter (tile_fit_batch.hpp) against the reference fit_tile, tile by tile: the
// codebook, scale, zero point, error, count and energy of every job are equal (not close).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>

#include "halo/hwq/tile_fit_batch.hpp"
#include "tile_fit_cases.hpp"

namespace halo::hwq {
namespace {

bool same_double(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

void expect_equal_fit(const TileFit& got, const TileFit& want, const std::string& where) {
    EXPECT_EQ(got.codes, want.codes) << where;
    EXPECT_EQ(std::bit_cast<std::uint32_t>(got.scale), std::bit_cast<std::uint32_t>(want.scale)) << where << " scale " << got.scale << " vs " << want.scale;
    EXPECT_EQ(got.zero, want.zero) << where;
    EXPECT_TRUE(same_double(got.sse, want.sse)) << where << " sse " << got.sse << " vs " << want.sse;
    EXPECT_TRUE(same_double(got.count, want.count)) << where;
    EXPECT_TRUE(same_double(got.energy_fj, want.energy_fj)) << where << " energy " << got.energy_fj << " vs " << want.energy_fj;
}

TEST(TileFitBatch, SplitStepsAreFitTile) {
    const auto c = tile_cases::tile_fit_case();
    std::vector<float> wt;
    std::vector<std::uint8_t> mt;
    gather_tile(c.w, c.mask, c.grid, 0, wt, mt);
    ASSERT_EQ(wt.size(), 128u * 128u);
    const TileHistogram h = tile_histogram(wt, mt);
    EXPECT_LE(h.center.size(), static_cast<std::size_t>(TileHistogram::kBins));
    double n = 0;
    for (auto m : mt) n += m;
    EXPECT_EQ(h.total, n);  // every dense weight in one bin, no sparse one
    for (const auto& lv : c.levels)
        expect_equal_fit(fit_histogram(h, lv.allowed, lv.energy_fj, lv.options), fit_tile(wt, mt, lv.allowed, lv.energy_fj, lv.options),
                         "tile 0");
}

TEST(TileFitBatch, CpuFitterEqualsTheReferenceOnEveryTileAndLevel) {
    const auto c = tile_cases::tile_fit_case();
    ASSERT_EQ(c.grid.count(), 9);  // 3 x 3 tiles, the last row and column partial
    auto jobs = tile_cases::every_job(c);
    std::reverse(jobs.begin(), jobs.end());  // job order is the caller's, not the tiles'
    CpuTileFitter fitter(3);
    const auto fits = fitter.fit(c.w, c.mask, c.grid, jobs, c.levels);
    ASSERT_EQ(fits.size(), jobs.size());
    bool lloyd_ran = false, constant_seen = false, empty_seen = false;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        std::vector<float> wt;
        std::vector<std::uint8_t> mt;
        gather_tile(c.w, c.mask, c.grid, jobs[i].tile, wt, mt);
        const auto& lv = c.levels[static_cast<std::size_t>(jobs[i].level)];
        const auto want = fit_tile(wt, mt, lv.allowed, lv.energy_fj, lv.options);
        expect_equal_fit(fits[i], want, "tile " + std::to_string(jobs[i].tile) + " level " + std::to_string(jobs[i].level));
        if (jobs[i].level == 2 && want.codes.size() == 9 && want.count > 0) lloyd_ran = true;
        if (jobs[i].tile == 1) constant_seen = want.codes.size() == 1 && want.count == 128 * 128;
        if (jobs[i].tile == 3) empty_seen = want.count == 0;
    }
    EXPECT_TRUE(lloyd_ran);
    EXPECT_TRUE(constant_seen);
    EXPECT_TRUE(empty_seen);
}

TEST(TileFitBatch, ASubsetOfTilesIsFittedAtItsOwnLevels) {
    const auto c = tile_cases::tile_fit_case(256, 384, 128, 11);
    const std::vector<TileFitJob> jobs = {{4, 1}, {1, 0}, {4, 2}, {2, 3}};
    CpuTileFitter fitter(2);
    const auto fits = fitter.fit(c.w, c.mask, c.grid, jobs, c.levels);
    ASSERT_EQ(fits.size(), 4u);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        std::vector<float> wt;
        std::vector<std::uint8_t> mt;
        gather_tile(c.w, c.mask, c.grid, jobs[i].tile, wt, mt);
        const auto& lv = c.levels[static_cast<std::size_t>(jobs[i].level)];
        expect_equal_fit(fits[i], fit_tile(wt, mt, lv.allowed, lv.energy_fj, lv.options), "job " + std::to_string(i));
    }
    EXPECT_NE(fits[0].codes, fits[2].codes);  // same tile, two levels: two codebooks
}

// A fitter that records the batch sizes it was given and fits on the CPU.
class CountingFitter final : public TileFitter {
public:
    std::string describe() const override { return "counting"; }
    std::vector<TileFit> fit(const model::Matrix& w, std::span<const std::uint8_t> mask, const TileGrid& g,
                             std::span<const TileFitJob> jobs, std::span<const LevelCodebook> levels) override {
        batches.push_back(jobs.size());
        return CpuTileFitter(1).fit(w, mask, g, jobs, levels);
    }
    std::vector<std::size_t> batches;
};

TEST(TileFitBatch, RoutedFitterSendsSmallBatchesToTheCpuWithTheSameFits) {
    const auto c = tile_cases::tile_fit_case();
    const auto all = tile_cases::every_job(c);  // 9 tiles x the case's levels
    ASSERT_GT(all.size(), 5u);
    const std::vector<TileFitJob> few(all.begin(), all.begin() + 5);
    CountingFitter large;
    RoutedTileFitter routed(large, 2, 6);
    EXPECT_EQ(routed.describe(), "counting (batches under 6 jobs: cpu)");
    const auto small_fits = routed.fit(c.w, c.mask, c.grid, few, c.levels);
    EXPECT_TRUE(large.batches.empty());  // 5 jobs < 6: the CPU's
    const auto large_fits = routed.fit(c.w, c.mask, c.grid, all, c.levels);
    EXPECT_EQ(large.batches, std::vector<std::size_t>{all.size()});
    const auto want = CpuTileFitter(1).fit(c.w, c.mask, c.grid, all, c.levels);
    for (std::size_t i = 0; i < all.size(); ++i) expect_equal_fit(large_fits[i], want[i], "large job " + std::to_string(i));
    for (std::size_t i = 0; i < few.size(); ++i) expect_equal_fit(small_fits[i], want[i], "small job " + std::to_string(i));
}

}  // namespace
}  // namespace halo::hwq
