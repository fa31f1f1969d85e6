// Issue #15 part A: a codebook budget per DVFS level, the model-wide sensitivity budget, and the
// sparse engine's level (the lowest-energy level that meets its timing).
#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <numeric>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/hwq/assign.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/sparse_level.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().code;
    }
    return "no error";
}

model::Matrix gram_of(const model::Matrix& x) {
    model::Matrix g(x.cols, x.cols);
    for (std::int64_t t = 0; t < x.rows; ++t)
        for (std::int64_t i = 0; i < x.cols; ++i)
            for (std::int64_t j = 0; j < x.cols; ++j) g.at(i, j) += x.at(t, i) * x.at(t, j);
    return g;
}

struct Layer {
    Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    model::Matrix w = test::random_matrix(96, 160, 7);
    model::Matrix x = test::random_matrix(256, 160, 8, 1.0);
    model::Matrix g = gram_of(x);
};

// Every tile's codebook is within its level's budget and allowed codes, and every stored code
// of the tile is in its codebook.
void expect_budgets_respected(const HaloLinearResult& r, const CodebookRegistry& books, const Ladder& L,
                              const HaloOptions& o) {
    const auto& t = r.tensor;
    const std::int64_t nct = (t.cols() + o.tile_k - 1) / o.tile_k;
    for (std::size_t tile = 0; tile < t.tiles.level.size(); ++tile) {
        const auto level = static_cast<std::size_t>(t.tiles.level[tile]);
        const auto& book = books.books[static_cast<std::size_t>(t.tiles.codebook_id[tile])];
        EXPECT_LE(static_cast<int>(book.size()), fit_options_for_level(o, L, level).max_codes) << "tile " << tile;
        for (int c : book) EXPECT_TRUE(std::binary_search(L.levels[level].values.begin(), L.levels[level].values.end(), c));
    }
    for (std::int64_t rr = 0; rr < t.rows(); ++rr)
        for (std::int64_t cc = 0; cc < t.cols(); ++cc) {
            const auto tile = static_cast<std::size_t>((rr / o.tile_n) * nct + cc / o.tile_k);
            const auto& book = books.books[static_cast<std::size_t>(t.tiles.codebook_id[tile])];
            ASSERT_TRUE(std::binary_search(book.begin(), book.end(), static_cast<int>(t.code(rr, cc)) - 128));
        }
}

TEST(LevelCodes, EveryTileKeepsItsLevelsBudget) {
    Layer fx;
    ASSERT_EQ(fx.L.levels.size(), 3u);
    ASSERT_EQ(fx.L.levels[0].values.size(), 256u);  // every code meets the nominal level
    for (const std::vector<int>& budget : {std::vector<int>{0}, std::vector<int>{0, 16, 9}, std::vector<int>{64, 8, 4},
                                           std::vector<int>{5}}) {
        for (Objective ob : {Objective::acc, Objective::least_error, Objective::bal, Objective::perf}) {
            HaloOptions o;
            o.tile_k = 32, o.tile_n = 32;
            o.level_codes = budget;
            o.objective = ob;
            o.sparse.salient_fraction = 0.005;
            CodebookRegistry books;
            const auto r = quantize_linear_halo(fx.w, fx.g, fx.x.rows, nullptr, fx.L, o, books, "synthetic");
            expect_budgets_respected(r, books, fx.L, o);
        }
    }
    // The cap applies on top of the per-level budget.
    HaloOptions o;
    o.level_codes = {0, 16, 9};
    o.fit.max_codes = 12;
    EXPECT_EQ(fit_options_for_level(o, fx.L, 0).max_codes, 12);
    EXPECT_EQ(fit_options_for_level(o, fx.L, 2).max_codes, std::min<int>(9, static_cast<int>(fx.L.levels[2].values.size())));
}

TEST(LevelCodes, AllCodesAtL0MakeLeastErrorW8Like) {
    Layer fx;
    auto acc_error = [&](std::vector<int> budget) {
        HaloOptions o;
        o.tile_k = 32, o.tile_n = 32;
        o.level_codes = std::move(budget);
        o.objective = Objective::least_error;
        o.gptq = false;
        CodebookRegistry books;
        const auto r = quantize_linear_halo(fx.w, fx.g, fx.x.rows, nullptr, fx.L, o, books, "synthetic");
        const auto d = r.tensor.decode();
        double e = 0;
        for (std::size_t i = 0; i < d.data.size(); ++i) e += double(d.data[i] - fx.w.data[i]) * (d.data[i] - fx.w.data[i]);
        std::size_t big = 0;
        for (auto id : r.tensor.tiles.codebook_id) big += books.books[static_cast<std::size_t>(id)].size() > 16;
        return std::make_pair(e, big);
    };
    const auto [e256, big256] = acc_error({0, 16, 9});
    const auto [e16, big16] = acc_error({16, 16, 9});  // the old cap of 16 codes at L0
    EXPECT_GT(big256, 0u);  // acc uses L0's large codebooks
    EXPECT_EQ(big16, 0u);
    // 8 bits against 4 bits per tile: the error falls by more than an order of magnitude.
    EXPECT_LT(e256 * 10, e16);
}

// The four-level ladder of docs/results/halo.md (a frequency-only level at V_nom with the 128
// fastest codes, below the two DVFS levels): every tile keeps its level's codes, and a tile at
// the frequency-only level is 7-bit-like: its error is far below the 16-code level's.
TEST(LevelCodes, FrequencyOnlyLevelKeepsBudgetsAndIsNearlyW8) {
    Layer fx;
    LadderOptions lo;
    lo.counts = {0, 128, 16, 9};
    lo.voltage_factors = {1, 1, 1.1, 1.2};
    const Ladder L4 = build_ladder(test::synthetic_int8_profile(), lo);
    ASSERT_EQ(L4.levels.size(), 4u);
    auto error_at = [&](int level, std::vector<std::int64_t>* per_level) {
        HaloOptions o;
        o.tile_k = 32, o.tile_n = 32;
        o.gptq = false;
        CodebookRegistry books;
        const std::vector<int> levels(15, level);  // 96 x 160 in 32 x 32 tiles
        const auto r = quantize_linear_halo(fx.w, fx.g, fx.x.rows, nullptr, L4, o, books, "synthetic", &levels);
        expect_budgets_respected(r, books, L4, o);
        per_level->assign(4, 0);
        for (auto l : r.tensor.tiles.level) ++(*per_level)[static_cast<std::size_t>(l)];
        const auto d = r.tensor.decode();
        double e = 0;
        for (std::size_t i = 0; i < d.data.size(); ++i) e += double(d.data[i] - fx.w.data[i]) * (d.data[i] - fx.w.data[i]);
        return e;
    };
    std::vector<std::int64_t> at1, at2;
    const double e1 = error_at(1, &at1);  // every tile at the frequency-only level
    const double e2 = error_at(2, &at2);  // every tile at the 16-code DVFS level
    EXPECT_EQ(at1, (std::vector<std::int64_t>{0, 15, 0, 0}));
    EXPECT_EQ(at2, (std::vector<std::int64_t>{0, 0, 15, 0}));
    EXPECT_LT(e1 * 10, e2);  // 128 codes against 16: 3 more bits
}

TEST(LevelCodes, BadListsAreRefused) {
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    EXPECT_EQ(parse_level_codes("0,16,9"), (std::vector<int>{0, 16, 9}));
    EXPECT_EQ(parse_level_codes("4"), (std::vector<int>{4}));
    EXPECT_EQ(code_of([] { parse_level_codes("0,x,9"); }), "E9069");
    EXPECT_EQ(code_of([] { parse_level_codes("0,-1"); }), "E9069");
    EXPECT_EQ(code_of([] { parse_level_codes(""); }), "E9069");
    HaloOptions o;
    o.level_codes = {0, 16};  // two budgets, three levels
    EXPECT_EQ(code_of([&] { check_options(o, L); }), "E9061");
}

// Synthetic costs: `n` tiles of `size` weights, scores `base * (t + 1)`, the error at the fast
// levels growing with the score.
TileCosts synthetic_costs(std::size_t n, double size, double base) {
    TileCosts c;
    c.n_tiles = n, c.n_levels = 3;
    for (std::size_t t = 0; t < n; ++t) {
        const double s = base * static_cast<double>(t + 1);
        c.weights.push_back(size);
        c.score.push_back(s);
        for (double mse : {1.0, 8.0, 20.0}) c.err.push_back(s * mse * size), c.time.push_back(size), c.energy.push_back(size);
    }
    return c;
}

TEST(ModelWide, SharesAreHonouredWithinOneTileAndSensitiveLayersRunSlower) {
    // Three "layers" of different sensitivity and tile sizes (the last has partial tiles).
    std::vector<TileCosts> layers = {synthetic_costs(40, 4096, 10.0), synthetic_costs(25, 4096, 1.0),
                                     synthetic_costs(30, 1000, 0.1)};
    layers[2].weights[29] = 250;
    const std::vector<double> shares = {0.2, 0.5, 0.3};
    for (RankKey key : {RankKey::error, RankKey::sensitivity}) {
        const auto lv = assign_model_wide(layers, shares, key);
        ASSERT_EQ(lv.size(), 3u);
        double total = 0, largest = 0;
        std::vector<double> at(3, 0);
        for (std::size_t i = 0; i < layers.size(); ++i)
            for (std::size_t t = 0; t < layers[i].n_tiles; ++t) {
                const double n = layers[i].weights[t];
                total += n, largest = std::max(largest, n);
                at[static_cast<std::size_t>(lv[i][t])] += n;
            }
        // Each cumulative boundary is met within one tile.
        double cum_target = 0, cum = 0;
        for (std::size_t l = 0; l < 3; ++l) {
            cum_target += shares[l] * total, cum += at[l];
            EXPECT_LE(std::fabs(cum - cum_target), largest) << "level " << l;
        }
        // More sensitive layers get slower (more accurate) levels.
        auto mean_level = [&](std::size_t i) {
            return std::accumulate(lv[i].begin(), lv[i].end(), 0.0) / static_cast<double>(lv[i].size());
        };
        EXPECT_LT(mean_level(0), mean_level(1));
        EXPECT_LT(mean_level(1), mean_level(2));
        // Within the model the order is by rank: no tile at a faster level outranks one at a slower level.
        for (std::size_t i = 0; i < layers.size(); ++i)
            for (std::size_t t = 0; t < layers[i].n_tiles; ++t)
                for (std::size_t j = 0; j < layers.size(); ++j)
                    for (std::size_t u = 0; u < layers[j].n_tiles; ++u)
                        if (lv[i][t] < lv[j][u]) {
                            EXPECT_GE(layers[i].score[t], layers[j].score[u]);
                        }
    }
    EXPECT_EQ(code_of([&] { assign_model_wide(layers, std::vector<double>{0.5, 0.6, 0.0}, RankKey::error); }), "E9064");
    EXPECT_EQ(code_of([&] { assign_model_wide(layers, std::vector<double>{0.5, 0.5}, RankKey::error); }), "E9064");
    EXPECT_EQ(parse_level_shares("0.2/0.5/0.3"), (std::vector<double>{0.2, 0.5, 0.3}));
    EXPECT_EQ(code_of([] { parse_level_shares("0.2/x"); }), "E9072");
}

// Issue #15 part F: the objective on the model's pooled front (`model@bal`).
// The levels of a plan are one Lagrangian point: some lambda >= 0 makes every tile's level a
// minimizer of err + lambda * time. Returns whether such a lambda exists (the intersection of
// each tile's interval of lambdas is not empty).
bool one_common_lambda(std::span<const TileCosts> layers, const std::vector<std::vector<int>>& lv) {
    double lo = 0, hi = std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < layers.size(); ++i)
        for (std::size_t t = 0; t < layers[i].n_tiles; ++t) {
            const auto& c = layers[i];
            const auto l = static_cast<std::size_t>(lv[i][t]);
            for (std::size_t m = 0; m < c.n_levels; ++m) {
                // err_l + lambda time_l <= err_m + lambda time_m
                const double de = c.at(c.err, t, m) - c.at(c.err, t, l), dt = c.at(c.time, t, l) - c.at(c.time, t, m);
                if (dt > 0) hi = std::min(hi, de / dt);
                else if (dt < 0) lo = std::max(lo, de / dt);
                else if (de < 0) return false;
            }
        }
    return lo <= hi * (1 + 1e-9);
}

// Three layers whose errors differ by 100x; time falls and error grows with the level.
std::vector<TileCosts> scaled_layers() {
    std::vector<TileCosts> layers;
    for (double scale : {100.0, 1.0, 0.01}) {
        TileCosts c;
        c.n_tiles = 20, c.n_levels = 3;
        for (std::size_t t = 0; t < c.n_tiles; ++t) {
            const double s = scale * (1.0 + 0.3 * static_cast<double>(t));
            c.weights.push_back(100), c.score.push_back(s);
            const double mse[3] = {1.0, 4.0, 40.0}, time[3] = {100, 78, 67};
            for (std::size_t l = 0; l < 3; ++l) c.err.push_back(s * mse[l] * 100), c.time.push_back(time[l]), c.energy.push_back(time[l]);
        }
        layers.push_back(c);
    }
    return layers;
}

TEST(ModelWide, ObjectiveOnThePooledFrontIsOneCommonLambda) {
    const auto layers = scaled_layers();
    const auto bal = assign_model_objective(layers, Objective::bal, 0.5);
    ASSERT_EQ(bal.levels.size(), 3u);
    EXPECT_TRUE(one_common_lambda(layers, bal.levels));
    // The reported totals are the plan's and the per-layer picks' own.
    double err = 0, time = 0, own_err = 0, own_time = 0;
    std::vector<std::vector<int>> own;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        ASSERT_EQ(bal.levels[i].size(), layers[i].n_tiles);
        const auto a = evaluate(layers[i], bal.levels[i]);
        err += a.err, time += a.time;
        const auto b = assign(layers[i], Objective::bal, 0.5);
        own_err += b.err, own_time += b.time;
        own.push_back(b.level);
    }
    EXPECT_DOUBLE_EQ(bal.chosen.err, err);
    EXPECT_DOUBLE_EQ(bal.chosen.time, time);
    EXPECT_DOUBLE_EQ(bal.per_layer.err, own_err);
    EXPECT_DOUBLE_EQ(bal.per_layer.time, own_time);
    // Per-layer knees put each layer at its own lambda: not one point of the model's front.
    EXPECT_FALSE(one_common_lambda(layers, own));
    // On the pooled front the layer with 100x the error runs slower than the one with 1/100.
    auto mean_level = [&](std::size_t i) {
        return std::accumulate(bal.levels[i].begin(), bal.levels[i].end(), 0.0) / static_cast<double>(bal.levels[i].size());
    };
    EXPECT_LT(mean_level(0), mean_level(2));
    // least-error and acc are per tile either way; perf at budget 1 is every tile at the fastest level.
    for (Objective ob : {Objective::least_error, Objective::acc}) {
        const auto plan = assign_model_objective(layers, ob, 0.5);
        for (std::size_t i = 0; i < layers.size(); ++i) EXPECT_EQ(plan.levels[i], assign(layers[i], ob, 0.5).level);
    }
    for (const auto& lv : assign_model_objective(layers, Objective::perf, 1.0).levels)
        for (int l : lv) EXPECT_EQ(l, 2);
    EXPECT_EQ(code_of([&] { assign_model_objective(layers, Objective::perf, 1.5); }), "E9014");
    auto bad = layers;
    bad[1].n_levels = 2;
    EXPECT_EQ(code_of([&] { assign_model_objective(bad, Objective::bal, 0.5); }), "E9077");
}

// A two-block model, the model-wide plan on it, and pass 2 with the plan.
model::ModelWeights tiny_model() {
    model::ModelWeights w;
    auto& c = w.config;
    c.name = "tiny-halo", c.n_layers = 2, c.d_model = 16, c.d_ff = 40, c.n_heads = 2, c.n_kv_heads = 1, c.head_dim = 8;
    c.vocab_size = 32, c.context_length = 64;
    for (int l = 0; l < 2; ++l) {
        model::LayerWeights lw;
        const std::int64_t shapes[7][2] = {{16, 16}, {8, 16}, {8, 16}, {16, 16}, {40, 16}, {40, 16}, {16, 40}};
        for (int k = 0; k < 7; ++k)  // block 1 ten times larger: its tiles are more sensitive
            lw.linear[static_cast<std::size_t>(k)] = test::random_matrix(shapes[k][0], shapes[k][1], 30u + 10u * l + k, l ? 0.5 : 0.05);
        w.layers.push_back(std::move(lw));
    }
    return w;
}

class GramStub : public quant::CalibrationSource {
public:
    std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest&) override {
        std::array<model::LinearInputStats, 7> out;
        for (std::size_t k = 0; k < 7; ++k) {
            const std::int64_t in = k == 6 ? 40 : 16;
            out[k].gram = gram_of(test::random_matrix(64, in, static_cast<unsigned>(500 + layer * 7 + k), 1.0));
            out[k].tokens = 64;
        }
        return out;
    }
    void advance(int) override {}
    std::int64_t tokens() const override { return 64; }
};

TEST(ModelWide, PlanIsHonouredByTheQuantizedModel) {
    auto w = tiny_model();
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o;
    o.tile_k = 8, o.tile_n = 8;
    o.scope = AssignScope::model;
    o.level_shares = {0.25, 0.5, 0.25};
    GramStub fp, q;
    const auto plan = plan_model_wide(w, L, o, &fp, nullptr, {});
    ASSERT_EQ(plan.levels.size(), 14u);
    // Without the plan, a model-wide run is refused (internal: the jobs always pass it).
    auto w2 = w;
    EXPECT_EQ(code_of([&] { quantize_model_halo(w2, L, o, &q, nullptr, {}); }), "E9067");
    const auto r = quantize_model_halo(w, L, o, &q, nullptr, {}, &plan);
    double total = 0, largest = 64;
    std::vector<double> at(3, 0), per_block_level(2, 0), per_block_tiles(2, 0);
    for (std::size_t i = 0; i < r.model.linears.size(); ++i) {
        const auto& rec = r.model.linears[i];
        EXPECT_EQ(std::vector<int>(rec.tensor.tiles.level.begin(), rec.tensor.tiles.level.end()), plan.levels[i]);
        const auto& t = rec.tensor;
        for (std::int64_t rr = 0; rr < t.rows(); ++rr)
            for (std::int64_t cc = 0; cc < t.cols(); ++cc) {
                const auto tile = static_cast<std::size_t>(t.group_index(rr, cc));
                at[static_cast<std::size_t>(t.tiles.level[tile])] += 1, total += 1;
            }
        for (int lv : t.tiles.level) per_block_level[static_cast<std::size_t>(rec.layer)] += lv, per_block_tiles[static_cast<std::size_t>(rec.layer)] += 1;
    }
    double cum = 0, cum_target = 0;
    for (std::size_t l = 0; l < 3; ++l) {
        cum += at[l], cum_target += o.level_shares[l] * total;
        EXPECT_LE(std::fabs(cum - cum_target), largest) << "level " << l;
    }
    // The block with ten times larger weights (w^2 sensitivity 100x) runs slower on average.
    EXPECT_LT(per_block_level[1] / per_block_tiles[1], per_block_level[0] / per_block_tiles[0]);
}

TEST(ModelWide, ModelObjectivePlanIsHonouredByTheQuantizedModel) {
    auto w = tiny_model();
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o;
    o.tile_k = 8, o.tile_n = 8;
    o.scope = AssignScope::model;
    o.model_objective = true;  // no shares: bal on the pooled front
    o.objective = Objective::bal;
    GramStub fp, q;
    const auto plan = plan_model_wide(w, L, o, &fp, nullptr, {});
    ASSERT_EQ(plan.levels.size(), 14u);
    ASSERT_TRUE(plan.objective_plan.has_value());
    EXPECT_EQ(plan.objective_plan->levels, plan.levels);
    const auto r = quantize_model_halo(w, L, o, &q, nullptr, {}, &plan);
    ASSERT_EQ(r.model.linears.size(), 14u);
    for (std::size_t i = 0; i < r.model.linears.size(); ++i) {
        const auto& lv = r.model.linears[i].tensor.tiles.level;
        EXPECT_EQ(std::vector<int>(lv.begin(), lv.end()), plan.levels[i]) << "linear " << i;
    }
    // Shares are not needed (nor checked) for an objective plan; a share plan still checks them.
    o.model_objective = false;
    EXPECT_EQ(code_of([&] { plan_model_wide(w, L, o, &fp, nullptr, {}); }), "E9064");
}

TEST(SparseLevel, LowestEnergyLevelThatMeetsTiming) {
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    ASSERT_EQ(L.levels.size(), 3u);
    // Negative values meet only L0 (the nominal clock).
    EXPECT_EQ(sparse_engine_level(L, std::vector<int>{-100, 3, 64}, 50, 1.0, 256).level, 0);
    // Fast values and an easy deadline: L0 has the lowest voltage, so the lowest energy.
    const std::vector<int> fast = {0, 16, 32, 64};
    for (std::size_t l = 0; l < 3; ++l)
        for (int v : fast) ASSERT_TRUE(L.meets(v, l));
    EXPECT_EQ(sparse_engine_level(L, fast, 50, 1.0, 256).level, 0);
    // A deadline L0 misses but L1 meets: 1000 MACs per token on 1 MAC per cycle is 1000 cycles;
    // give the dense tiles time for 1000 cycles at a clock between L0's and L1's.
    const double f_mid = (L.levels[0].freq_mhz + L.levels[1].freq_mhz) / 2;
    const auto s = sparse_engine_level(L, fast, 1000, 1000 / f_mid, 1);
    EXPECT_EQ(s.level, 1);
    EXPECT_TRUE(s.meets_deadline);
    // The same deadline with slow values: no level meets both; the fastest the values allow.
    const auto slow = sparse_engine_level(L, std::vector<int>{-5}, 1000, 1000 / f_mid, 1);
    EXPECT_EQ(slow.level, 0);
    EXPECT_FALSE(slow.meets_deadline);
    EXPECT_EQ(sparse_engine_level(L, {}, 0, 1.0, 256).level, 0);  // no sparse part
}

TEST(SparseLevel, QuantizedLayersSparseValuesMeetTheirLevelAndReachTheSimulator) {
    Layer fx;
    for (int throughput : {256, 1}) {
        HaloOptions o;
        o.tile_k = 32, o.tile_n = 32;
        o.objective = Objective::perf;
        o.sparse.salient_fraction = 0.01;
        o.sparse_macs_per_cycle = throughput;
        CodebookRegistry books;
        const auto r = quantize_linear_halo(fx.w, fx.g, fx.x.rows, nullptr, fx.L, o, books, "synthetic");
        ASSERT_GT(r.sparse_nnz, 0);
        ASSERT_FALSE(r.sparse_values.empty());
        for (int v : r.sparse_values) EXPECT_TRUE(fx.L.meets(v, static_cast<std::size_t>(r.sparse_level.level))) << v;
        // The values are the stored ones: value = fp16(scale_r * q) for one q per entry.
        std::int64_t seen = 0;
        for (std::int64_t rr = 0; rr + 1 < static_cast<std::int64_t>(r.tensor.sparse.row_ptr.size()); ++rr)
            seen += r.tensor.sparse.row_ptr[static_cast<std::size_t>(rr) + 1] - r.tensor.sparse.row_ptr[static_cast<std::size_t>(rr)];
        EXPECT_EQ(seen, r.sparse_nnz);
        if (throughput == 256) {
            EXPECT_TRUE(r.sparse_level.meets_deadline);
        }
    }
    // The level travels through the tile-level file to the simulator's workload.
    accel::ModelTileLevels m;
    m.model_name = "tiny", m.n_layers = 1, m.d_model = 16, m.d_ff = 40, m.vocab_size = 32;
    m.sparse_nnz = {{"blk.0.attn_q", 7}};
    m.sparse_level = {{"blk.0.attn_q", 2}};
    accel::TileLevels t;
    t.tile_rows = 16, t.tile_cols = 16, t.k_tiles = 1, t.n_tiles = 1, t.level = {1};
    m.layers.emplace_back("blk.0.attn_q", t);
    const auto back = accel::parse_tile_levels(accel::tile_levels_json(m), "t");
    ASSERT_EQ(back.sparse_level.size(), 1u);
    EXPECT_EQ(back.sparse_level[0].second, 2);
    model::ModelConfig c;
    c.name = "tiny", c.n_layers = 1, c.d_model = 16, c.d_ff = 40, c.n_heads = 2, c.n_kv_heads = 1, c.head_dim = 8, c.vocab_size = 32;
    auto work = accel::transformer_workload(c, {accel::Phase::Kind::prefill, 8, 1, 8});
    accel::attach_tile_levels(work, c, back, "t");
    const auto it = std::find_if(work.begin(), work.end(), [](const accel::WorkItem& x) { return x.gemm.name == "blk.0.attn_q"; });
    ASSERT_NE(it, work.end());
    EXPECT_EQ(it->sparse.nnz, 7);
    EXPECT_EQ(it->sparse.level, 2);
}

}  // namespace
}  // namespace halo::hwq
