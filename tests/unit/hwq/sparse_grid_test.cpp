// The sparse values' grid (sparse_grid.hpp): the rule on hand-made values, and on a layer.
#include <algorithm>
#include <cmath>
#include <set>

#include <gtest/gtest.h>

#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/sparse_grid.hpp"
#include "halo/quant/scale_format.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

float fp16(float x) { return quant::scale_format(quant::ScaleFormat::fp16).round(x); }

TEST(SparseGrid, NamesAndSelectorBits) {
    EXPECT_EQ(sparse_grid("row").id, SparseGrid::row);
    EXPECT_EQ(sparse_grid("row-or-tile").id, SparseGrid::row_or_tile);
    EXPECT_EQ(sparse_grid(SparseGrid::row).selector_bits, 0);
    EXPECT_EQ(sparse_grid(SparseGrid::row_or_tile).selector_bits, 1);
    try {
        (void)sparse_grid("tile");
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E9176");
    }
}

// Row scale 0.05 (a row with an outlier near 5.8), tile scale 0.01 (the tile's dense step).
TEST(SparseGrid, HandValues) {
    const float sr = 0.05f, st = 0.01f;
    // 0.0137: the row grid gives 0 (error 0.0137), the tile's 0.01 (error 0.0037).
    auto a = sparse_value(0.0137f, sr, st, SparseGrid::row_or_tile);
    EXPECT_EQ(a.code, 1);
    EXPECT_TRUE(a.tile);
    EXPECT_EQ(a.value, fp16(0.01f));
    auto ar = sparse_value(0.0137f, sr, st, SparseGrid::row);
    EXPECT_EQ(ar.code, 0);
    EXPECT_FALSE(ar.tile);
    EXPECT_EQ(ar.value, 0.0f);
    // 2.0 is outside the tile's INT8 range (127 x 0.01 = 1.27): the row grid, code 40.
    auto b = sparse_value(2.0f, sr, st, SparseGrid::row_or_tile);
    EXPECT_EQ(b.code, 40);
    EXPECT_FALSE(b.tile);
    EXPECT_EQ(b.value, fp16(2.0f));
    // 0.05 is on both grids: the row's (ties go to the row).
    auto c = sparse_value(0.05f, sr, st, SparseGrid::row_or_tile);
    EXPECT_EQ(c.code, 1);
    EXPECT_FALSE(c.tile);
    // Beyond the row's range the row code clamps at 127; a tile scale that is zero, negative,
    // infinite or NaN is never tried.
    EXPECT_EQ(sparse_value(-9.0f, sr, st, SparseGrid::row_or_tile).code, -127);
    for (float bad : {0.0f, -0.01f, INFINITY, NAN}) {
        auto d = sparse_value(0.0137f, sr, bad, SparseGrid::row_or_tile);
        EXPECT_FALSE(d.tile) << bad;
        EXPECT_EQ(d.code, 0) << bad;
    }
}

// Over a sweep of values: row-or-tile is never worse than the row grid, and inside the tile's
// range never coarser than the tile's grid (half a step plus FP16's rounding).
TEST(SparseGrid, NeverCoarserThanTheTileInsideItsRange) {
    const float sr = 0.0437f, st = 0.00731f;
    for (int i = -40000; i <= 40000; ++i) {
        const float v = static_cast<float>(i) * 1.7e-4f;  // -6.8 .. 6.8
        const auto row = sparse_value(v, sr, st, SparseGrid::row);
        const auto both = sparse_value(v, sr, st, SparseGrid::row_or_tile);
        ASSERT_LE(std::fabs(v - both.value), std::fabs(v - row.value)) << v;
        ASSERT_GE(both.code, -127);
        ASSERT_LE(both.code, 127);
        ASSERT_EQ(both.value, fp16((both.tile ? st : sr) * static_cast<float>(both.code))) << v;
        if (std::fabs(v) <= 126.5f * st) {
            ASSERT_LE(std::fabs(v - both.value), 0.5f * st + std::fabs(v) * 1e-3f) << v;
        }
        if (!both.tile) {
            ASSERT_EQ(both.code, row.code) << v;
        }
    }
}

// On a layer: every sparse entry decodes to the rule's value for its row scale and its tile's
// final scale, sparse_values are the codes used, `row` is the rule's row grid, and the
// information bits count one selector bit per sparse value.
TEST(SparseGrid, OnALayerEveryValueFollowsTheRule) {
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    model::Matrix w = test::random_matrix(96, 160, 7);
    w.at(5, 7) = 0.5f;  // outliers: their rows' scales become coarse
    w.at(60, 100) = -0.4f;
    model::Matrix g(160, 160);
    for (std::int64_t i = 0; i < 160; ++i) g.at(i, i) = 1.0f + static_cast<float>(i % 7);
    std::int64_t tile_values = 0;
    double row_err = 0, both_err = 0;
    for (SparseGrid grid : {SparseGrid::row, SparseGrid::row_or_tile}) {
        HaloOptions o;
        o.tile_k = 64, o.tile_n = 32;
        o.gptq = false;  // the weights the rule sees are the original ones
        o.sparse.salient_fraction = 0.01;
        o.sparse_grid = grid;
        CodebookRegistry books;
        const auto r = quantize_linear_halo(w, g, 256, nullptr, L, o, books, "synthetic");
        const auto& t = r.tensor;
        ASSERT_FALSE(t.sparse.row_ptr.empty());
        std::set<int> codes;
        for (std::int64_t rr = 0; rr < t.rows(); ++rr) {
            float m = 0;
            for (auto i = t.sparse.row_ptr[rr]; i < t.sparse.row_ptr[rr + 1]; ++i) m = std::max(m, std::fabs(w.at(rr, t.sparse.col[i])));
            const float sr = fp16(1.1f * m / 127.0f);
            for (auto i = t.sparse.row_ptr[rr]; i < t.sparse.row_ptr[rr + 1]; ++i) {
                const std::int64_t cc = t.sparse.col[i];
                const float st = t.params((rr / 32) * 3 + cc / 64).scale;
                const auto want = sparse_value(w.at(rr, cc), sr, st, grid);
                ASSERT_EQ(t.sparse.value[i], want.value) << rr << "," << cc;
                codes.insert(want.code);
                tile_values += want.tile;
                (grid == SparseGrid::row ? row_err : both_err) += std::fabs(w.at(rr, cc) - want.value);
            }
        }
        EXPECT_EQ(std::vector<int>(codes.begin(), codes.end()), r.sparse_values);
        InformationBits plain, with_bits;
        plain.add(t, books);
        with_bits.sparse_selector_bits = sparse_grid(grid).selector_bits;
        with_bits.add(t, books);
        EXPECT_EQ(with_bits.bits - plain.bits, static_cast<double>(t.sparse.nnz()) * sparse_grid(grid).selector_bits);
    }
    EXPECT_GT(tile_values, 0);        // the salient weights inside their tiles' ranges take the tile grid
    EXPECT_LT(both_err, row_err);     // and the sparse part's error falls
}

}  // namespace
}  // namespace halo::hwq
