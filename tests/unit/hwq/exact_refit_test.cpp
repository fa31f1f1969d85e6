// The exact step after HALO's histogram tile fit (tile_fit.hpp, refit_exact): the fit is never
// worse than either candidate on the tile's real weights, the min/max candidate is the uniform
// baselines' scale and zero bit for bit, and a level with every INT8 code is at least as
// accurate, tile by tile, as RTN on the same per-tile INT8 grid (the DVFS-aware baseline).
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/tile_fit.hpp"
#include "halo/hwq/tile_fit_batch.hpp"
#include "halo/quant/format.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/quant/scale_format.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

// Gaussian weights with a heavy tail: 1 in 50 is 6-10x larger (the ffn_down-like tiles on which
// the histogram's clip search chose clipped scales).
std::vector<float> heavy_tailed(std::size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> g(0.0f, 0.02f);
    std::uniform_real_distribution<float> u(6.0f, 10.0f);
    std::vector<float> w(n);
    for (std::size_t i = 0; i < n; ++i) w[i] = g(rng) * (i % 50 == 7 ? u(rng) : 1.0f);
    return w;
}

std::vector<int> all_int8() {
    std::vector<int> v;
    for (int c = -128; c < 128; ++c) v.push_back(c);
    return v;
}

double exact_sse(const std::vector<float>& w, const TileFit& f) {
    double s = 0;
    for (float x : w) {
        const double d = double(x) - quantize_with(f, x);
        s += d * d;
    }
    return s;
}

double weighted_sse(const std::vector<float>& w, const std::vector<float>& h, const TileFit& f) {
    double s = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
        const double d = double(w[i]) - quantize_with(f, w[i]);
        s += double(h[i]) * d * d;
    }
    return s;
}

TEST(ExactRefit, PicksTheLowerWeightedErrorOfTheTwoCandidatesAndReportsTheExactError) {
    std::vector<int> sixteen;
    for (int c = 0; c <= 120; c += 8) sixteen.push_back(c);
    int min_max_won = 0;
    for (unsigned seed = 1; seed <= 8; ++seed)
        for (const auto& allowed : {all_int8(), sixteen}) {
            auto w = heavy_tailed(128 * 128, seed);
            // An input channel with large activations (X^T X diagonal 1000x the others) holding
            // the tile's largest weight: what ffn_down's tiles look like.
            std::vector<float> h(w.size(), 1.0f);
            for (std::size_t r = 0; r < 128; ++r) h[r * 128 + 5] = 1000.0f;
            w[17 * 128 + 5] = 0.6f;
            const TileFit hist = fit_tile(w, {}, allowed, {}, {});
            TileFit mm = hist;
            min_max_scale_zero(w, {}, mm.codes, {}, mm.scale, mm.zero);
            const TileFit best = refit_exact(hist, w, {}, allowed, {}, {}, h);
            EXPECT_EQ(best.codes, hist.codes);
            EXPECT_EQ(best.count, static_cast<double>(w.size()));
            EXPECT_NEAR(best.sse, exact_sse(w, best), 1e-9 * exact_sse(w, best));  // unweighted, exact
            const TileFit plain = refit_exact(hist, w, {}, allowed, {}, {});  // without importance every weight counts 1
            if (is_every_int8_code(allowed)) {
                // Every INT8 code: the min/max grid without a contest (part G), weighted or not.
                EXPECT_TRUE(best.scale == mm.scale && best.zero == mm.zero) << seed;
                EXPECT_TRUE(plain.scale == mm.scale && plain.zero == mm.zero) << seed;
                EXPECT_NEAR(plain.sse, exact_sse(w, mm), 1e-9 * plain.sse);
                continue;
            }
            EXPECT_NEAR(weighted_sse(w, h, best), std::min(weighted_sse(w, h, hist), weighted_sse(w, h, mm)),
                        1e-9 * weighted_sse(w, h, best));
            if (best.scale == mm.scale && best.zero == mm.zero && weighted_sse(w, h, mm) < weighted_sse(w, h, hist)) ++min_max_won;
            EXPECT_NEAR(plain.sse, std::min(exact_sse(w, hist), exact_sse(w, mm)), 1e-9 * plain.sse);
        }
    // The reproducer of part E: the histogram's clip search clips the heavy channel's weight; on
    // the 16-code grid too the min/max scale is better there.
    EXPECT_GE(min_max_won, 1);
}

TEST(ExactRefit, EveryInt8CodeKeepsTheMinMaxGridEvenWhereTheClippedOneScoresLower) {
    // Gaussian weights with one large weight on a channel whose inputs are small: clipping it
    // lowers the weighted error (the contest would take the clipped grid), but a level with every
    // INT8 code keeps min/max; the same tile on a 255-code level (not every code) still contests.
    std::mt19937 rng(4);
    std::normal_distribution<float> g(0.0f, 0.02f);
    std::vector<float> w(128 * 128);
    for (auto& x : w) x = g(rng);
    w[3 * 128 + 9] = 0.3f;
    std::vector<float> h(w.size(), 1.0f);
    for (std::size_t r = 0; r < 128; ++r) h[r * 128 + 9] = 1e-3f;
    const auto every = all_int8();
    const std::vector<int> all_but_one(every.begin(), every.end() - 1);
    ASSERT_TRUE(is_every_int8_code(every));
    ASSERT_FALSE(is_every_int8_code(all_but_one));
    ASSERT_FALSE(is_every_int8_code(std::vector<int>{-128, 127}));
    for (const auto& allowed : {every, all_but_one}) {
        TileFit clipped = fit_tile(w, {}, allowed, {}, {});
        TileFit mm = clipped;
        min_max_scale_zero(w, {}, mm.codes, {}, mm.scale, mm.zero);
        // A grid that keeps the Gaussian's range and clips the one large weight to half.
        const float lo = *std::min_element(w.begin(), w.end());
        clipped.scale = quant::scale_format(quant::ScaleFormat::fp16).round((0.15f - lo) / 255.0f);
        clipped.zero = static_cast<int>(std::nearbyint(-128.0f - lo / clipped.scale));
        ASSERT_LT(weighted_sse(w, h, clipped), weighted_sse(w, h, mm));
        const TileFit best = refit_exact(clipped, w, {}, allowed, {}, {}, h);
        if (is_every_int8_code(allowed)) {
            EXPECT_EQ(best.scale, mm.scale);
            EXPECT_EQ(best.zero, mm.zero);
            EXPECT_NEAR(best.sse, exact_sse(w, mm), 1e-9 * best.sse);
        } else {
            EXPECT_EQ(best.scale, clipped.scale);
        }
    }
}

TEST(ExactRefit, MasksOutTheSparsePartAndScoresOnlyDenseWeights) {
    auto w = heavy_tailed(64 * 64, 3);
    std::vector<std::uint8_t> mask(w.size(), 1);
    w[10] = 5.0f, mask[10] = 0;  // a sparse outlier: neither the range nor the error may see it
    const auto allowed = all_int8();
    const TileFit best = refit_exact(fit_tile(w, mask, allowed, {}, {}), w, mask, allowed, {}, {});
    EXPECT_EQ(best.count, static_cast<double>(w.size() - 1));
    double sse = 0;
    for (std::size_t i = 0; i < w.size(); ++i)
        if (mask[i]) sse += (double(w[i]) - quantize_with(best, w[i])) * (double(w[i]) - quantize_with(best, w[i]));
    EXPECT_NEAR(best.sse, sse, 1e-9 * sse);
    EXPECT_LT(best.scale, 5.0f / 255);  // the outlier did not stretch the grid
}

TEST(ExactRefit, MinMaxCandidateIsTheUniformBaselinesScaleAndZero) {
    const auto spec = quant::make_spec("int8-asym", quant::Granularity::per_tile(128, 128));
    for (unsigned seed = 1; seed <= 20; ++seed) {
        auto w = heavy_tailed(128 * 128, seed);
        if (seed % 3 == 0)
            for (auto& x : w) x = std::fabs(x) + 0.01f;  // all positive: the range includes 0, as quant's does
        const auto p = quant::fit_group(spec, w);
        float s = 0;
        int z = 0;
        min_max_scale_zero(w, {}, all_int8(), {}, s, z);
        EXPECT_EQ(s, p.scale) << seed;
        EXPECT_EQ(z, static_cast<int>(p.zero) - 128) << seed;  // int8-asym stores the zero offset by 128
    }
}

TEST(ExactRefit, FullInt8LevelIsTileByTileAtLeastAsAccurateAsRtnOnTheSameGrid) {
    // HALO with the sparse part off and every tile at L0 (all 256 codes on the synthetic ladder),
    // round to nearest, against quant's RTN with int8-asym per 32x32 tile: the DVFS-aware
    // rtn-w8-asym-dvfs row on the same grid.
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    ASSERT_EQ(L.levels[0].values.size(), 256u);
    model::Matrix w(96, 160);
    w.data = heavy_tailed(96 * 160, 11);
    HaloOptions o;
    o.tile_k = 32, o.tile_n = 32;
    o.gptq = false;
    o.sparse.salient_fraction = 0;
    o.sparse.outlier_sigma = 1e9;
    const TileGrid g = make_grid(w.rows, w.cols, 32, 32, "synthetic");
    const std::vector<int> at_l0(static_cast<std::size_t>(g.count()), 0);
    CodebookRegistry books;
    const auto r = quantize_linear_halo(w, {}, 0, nullptr, L, o, books, "synthetic", &at_l0);
    EXPECT_EQ(r.sparse_nnz, 0);
    const auto rtn = quant::quantize_rtn(w, quant::make_spec("int8-asym", quant::Granularity::per_tile(32, 32)));
    const auto dh = r.tensor.decode(), db = rtn.decode();
    int same_grid = 0;
    for (std::int64_t t = 0; t < g.count(); ++t) {
        const auto b = g.bounds(t);
        double eh = 0, eb = 0;
        bool equal = true;
        for (std::int64_t rr = b.r0; rr < b.r1; ++rr)
            for (std::int64_t cc = b.c0; cc < b.c1; ++cc) {
                eh += std::pow(double(w.at(rr, cc)) - dh.at(rr, cc), 2);
                eb += std::pow(double(w.at(rr, cc)) - db.at(rr, cc), 2);
                equal = equal && dh.at(rr, cc) == db.at(rr, cc);
            }
        EXPECT_LE(eh, eb * (1 + 1e-12)) << "tile " << t;
        const auto& ph = r.tensor.params(t);
        const auto& pb = rtn.params(t);
        if (ph.scale == pb.scale && ph.zero == pb.zero) {
            ++same_grid;
            EXPECT_TRUE(equal) << "tile " << t << ": the same scale and zero must decode to the same weights";
        }
    }
    EXPECT_GE(same_grid, 1);  // the baseline's grid is among HALO's candidates and won somewhere
}

TEST(ExactRefit, TheBaselinesScaleAndZeroGiveItsCodesWhenWeightsTie) {
    // Weights on a coarse grid (as a model dequantized from Q4_1): m * 2^-10 with integer m, each
    // 32x32 tile spanning -255..255, so the min/max scale is 2^-9 and every odd m is an exact tie
    // w / s = k + 0.5. quant's encode rounds ties to even (std::nearbyint); HALO's rounding
    // (quantize_with, and the exact step's scoring) must give the same codes on the baseline's
    // scale and zero (before part G it rounded ties down: 0.24 perplexity on SmolLM2).
    model::Matrix w(64, 96);
    std::mt19937 rng(5);
    std::normal_distribution<float> g(0.0f, 60.0f);
    for (auto& x : w.data) x = std::ldexp(std::clamp(std::nearbyint(g(rng)), -255.0f, 255.0f), -10);
    const TileGrid grid = make_grid(w.rows, w.cols, 32, 32, "synthetic");
    for (std::int64_t t = 0; t < grid.count(); ++t) {
        const auto b = grid.bounds(t);
        w.at(b.r0, b.c0) = std::ldexp(-255.0f, -10);
        w.at(b.r0 + 1, b.c0) = std::ldexp(255.0f, -10);
    }
    const auto rtn = quant::quantize_rtn(w, quant::make_spec("int8-asym", quant::Granularity::per_tile(32, 32)));
    const auto allowed = all_int8();
    int ties = 0;
    for (std::int64_t t = 0; t < grid.count(); ++t) {
        std::vector<float> wt;
        std::vector<std::uint8_t> mt;
        gather_tile(w, std::vector<std::uint8_t>(w.data.size(), 1), grid, t, wt, mt);
        TileFit f;
        f.codes = allowed;
        min_max_scale_zero(wt, {}, f.codes, {}, f.scale, f.zero);
        ASSERT_EQ(f.scale, std::ldexp(1.0f, -9)) << "tile " << t;
        ASSERT_EQ(f.scale, rtn.params(t).scale) << "tile " << t;
        ASSERT_EQ(f.zero + 128, static_cast<int>(rtn.params(t).zero)) << "tile " << t;
        // The exact step scores the codes quantize_with gives (f is both its candidates here).
        const TileFit scored = refit_exact(f, wt, {}, allowed, {}, {});
        double sse = 0;
        const auto b = grid.bounds(t);
        for (std::int64_t rr = b.r0; rr < b.r1; ++rr)
            for (std::int64_t cc = b.c0; cc < b.c1; ++cc) {
                int c = 0;
                const float q = quantize_with(f, w.at(rr, cc), &c);
                EXPECT_EQ(c + 128, rtn.code(rr, cc)) << rr << "," << cc;
                sse += (double(w.at(rr, cc)) - double(f.scale) * (c - f.zero)) * (double(w.at(rr, cc)) - double(f.scale) * (c - f.zero));
                (void)q;
                ties += std::fmod(std::ldexp(w.at(rr, cc), 10), 2.0f) != 0.0f;
            }
        EXPECT_NEAR(scored.sse, sse, 1e-12 * sse) << "tile " << t;
    }
    EXPECT_GT(ties, 2000);  // the case is exercised
}

}  // namespace
}  // namespace halo::hwq
