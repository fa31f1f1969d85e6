#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "halo/accel/sim_config.hpp"
#include "halo/util/provenance.hpp"

#include "halo/hwq/array_tile_levels.hpp"
#include "halo/hwq/assign.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/tile_fit.hpp"
#include "halo/accel/workload.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

std::string message_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().code + ": " + e.what();
    }
    return "no error";
}

model::Matrix gram_of(const model::Matrix& x) {  // X^T X, x [tokens x in]
    model::Matrix g(x.cols, x.cols);
    for (std::int64_t t = 0; t < x.rows; ++t)
        for (std::int64_t i = 0; i < x.cols; ++i)
            for (std::int64_t j = 0; j < x.cols; ++j) g.at(i, j) += x.at(t, i) * x.at(t, j);
    return g;
}

TEST(TileFit, NearestCodeFastMatchesReference) {
    const std::vector<int> codes = {-7, 0, 8, 16, 17, 40, 96, 120};
    for (int i = -2000; i <= 2000; ++i) {
        const float u = static_cast<float>(i) * 0.071f;
        EXPECT_EQ(nearest_code(codes, u), nearest_code_ref(codes, u)) << u;
    }
}

TEST(TileFit, RoundToCodeFastMatchesReferenceAndRoundsTiesToTheEvenCode) {
    std::vector<int> int8(256);
    for (int i = 0; i < 256; ++i) int8[static_cast<std::size_t>(i)] = i - 128;
    const std::vector<std::vector<int>> books = {{-7, 0, 8, 16, 17, 40, 96, 120}, {5}, {-128, 127}, {3, 4}, {-3, -2, 1}, int8};
    std::vector<float> us = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::quiet_NaN(), 1e30f, -1e30f};
    for (int i = -600; i <= 600; ++i) {
        const float u = static_cast<float>(i) * 0.5f;
        us.insert(us.end(), {u, std::nextafter(u, -1e9f), std::nextafter(u, 1e9f)});
    }
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> any(-300.0f, 300.0f);
    for (int i = 0; i < 20000; ++i) us.push_back(any(rng));
    for (const auto& codes : books)
        for (float u : us) {
            EXPECT_EQ(round_to_code(codes, u), round_to_code_ref(codes, u)) << u;
            // Off a tie it is nearest_code.
            const int c = nearest_code(codes, u);
            const auto it = std::lower_bound(codes.begin(), codes.end(), c);
            const bool tie = (it != codes.begin() && std::fabs(u - static_cast<float>(*(it - 1))) == std::fabs(u - c)) ||
                             (it + 1 != codes.end() && std::fabs(u - static_cast<float>(*(it + 1))) == std::fabs(u - c));
            if (!tie) {
                EXPECT_EQ(round_to_code(codes, u), c) << u;
            }
        }
    // Exact ties on unit gaps go to the even code, as std::nearbyint; between two even (or two odd)
    // neighbours to the lower one, as nearest_code.
    for (int k = -128; k < 127; ++k) {
        const float u = static_cast<float>(k) + 0.5f;
        EXPECT_EQ(round_to_code(int8, u), static_cast<int>(std::nearbyint(u))) << u;
    }
    const std::vector<int> eights = {0, 8, 16};
    EXPECT_EQ(round_to_code(eights, 4.0f), 0);
    EXPECT_EQ(round_to_code(eights, 12.0f), 8);
    const std::vector<int> odd_even = {-3, -2, 1};
    EXPECT_EQ(round_to_code(odd_even, -2.5f), -2);
    EXPECT_EQ(round_to_code(odd_even, -0.5f), -2);  // -2 and 1: the even one
}

TEST(TileFit, NearestCodeTableMatchesRoundToCode) {
    // Exact ties (integer and half-integer midpoints), values an ulp either side of them, both
    // ends and beyond, infinities, NaN, and a contiguous INT8 codebook.
    const std::vector<std::vector<int>> books = {{-7, 0, 8, 16, 17, 40, 96, 120}, {5}, {-128, 127}, {3, 4}};
    std::vector<int> int8(256);
    for (int i = 0; i < 256; ++i) int8[static_cast<std::size_t>(i)] = i - 128;
    std::vector<float> us = {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                             std::numeric_limits<float>::quiet_NaN(), 1e30f, -1e30f};
    for (int i = -600; i <= 600; ++i) {
        const float u = static_cast<float>(i) * 0.5f;
        us.insert(us.end(), {u, std::nextafter(u, -1e9f), std::nextafter(u, 1e9f)});
    }
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> any(-300.0f, 300.0f);
    for (int i = 0; i < 20000; ++i) us.push_back(any(rng));
    auto all = books;
    all.push_back(int8);
    for (const auto& codes : all) {
        const NearestCodeTable table(codes);
        for (float u : us) EXPECT_EQ(codes[table.index(u)], round_to_code(codes, u)) << u;
    }
}

TEST(TileFit, FitUsesOnlyAllowedCodesAndDecodesAsScaleTimesCodeMinusZero) {
    const auto w = test::random_matrix(1, 4096, 3);
    std::vector<int> allowed;
    for (int v = 0; v <= 120; v += 8) allowed.push_back(v);  // 16 non-negative codes
    const auto f = fit_tile(w.data, {}, allowed, {}, {});
    EXPECT_EQ(f.codes.size(), 16u);
    for (int c : f.codes) EXPECT_TRUE(std::binary_search(allowed.begin(), allowed.end(), c));
    EXPECT_GT(f.zero, 0);  // signed weights from non-negative codes need a zero point inside
    double sse = 0;
    for (float x : w.data) {
        int c = 0;
        const float q = quantize_with(f, x, &c);
        EXPECT_EQ(q, f.scale * static_cast<float>(c - f.zero));
        sse += double(x - q) * (x - q);
    }
    // 16 levels over a Gaussian: the error is far below the weights' variance (0.02^2).
    EXPECT_LT(sse / 4096, 0.02 * 0.02 * 0.02);
    // Zero and constant tiles are exact.
    const std::vector<float> zeros(100, 0.0f), consts(100, 0.37f);
    const auto fz = fit_tile(zeros, {}, allowed, {}, {});
    EXPECT_EQ(quantize_with(fz, 0.0f), 0.0f);
    const auto fc = fit_tile(consts, {}, allowed, {}, {});
    EXPECT_NEAR(quantize_with(fc, 0.37f), 0.37f, 0.37f * 1e-3);
}

struct Fixture {
    Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    model::Matrix w = test::random_matrix(96, 160, 7);
    model::Matrix x = test::random_matrix(256, 160, 8, 1.0);
    model::Matrix g = gram_of(x);
    Fixture() {
        w.at(5, 7) = 0.5f;  // outliers
        w.at(60, 100) = -0.4f;
    }
};

TEST(HaloQuantizer, CodesInTileCodebooksDecodeExactlyAndSparseReconstructs) {
    Fixture fx;
    for (bool gptq : {false, true}) {
        HaloOptions o;
        o.tile_k = 64, o.tile_n = 32;  // 3 x 3 grid with partial edge tiles (160 = 64+64+32)
        o.gptq = gptq;
        o.sparse.salient_fraction = 0.01;
        CodebookRegistry books;
        const auto r = quantize_linear_halo(fx.w, fx.g, fx.x.rows, nullptr, fx.L, o, books, "synthetic");
        const auto& t = r.tensor;
        ASSERT_EQ(t.tiles.level.size(), 9u);
        ASSERT_EQ(t.tiles.codebook_id.size(), 9u);
        const auto dec = t.decode();
        std::set<std::pair<std::int64_t, std::int64_t>> sparse;
        for (std::int64_t rr = 0; rr < t.rows(); ++rr)
            for (auto i = t.sparse.row_ptr[rr]; i < t.sparse.row_ptr[rr + 1]; ++i) sparse.insert({rr, t.sparse.col[i]});
        EXPECT_TRUE(sparse.count({5, 7}) && sparse.count({60, 100}));
        EXPECT_GE(sparse.size(), static_cast<std::size_t>(0.01 * 96 * 160));
        for (std::int64_t rr = 0; rr < t.rows(); ++rr)
            for (std::int64_t cc = 0; cc < t.cols(); ++cc) {
                const auto tile = static_cast<std::size_t>((rr / 32) * 3 + cc / 64);
                const int code = static_cast<int>(t.code(rr, cc)) - 128;  // offset binary
                const auto& book = books.books[static_cast<std::size_t>(t.tiles.codebook_id[tile])];
                ASSERT_TRUE(std::binary_search(book.begin(), book.end(), code));
                const auto& allowed = fx.L.levels[static_cast<std::size_t>(t.tiles.level[tile])].values;
                ASSERT_TRUE(std::binary_search(allowed.begin(), allowed.end(), code));
                const auto& p = t.params(static_cast<std::int64_t>(tile));
                if (!sparse.count({rr, cc})) {
                    ASSERT_EQ(dec.at(rr, cc), p.scale * (static_cast<float>(code) - (p.zero - 128)));
                } else if (!gptq) {
                    // Per-row INT8 with 10 % headroom: half a step of max|w_sparse| * 1.1 / 127, plus FP16.
                    float m = 0;
                    for (std::int64_t c2 = 0; c2 < t.cols(); ++c2)
                        if (sparse.count({rr, c2})) m = std::max(m, std::fabs(fx.w.at(rr, c2)));
                    EXPECT_LE(std::fabs(dec.at(rr, cc) - fx.w.at(rr, cc)), 0.5f * 1.1f * m / 127 * 1.01f + std::fabs(fx.w.at(rr, cc)) * 1e-3f);
                }
            }
        EXPECT_EQ(r.sparse_nnz, static_cast<std::int64_t>(sparse.size()));
    }
}

TEST(HaloQuantizer, ObjectivesOrderOnASyntheticLayer) {
    Fixture fx;
    auto run = [&](Objective ob) {
        HaloOptions o;
        o.tile_k = 32, o.tile_n = 32;
        o.objective = ob;
        o.gptq = false;
        CodebookRegistry books;
        return quantize_linear_halo(fx.w, fx.g, fx.x.rows, nullptr, fx.L, o, books, "synthetic");
    };
    const auto perf = run(Objective::perf), acc = run(Objective::least_error), bal = run(Objective::bal);
    EXPECT_LT(perf.assignment.time, acc.assignment.time);
    EXPECT_LT(acc.assignment.err, perf.assignment.err);
    EXPECT_LE(bal.assignment.time, acc.assignment.time);
    EXPECT_GE(bal.assignment.time, perf.assignment.time * (1 - 1e-12));
    // Actual output error through the Gram agrees with the objective's error model.
    const auto e_perf = quant::output_error(fx.w, perf.tensor.decode(), fx.g);
    const auto e_acc = quant::output_error(fx.w, acc.tensor.decode(), fx.g);
    EXPECT_LT(e_acc, e_perf);
}

TEST(HaloQuantizer, TileLargerThanMatrixIsBadInput) {
    Fixture fx;
    HaloOptions o;
    o.tile_k = 256;
    CodebookRegistry books;
    const auto msg = message_of([&] { quantize_linear_halo(fx.w, fx.g, 1, nullptr, fx.L, o, books, "blk.0.attn_q"); });
    EXPECT_THAT(msg, ::testing::HasSubstr("E9012"));
    EXPECT_THAT(msg, ::testing::HasSubstr("blk.0.attn_q"));
}

// acc: per tile the least-error raised level, whichever it is; ties to the faster (cheaper)
// level; never L0 while a raised level exists; with one level, the least-error point.
TEST(Assign, AccTakesEachTilesLeastErrorRaisedLevel) {
    TileCosts c;
    c.n_tiles = 3, c.n_levels = 3;
    // tile 0: L1 best; tile 1: L2 beats L1; tile 2: L1 and L2 tie (L2 is faster). L0 least everywhere.
    const double err[3][3] = {{0.1, 1.0, 2.0}, {0.1, 3.0, 2.0}, {0.1, 2.0, 2.0}};
    for (std::size_t t = 0; t < 3; ++t)
        for (std::size_t l = 0; l < 3; ++l) {
            c.err.push_back(err[t][l]);
            c.time.push_back(1.0 / (1 + l));
            c.energy.push_back(1.0);
        }
    const auto acc = assign(c, Objective::acc, 0.5);
    EXPECT_EQ(acc.level, (std::vector<int>{1, 2, 2}));
    EXPECT_DOUBLE_EQ(acc.err, 1.0 + 2.0 + 2.0);
    EXPECT_EQ(assign(c, Objective::least_error, 0.5).level, (std::vector<int>{0, 0, 0}));
    TileCosts one;
    one.n_tiles = 2, one.n_levels = 1;
    one.err = {0.5, 0.7}, one.time = {1, 1}, one.energy = {1, 1};
    EXPECT_EQ(assign(one, Objective::acc, 0.5).level, (std::vector<int>{0, 0}));
    // The objective table is indexed by the enum's value (run's row names).
    for (std::size_t i = 0; i < objectives().size(); ++i) EXPECT_EQ(static_cast<std::size_t>(objectives()[i].id), i);
}

TEST(Assign, FrontBudgetsAndGrouping) {
    TileCosts c;
    c.n_tiles = 6, c.n_levels = 3;
    for (std::size_t t = 0; t < 6; ++t)
        for (std::size_t l = 0; l < 3; ++l) {
            c.err.push_back((t + 1.0) * (l * l + 0.1 * l));  // faster levels cost more error
            c.time.push_back(1.0 / (1 + l));
            c.energy.push_back(1.0 + 0.5 * l);
        }
    const auto acc = assign(c, Objective::least_error, 0.5);
    const auto fast = assign(c, Objective::perf, 1.0);
    // acc: no tile at the nominal level; each at its least-error raised level (here L1, whose
    // error 1.1 (t + 1) is below L2's 4.2 (t + 1)).
    for (int l : assign(c, Objective::acc, 0.5).level) EXPECT_EQ(l, 1);
    const auto tight = assign(c, Objective::perf, 0.0);
    for (int l : acc.level) EXPECT_EQ(l, 0);
    for (int l : fast.level) EXPECT_EQ(l, 2);
    EXPECT_DOUBLE_EQ(tight.err, acc.err);
    const auto mid = assign(c, Objective::perf, 0.5);
    EXPECT_LE(mid.err, acc.err + 0.5 * (fast.err - acc.err) + 1e-9);
    EXPECT_LT(mid.time, acc.time);
    EXPECT_THAT(message_of([&] { assign(c, Objective::perf, 1.5); }), ::testing::HasSubstr("E9014"));
    EXPECT_THAT(message_of([] { objective("speed"); }), ::testing::HasSubstr("E9013"));
    EXPECT_EQ(objective("least-error").id, Objective::least_error);
    EXPECT_EQ(objective("acc").id, Objective::acc);

    const std::vector<int> lv = {0, 2, 1, 2, 0, 1, 2};
    const auto order = grouped_order(lv);
    std::vector<std::size_t> sorted(order.begin(), order.end());
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < sorted.size(); ++i) EXPECT_EQ(sorted[i], i);  // a permutation
    for (std::size_t i = 1; i < order.size(); ++i) EXPECT_GE(lv[order[i - 1]], lv[order[i]]);
    EXPECT_EQ(switches(lv, order, -1), 2);   // distinct levels - 1
    EXPECT_EQ(switches(lv, order, 2), 2);    // starting at the first group's level is free
    EXPECT_EQ(switches(lv, order, 0), 3);
    std::vector<std::size_t> natural(lv.size());
    for (std::size_t i = 0; i < natural.size(); ++i) natural[i] = i;
    EXPECT_GE(switches(lv, natural, -1), switches(lv, order, -1));
}

TEST(HaloDir, ManifestAndTileLevelsRoundTrip) {
    Fixture fx;
    model::ModelWeights mw;
    mw.config.name = "synthetic";
    mw.config.n_layers = 1, mw.config.d_model = 160, mw.config.d_ff = 96, mw.config.vocab_size = 10;
    HaloOptions o;
    o.tile_k = 64, o.tile_n = 32;
    o.gptq = false;
    HaloModelResult r;
    r.model.method = "halo";
    r.model.activation_format = "int8_per_token";
    r.tiles_per_level.assign(fx.L.levels.size(), 0);
    auto lin = quantize_linear_halo(fx.w, {}, 0, nullptr, fx.L, o, r.books, "blk.0.ffn_gate");
    quant::LinearRecord rec;
    rec.layer = 0, rec.kind = model::LinearKind::ffn_gate;
    rec.tensor = lin.tensor;
    r.model.linears.push_back(rec);
    r.model.bits.weights = 96 * 160;
    const auto dir = std::filesystem::temp_directory_path() / "halo_dir_test";
    std::filesystem::remove_all(dir);
    accel::SystolicOptions machine;
    machine.array.rows = 64, machine.array.cols = 32;
    machine.dvfs = dvfs_table(fx.L);
    machine.dvfs.switch_penalty_ns = 250;
    write_halo_dir(dir, r, fx.L, o, {}, mw.config, "synthetic", false, machine, nullptr);
    EXPECT_THAT(message_of([&] { write_halo_dir(dir, r, fx.L, o, {}, mw.config, "synthetic", false, machine, nullptr); }),
                ::testing::HasSubstr("E9020"));
    // The directory carries the machine it was quantized for: its sim config read back onto
    // default options gives the ladder's DVFS table and the array (issue #12: simulate used the
    // default ladder); no MAC profile without energies.
    accel::SystolicOptions back;
    accel::read_simulator_config(back, dir / "sim_config.json");
    EXPECT_EQ(back.array.rows, 64);
    EXPECT_EQ(back.array.cols, 32);
    ASSERT_EQ(back.dvfs.levels.size(), fx.L.levels.size());
    for (std::size_t i = 0; i < fx.L.levels.size(); ++i) {
        EXPECT_EQ(back.dvfs.levels[i].name, fx.L.levels[i].name);
        EXPECT_EQ(back.dvfs.levels[i].freq_mhz, fx.L.levels[i].freq_mhz);
        EXPECT_EQ(back.dvfs.levels[i].voltage_v, fx.L.levels[i].voltage_v);
    }
    EXPECT_EQ(back.dvfs.switch_penalty_ns, 250);
    EXPECT_FALSE(std::filesystem::exists(dir / "mac_profile.json"));
    const auto summary = quant::read_manifest_summary(dir);
    EXPECT_TRUE(summary.halo);
    EXPECT_EQ(summary.method, "halo");
    EXPECT_EQ(summary.provenance.halo_version, halo_version());
    EXPECT_EQ(summary.provenance.date_utc.size(), std::string("2026-12-03T13:04:05Z").size());
    const auto qd = quant::read_quantized_dir(dir);
    ASSERT_EQ(qd.linears.size(), 1u);
    const auto a = qd.linears[0].tensor.decode(), b = lin.tensor.decode();
    EXPECT_EQ(a.data, b.data);  // the directory decodes to exactly what the quantizer claims
    const auto& books = qd.manifest.at("halo").at("codebooks");
    const auto& t = qd.linears[0].tensor;
    for (std::int64_t rr = 0; rr < t.rows(); ++rr)
        for (std::int64_t cc = 0; cc < t.cols(); ++cc) {
            const auto id = t.tiles.codebook_id[static_cast<std::size_t>(t.group_index(rr, cc))];
            const auto book = books.at(static_cast<std::size_t>(id)).get<std::vector<int>>();
            EXPECT_TRUE(std::binary_search(book.begin(), book.end(), static_cast<int>(t.code(rr, cc)) - 128));
        }
    // Tile levels in accel's K x N indexing: tile (kt, nt) = columns kt, rows nt of [out x in].
    const auto tl = accel::read_tile_levels(dir / "tile_levels.json");
    ASSERT_EQ(tl.layers.size(), 1u);
    const auto& lv = tl.layers[0].second;
    EXPECT_EQ(lv.k_tiles, 3);
    EXPECT_EQ(lv.n_tiles, 3);
    for (std::int64_t kt = 0; kt < 3; ++kt)
        for (std::int64_t nt = 0; nt < 3; ++nt) EXPECT_EQ(lv.at(kt, nt), t.tiles.level[static_cast<std::size_t>(nt * 3 + kt)]);
    std::uint64_t total = 0;
    for (const auto& h : lv.code_histogram) for (auto n : h) total += n;
    EXPECT_EQ(total, 96u * 160u);
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace halo::hwq

namespace halo::hwq {
namespace {

// A given Fisher diagonal replaces the Hessian proxy: its most sensitive weights (not the
// largest ones) go to the sparse part, and tile scores follow it.
TEST(HaloQuantizer, FisherSensitivityPicksSalientWeights) {
    Fixture fx;
    model::Matrix fisher(fx.w.rows, fx.w.cols);
    for (auto& x : fisher.data) x = 1e-6f;
    fisher.at(10, 20) = 1.0f;  // a small weight the Hessian proxy would not single out
    fx.w.at(10, 20) = 0.001f;
    HaloOptions o;
    o.tile_k = 32, o.tile_n = 32;
    o.sparse.salient_fraction = 1.0 / static_cast<double>(fx.w.rows * fx.w.cols);  // exactly one salient weight
    o.sparse.outlier_sigma = 1e9;                                                   // no outliers
    o.gptq = false;
    CodebookRegistry books;
    const auto r = quantize_linear_halo(fx.w, fx.g, fx.x.rows, &fisher, fx.L, o, books, "synthetic");
    ASSERT_EQ(r.sparse_nnz, 1);
    EXPECT_EQ(r.tensor.sparse.col[0], 20);
    EXPECT_EQ(r.tensor.sparse.row_ptr[11] - r.tensor.sparse.row_ptr[10], 1u);
    const auto s = tile_scores(fisher, make_grid(fx.w.rows, fx.w.cols, 32, 32, "t"));
    EXPECT_EQ(std::max_element(s.begin(), s.end()) - s.begin(), 0);  // tile (0, 0) holds (10, 20)
}

TEST(Sensitivity, SparseMaskFastMatchesReference) {
    const auto w = test::random_matrix(64, 96, 11);
    const auto g = test::random_matrix(96, 96, 12, 1.0);
    const auto s = hessian_sensitivity(w, g, 7);
    EXPECT_EQ(hessian_sensitivity(w, g, 7, 3).data, s.data);  // rows split over threads: the same values
    for (double frac : {0.0, 0.001, 0.05})
        for (double sigma : {2.0, 3.0}) EXPECT_EQ(sparse_mask(w, s, {frac, sigma}), sparse_mask_ref(w, s, {frac, sigma}));
    // Many ties at the threshold (a Fisher diagonal full of zeros, coarse values): the lowest
    // indices among the tied win in both.
    model::Matrix coarse(64, 96);
    for (std::size_t i = 0; i < coarse.data.size(); ++i) coarse.data[i] = static_cast<float>((i * 7919) % 13 == 0 ? (i % 3) : 0);
    for (double frac : {0.001, 0.01, 0.05, 0.2, 0.9})
        EXPECT_EQ(sparse_mask(w, coarse, {frac, 3.0}), sparse_mask_ref(w, coarse, {frac, 3.0})) << frac;
    EXPECT_THAT(message_of([] { sensitivity_source("grad"); }), ::testing::HasSubstr("E9011"));
}

// The radix select over several work items and threads: random sensitivities, signed values
// with -0 and +0 tied at the threshold, heavy ties, and a NaN (the reference's order then).
TEST(Sensitivity, SparseMaskOnThreadsMatchesReference) {
    const auto w = test::random_matrix(520, 300, 21);  // 156,000 weights: three work items of 65,536
    const auto g = test::random_matrix(300, 300, 22, 1.0);
    const auto s = hessian_sensitivity(w, g, 5, 4);
    for (unsigned threads : {1u, 3u, 8u})
        for (double frac : {0.0005, 0.01, 0.3}) EXPECT_EQ(sparse_mask(w, s, {frac, 3.0}, threads), sparse_mask_ref(w, s, {frac, 3.0})) << threads << " " << frac;
    model::Matrix signed_s(520, 300);
    for (std::size_t i = 0; i < signed_s.data.size(); ++i) {
        const int v = static_cast<int>((i * 2654435761u) % 7) - 3;  // -3..3
        signed_s.data[i] = v == 0 ? ((i % 2) ? -0.0f : 0.0f) : static_cast<float>(v) * 0.25f;
    }
    for (unsigned threads : {1u, 4u})
        for (double frac : {0.1, 3.0 / 7.0, 0.5, 0.6, 0.95})  // 3/7: the threshold falls among the zeros
            EXPECT_EQ(sparse_mask(w, signed_s, {frac, 1e9}, threads), sparse_mask_ref(w, signed_s, {frac, 1e9})) << threads << " " << frac;
    model::Matrix with_nan = s;
    with_nan.data[777] = std::nanf("");
    EXPECT_EQ(sparse_mask(w, with_nan, {0.01, 3.0}, 4), sparse_mask_ref(w, with_nan, {0.01, 3.0}));
}

// tile_levels.json's code histograms (row tiles split among threads) and the information bits
// (a tile's weight count from its bounds) against per-weight loops, on a grid with partial tiles.
TEST(HaloDir, TileHistogramsAndInformationBitsOfPartialTiles) {
    const std::int64_t rows = 37, cols = 50, tr = 16, tc = 32, nrt = 3, nct = 2;
    quant::QuantizedTensor t(quant::make_spec("int8-asym", quant::Granularity::per_tile(tr, tc)), rows, cols);
    for (std::size_t i = 0; i < t.codes().size(); ++i) t.codes()[i] = static_cast<std::uint8_t>((i * 37 + i / 7) % 256);
    t.tiles.tile_rows = tr, t.tiles.tile_cols = tc;
    CodebookRegistry books;
    for (int i = 0; i < nrt * nct; ++i) {
        t.tiles.level.push_back(i % 3);
        std::vector<int> book(static_cast<std::size_t>(1 + 3 * i));  // 1, 4, 7, ... codes
        std::iota(book.begin(), book.end(), -i);
        t.tiles.codebook_id.push_back(books.id(book));
    }
    const auto multiplier = [&](std::int64_t r, std::int64_t c) { return static_cast<std::uint8_t>(t.code(r, c) ^ 0x80); };
    std::vector<std::vector<std::uint64_t>> want(static_cast<std::size_t>(nrt * nct), std::vector<std::uint64_t>(256, 0));
    double want_bits = 0;
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) {
            ++want[static_cast<std::size_t>((c / tc) * nrt + r / tr)][multiplier(r, c)];
            const auto k = books.books[static_cast<std::size_t>(t.tiles.codebook_id[static_cast<std::size_t>((r / tr) * nct + c / tc)])].size();
            want_bits += std::ceil(std::log2(std::max<double>(2, static_cast<double>(k))));
        }
    for (unsigned threads : {1u, 2u, 5u}) {
        const auto tl = array_tile_levels(t, true, multiplier, threads);
        EXPECT_EQ(tl.code_histogram, want) << threads;
        ASSERT_EQ(tl.level.size(), 6u);
        EXPECT_EQ(tl.level[1 * nrt + 2], t.tiles.level[2 * nct + 1]);  // transposed: K tile 1, N tile 2
    }
    InformationBits ib;
    ib.add(t, books);
    EXPECT_EQ(ib.weights, static_cast<double>(rows * cols));
    EXPECT_EQ(ib.bits, want_bits + 6 * (16 + 8));  // no sparse part: codes plus a scale and zero per tile
}

TEST(Sensitivity, TileScoresOnThreadsEqualTheReference) {
    const auto w = test::random_matrix(70, 45, 31);
    const auto s = hessian_sensitivity(w, test::random_matrix(45, 45, 32, 1.0), 3);
    for (auto [tr, tc] : {std::pair{16, 32}, std::pair{70, 45}, std::pair{1, 1}, std::pair{7, 45}}) {
        const auto grid = make_grid(70, 45, tr, tc, "t");  // partial last tiles in each direction for 16x32
        const auto want = tile_scores_ref(s, grid);
        for (unsigned threads : {1u, 3u}) EXPECT_EQ(tile_scores(s, grid, threads), want) << tr << "x" << tc;  // exact doubles
    }
}

}  // namespace
}  // namespace halo::hwq
