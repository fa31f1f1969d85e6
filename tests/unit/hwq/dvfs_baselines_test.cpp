#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "halo/accel/workload.hpp"
#include "halo/hwq/dvfs_baselines.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

constexpr std::int64_t kTile = 64;

std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().code;
    }
    return "no error";
}

model::Matrix random_gram(std::int64_t n, unsigned seed) {
    const auto x = test::random_matrix(3 * n, n, seed, 1.0);
    model::Matrix g(n, n);
    for (std::int64_t t = 0; t < x.rows; ++t)
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t j = 0; j < n; ++j) g.at(i, j) += x.at(t, i) * x.at(t, j);
    return g;
}

// Independent restatement of "fastest level": the highest level whose listed values contain
// every value the tile uses.
std::size_t fastest_by_lists(const Ladder& L, const std::set<int>& used) {
    std::size_t best = 0;
    for (std::size_t l = 0; l < L.levels.size(); ++l) {
        const auto& vs = L.levels[l].values;
        if (std::all_of(used.begin(), used.end(), [&](int v) { return std::binary_search(vs.begin(), vs.end(), v); })) best = l;
    }
    return best;
}

TEST(DvfsBaselines, MultiplierMapPerFormat) {
    const auto g = quant::Granularity::per_tile(kTile, kTile);
    EXPECT_EQ(multiplier_map(quant::make_spec("int4", g)).shift, 0);
    EXPECT_EQ(multiplier_map(quant::make_spec("int8", g)).offset, 0);
    const auto a4 = multiplier_map(quant::make_spec("int4-asym", g));
    EXPECT_EQ(a4.shift, 3);
    EXPECT_EQ(a4.offset, 0);
    const auto a8 = multiplier_map(quant::make_spec("int8-asym", g));
    EXPECT_EQ(a8.shift, 0);
    EXPECT_EQ(a8.offset, -128);
    // uint4 codes drive 0, 8, ..., 120: the middle level's grid on osu018-like MACs.
    const auto s4 = quant::make_spec("int4-asym", g);
    for (int c = 0; c < 16; ++c) EXPECT_EQ(multiplier_value(s4, a4, static_cast<std::uint8_t>(c)), 8 * c);
    EXPECT_EQ(code_of([&] { (void)multiplier_map(quant::make_spec("fp8-e4m3", g)); }), "E9051");
    // On an osu018-yosys-like ladder the default 8c already meets L1.
    const Ladder yosys_like = build_ladder(test::synthetic_int8_profile(), {});
    const auto y = multiplier_map(s4, &yosys_like);
    EXPECT_EQ(y.shift, 3);
    EXPECT_EQ(y.offset, 0);
}

// A booth-like MAC whose fast codes are the multiples of 16 of either sign: the uint4 codes are
// embedded as 16c - 128, which meets its middle level; 8c would stay at L0.
TEST(DvfsBaselines, EmbeddingIsChosenPerLadder) {
    mac::MacProfile p = test::synthetic_int8_profile();
    for (auto& w : p.weights) {
        const int v = static_cast<int>(*w.value);
        w.static_delay_ns = v % 16 == 0 ? 3.9 + 0.0001 * (v + 128) : 5.0 + 0.001 * (v + 128);
    }
    const Ladder L = build_ladder(p, {});
    const auto spec = quant::make_spec("int4-asym", quant::Granularity::per_tile(kTile, kTile));
    const auto m = multiplier_map(spec, &L);
    EXPECT_EQ(m.shift, 4);
    EXPECT_EQ(m.offset, -128);
    std::vector<int> all, default_embedding;
    for (int c = 0; c < 16; ++c) all.push_back(m.value(c)), default_embedding.push_back(8 * c);
    EXPECT_EQ(fastest_level(L, all), 1u);
    EXPECT_EQ(fastest_level(L, default_embedding), 0u);
}

struct Case {
    const char* format;
    bool gptq;
};
class EveryRow : public ::testing::TestWithParam<Case> {};

// Each tile's level is the fastest its codes allow, and the directory written with its tile
// levels decodes (read back) to exactly the values the multiplier-side decode s_m * (m - z_m)
// gives, tile by tile at the level the manifest and tile_levels.json claim.
TEST_P(EveryRow, TilesAtFastestLevelAndDecodeAsClaimed) {
    const auto [format, use_gptq] = GetParam();
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    const auto w = test::random_matrix(2 * kTile, 3 * kTile, 7);
    const auto spec = quant::make_spec(format, quant::Granularity::per_tile(kTile, kTile));
    quant::QuantizedTensor t = use_gptq ? quant::quantize_gptq(w, random_gram(w.cols, 11), spec, {})
                                        : quant::quantize_rtn(w, spec);
    place_tiles_at_fastest_levels(t, L, kTile, kTile);
    const MultiplierMap map = multiplier_map(spec, &L);
    const std::int64_t nct = t.cols() / kTile;
    int fast_tiles = 0;
    for (std::int64_t rt = 0; rt < t.rows() / kTile; ++rt)
        for (std::int64_t ct = 0; ct < nct; ++ct) {
            std::set<int> used;
            for (std::int64_t r = rt * kTile; r < (rt + 1) * kTile; ++r)
                for (std::int64_t c = ct * kTile; c < (ct + 1) * kTile; ++c) used.insert(multiplier_value(spec, map, t.code(r, c)));
            const auto level = static_cast<std::size_t>(t.tiles.level[static_cast<std::size_t>(rt * nct + ct)]);
            EXPECT_EQ(level, fastest_by_lists(L, used)) << format << " tile " << rt << "," << ct;
            fast_tiles += level > 0;
        }
    // Symmetric rows hold negative (slow) codes in every tile; asymmetric INT4 fits the fast grid.
    if (std::string(format) == "int4-asym") {
        EXPECT_EQ(fast_tiles, 6);
    }
    if (std::string(format) == "int4" || std::string(format) == "int8") {
        EXPECT_EQ(fast_tiles, 0);
    }

    quant::QuantizedModel qm;
    qm.method = use_gptq ? "gptq" : "rtn";
    qm.spec = spec.describe();
    qm.linears.push_back({0, model::LinearKind::attn_q, -1, t, 0, -1, -1});
    qm.bits = t.bits();
    model::ModelConfig c;
    c.name = "test";
    c.n_layers = 1;
    c.d_model = static_cast<int>(t.cols());
    c.d_ff = 1;
    c.vocab_size = 1;
    const auto levels = dvfs_baseline_tile_levels(qm, c, L);
    const auto dir = std::filesystem::temp_directory_path() / ("dvfs_baseline_" + std::string(format) + (use_gptq ? "_g" : "_r"));
    quant::QuantizeOptions qo;
    qo.format = format;
    qo.granularity = quant::Granularity::per_tile(kTile, kTile);
    quant::write_quantized_dir(dir, qm, qo, {}, true, {{"tile_levels.json", accel::tile_levels_json(levels).dump()}});
    const auto back = quant::read_quantized_dir(dir);
    const auto claimed = accel::read_tile_levels(dir / "tile_levels.json");
    ASSERT_EQ(back.linears.size(), 1u);
    const auto& bt = back.linears[0].tensor;
    EXPECT_EQ(bt.tiles.level, t.tiles.level);
    const auto& tl = claimed.layers.at(0).second;
    EXPECT_EQ(tl.zero_point, spec.format->asymmetric);
    for (std::int64_t r = 0; r < bt.rows(); ++r)
        for (std::int64_t col = 0; col < bt.cols(); ++col) {
            const auto& p = bt.params(bt.group_index(r, col));
            const float s_m = p.scale / static_cast<float>(1 << map.shift);
            const float z_m = p.zero * static_cast<float>(1 << map.shift) + static_cast<float>(map.offset);
            const float m = static_cast<float>(multiplier_value(spec, map, bt.code(r, col)));
            ASSERT_EQ(s_m * (m - z_m), bt.decode(r, col)) << format << " at " << r << "," << col;
            ASSERT_EQ(bt.decode(r, col), t.decode(r, col));
            // tile_levels.json: the simulator's grid is K (input) x N (output).
            const std::size_t sim_tile = static_cast<std::size_t>((col / kTile) * tl.n_tiles + r / kTile);
            ASSERT_EQ(tl.level[sim_tile], t.tiles.level[static_cast<std::size_t>((r / kTile) * nct + col / kTile)]);
            ASSERT_TRUE(L.meets(static_cast<int>(m), static_cast<std::size_t>(tl.level[sim_tile])));
        }
    std::uint64_t counted = 0;
    for (const auto& h : tl.code_histogram)
        for (auto n : h) counted += n;
    EXPECT_EQ(counted, static_cast<std::uint64_t>(t.rows() * t.cols()));
    std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(DvfsBaselines, EveryRow,
                         ::testing::Values(Case{"int4", false}, Case{"int4-asym", false}, Case{"int8", false},
                                           Case{"int8-asym", false}, Case{"int4", true}, Case{"int4-asym", true},
                                           Case{"int8", true}, Case{"int8-asym", true}),
                         [](const auto& info) {
                             std::string n = std::string(info.param.format) + (info.param.gptq ? "_gptq" : "_rtn");
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

}  // namespace
}  // namespace halo::hwq
