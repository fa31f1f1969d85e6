#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "halo/accel/gpu.hpp"
#include "halo/accel/report.hpp"
#include "halo/accel/sim_config.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/model/safetensors_reader.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::accel {
namespace {

// A 4x4 ws array, two levels (100 MHz at 1 V nominal, 200 MHz at 2 V), 50 ns / 1 nJ per switch,
// and a 2-bit "MAC" whose codes cost 10, 20, 30, 40 fJ.
SystolicOptions small_options() {
    SystolicOptions o;
    o.array.rows = o.array.cols = 4;
    o.array.ifmap_sram_kb = o.array.filter_sram_kb = o.array.ofmap_sram_kb = 64;
    o.dvfs.levels = {{"slow", 100, 1.0}, {"fast", 200, 2.0}};
    o.dvfs.nominal = 0;
    o.dvfs.switch_penalty_ns = 50;
    o.dvfs.switch_energy_nj = 1;
    o.mac = flat_mac_table(0, "int2", 2);
    o.mac.energy_fj = {10, 20, 30, 40};
    o.energy.mac_energy_scale = 1;
    return o;
}

// GEMM M=4, K=8, N=8: 2x2 weight tiles; levels (k,n): (0,0)=0 (1,0)=1 (0,1)=1 (1,1)=0.
WorkItem hand_item() {
    WorkItem it;
    it.gemm = {"lin", 4, 8, 8};
    TileLevels t = uniform_tile_levels(8, 8, 4, 4, 0);
    t.weight_format = "int2";
    t.level = {0, 1, 1, 0};  // index k*2 + n
    t.code_histogram = {{16, 0, 0, 0}, {0, 8, 8, 0}, {0, 0, 0, 16}, {16, 0, 0, 0}};
    it.tiles = t;
    return it;
}

TEST(Dvfs, HandMadeTileLevelsTimeAndEnergy) {
    SystolicOptions o = small_options();
    SimResult r = simulate_systolic({hand_item()}, o);
    const LayerResult& L = r.layers.at(0);
    // fold_lines = 2R + C + M - 2 = 14; two folds at 100 MHz, two at 200 MHz.
    const double compute_s = 2 * 14 / 100e6 + 2 * 14 / 200e6;
    EXPECT_NEAR(L.compute_time_s, compute_s, 1e-18);
    // Natural order (n outer, k inner) is 0,1,1,0: grouped it is 0,0,1,1 -> one switch from level 0.
    EXPECT_EQ(L.switches, 1);
    EXPECT_NEAR(L.time_s, compute_s + 50e-9, 1e-18);  // 128 B of DRAM traffic hide under compute
    // Each weight meets M=4 activations; 16 weights per tile; fast tiles pay (2 V / 1 V)^2.
    // Tiles (k,n): (0,0) code 0 -> 10 fJ at 1x; (0,1) codes 1,2 -> 25 fJ at 4x;
    // (1,0) code 3 -> 40 fJ at 4x; (1,1) code 0 -> 10 fJ at 1x.
    EXPECT_NEAR(L.energy.mac_j, 64.0 * (10 + 25 * 4 + 40 * 4 + 10) * 1e-15, 1e-24);
    EXPECT_NEAR(L.energy.dvfs_switch_j, 1e-9, 1e-21);
    EXPECT_EQ(L.folds_per_level, (std::vector<std::int64_t>{2, 2}));

    o.reorder = Reorder::none;
    SimResult n = simulate_systolic({hand_item()}, o);
    EXPECT_EQ(n.layers[0].switches, 2);
    EXPECT_NEAR(n.layers[0].time_s, compute_s + 100e-9, 1e-18);
}

TEST(Dvfs, BaselineRunsEverythingAtNominalWithUniformCodes) {
    SystolicOptions o = small_options();
    SimResult b = simulate_systolic(baseline_workload({hand_item()}), o);
    EXPECT_EQ(b.layers[0].switches, 0);
    EXPECT_NEAR(b.layers[0].compute_time_s, 4 * 14 / 100e6, 1e-18);
    EXPECT_NEAR(b.layers[0].energy.mac_j, 4.0 * 8 * 8 * 25 * 1e-15, 1e-24);  // mean of 10..40 fJ
}

TEST(Dvfs, ReorderingInvariants) {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 200; ++trial) {
        ArrayConfig a;
        a.rows = a.cols = 4;
        a.dataflow = static_cast<Dataflow>(trial % 3);
        a.ofmap_sram_kb = trial % 2 ? 64 : 1;  // partial sums fit / do not fit
        Gemm g{"g", 1 + static_cast<std::int64_t>(rng() % 600), 1 + static_cast<std::int64_t>(rng() % 30),
               1 + static_cast<std::int64_t>(rng() % 30)};
        TileLevels t = uniform_tile_levels(g.K, g.N, 4, 4, 0);
        for (int& l : t.level) l = static_cast<int>(rng() % 3);
        FoldPlan p = plan_folds(t, g, a);
        const int start = static_cast<int>(rng() % 3);
        FoldSchedule nat = schedule_folds(p, Reorder::none, start);
        FoldSchedule grp = schedule_folds(p, Reorder::by_level, start);
        EXPECT_EQ(nat.order_level, p.fold_level);
        EXPECT_LE(grp.switches, nat.switches);
        std::vector<int> x = p.fold_level, y = grp.order_level;
        std::sort(x.begin(), x.end());
        std::sort(y.begin(), y.end());
        EXPECT_EQ(x, y);  // same folds, only reordered
        // Within one segment the groups need at most (distinct levels) switches.
        if (p.segments.size() == 1) {
            std::set<int> distinct(p.fold_level.begin(), p.fold_level.end());
            EXPECT_LE(grp.switches, static_cast<int>(distinct.size()));
        }
        EXPECT_EQ(grp.switches, count_switches(grp.order_level, start));
    }
}

TEST(Dvfs, FoldLevelIsTheSlowestTileTheFoldUses) {
    ArrayConfig a;
    a.rows = a.cols = 4;
    Gemm g{"g", 4, 8, 8};
    TileLevels t = uniform_tile_levels(8, 8, 4, 4, 0);
    t.level = {2, 1, 0, 2};  // (k0,n0)=2 (k0,n1)=1 (k1,n0)=0 (k1,n1)=2
    a.dataflow = Dataflow::ws;
    EXPECT_EQ(plan_folds(t, g, a).fold_level, (std::vector<int>{2, 0, 1, 2}));
    a.dataflow = Dataflow::os;  // fold (m, n): min over k of column n: n0 -> 0, n1 -> 1
    EXPECT_EQ(plan_folds(t, g, a).fold_level, (std::vector<int>{0, 1}));
    a.dataflow = Dataflow::is;  // fold (k, m): min over n of row k: k0 -> 1, k1 -> 0
    EXPECT_EQ(plan_folds(t, g, a).fold_level, (std::vector<int>{1, 0}));
}

TEST(Dvfs, SparseEngineRunsBeside) {
    SystolicOptions o = small_options();
    o.energy.sparse_macs_per_cycle = 2;
    WorkItem it = hand_item();
    it.sparse.nnz = 1000;  // 1000 * M=4 / 2 per cycle = 2000 cycles at 100 MHz = 20 us
    SimResult r = simulate_systolic({it}, o);
    EXPECT_NEAR(r.layers[0].sparse_time_s, 2000 / 100e6, 1e-15);
    EXPECT_NEAR(r.layers[0].time_s, 2000 / 100e6, 1e-15);  // longer than the dense part
}

TEST(Dvfs, ProfileForAnotherWeightFormatIsBadInput) {
    SystolicOptions o = small_options();
    o.mac.weight_format = "int8";
    try {
        simulate_systolic({hand_item()}, o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7022");
        EXPECT_EQ(e.exit_code(), 2);
    }
}

TEST(Energy, ProfileParsingAndConfigOverrides) {
    nlohmann::json p = {{"format", "halo-mac-profile"},
                        {"design", {{"weight_format", "int2"}, {"weight_bits", 2}, {"nominal_voltage_v", 1.8}}},
                        {"weights", {{{"code", "00"}, {"energy_fj", 1.0}}, {{"code", "11"}, {"energy_fj", 3.0}}}},
                        {"leakage_nw", 5.0}};
    MacEnergyTable t = parse_mac_profile(p, "p.json");
    EXPECT_DOUBLE_EQ(t.mean_energy_fj(), 2.0);  // codes 01, 10 absent
    EXPECT_DOUBLE_EQ(t.weighted_energy_fj({1, 0, 0, 3}), 2.5);
    EXPECT_DOUBLE_EQ(t.leakage_nw, 5.0);
    p["weights"][1]["code"] = "00";
    EXPECT_THROW(parse_mac_profile(p, "p.json"), Error);  // duplicate code

    SystolicOptions o;
    apply_simulator_config(o, nlohmann::json::parse(R"({"array": {"rows": 32, "dataflow": "os"},
        "dvfs": {"switch_penalty_ns": 20}, "energy": {"dram_pj_per_byte": 10}})"), "c.json");
    EXPECT_EQ(o.array.rows, 32);
    EXPECT_EQ(o.array.dataflow, Dataflow::os);
    EXPECT_DOUBLE_EQ(o.dvfs.switch_penalty_ns, 20);
    EXPECT_DOUBLE_EQ(o.energy.dram_pj_per_byte, 10);
    try {
        apply_simulator_config(o, nlohmann::json::parse(R"({"energy": {"dram_pj_per_bite": 10}})"), "c.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7031");
    }
}

TEST(Workload, Llama7bPrefillShapes) {
    model::ModelConfig c = builtin_model("llama-2-7b");
    const std::int64_t L = 2048, d = 4096, ff = 11008, V = 32000;
    auto w = transformer_workload(c, Phase{});
    ASSERT_EQ(w.size(), 32u * 9 + 1);
    EXPECT_EQ(w[0].gemm.name, "blk.0.attn_q");
    EXPECT_EQ(w[3].gemm.name, "blk.0.attn_qk");
    EXPECT_EQ(w[3].count, 32);
    EXPECT_FALSE(w[3].has_weights);
    std::int64_t macs = 0;
    for (const auto& it : w) macs += it.gemm.M * it.gemm.K * it.gemm.N * it.count;
    EXPECT_EQ(macs, 32 * (L * (4 * d * d + 3 * d * ff) + 2 * L * L * d) + L * d * V);
}

TEST(Workload, DecodeAndGroupedHeads) {
    model::ModelConfig c = builtin_model("smollm2-135m");  // 9 query heads on 3 KV heads, hd 64
    Phase ph;
    ph.kind = Phase::Kind::decode;
    ph.batch = 4;
    ph.context = 100;
    auto w = transformer_workload(c, ph);
    EXPECT_EQ(w[0].gemm.M, 4);
    EXPECT_EQ(w[1].gemm.N, 3 * 64);  // attn_k
    EXPECT_EQ(w[3].gemm.M, 3);       // attn_qk: 3 query heads per group
    EXPECT_EQ(w[3].gemm.N, 100);
    EXPECT_EQ(w[3].count, 4 * 3);
}

TEST(Workload, HfConfigAndTileLevelGlue) {
    // The simulator reads config.json through the model module's one reader (rope_scaling kept).
    const auto dir = std::filesystem::temp_directory_path() / ("halo_workload_hf_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto j = nlohmann::json::parse(R"({"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 160, "vocab_size": 256,
        "rope_scaling": {"rope_type": "linear", "factor": 4.0}})");
    std::ofstream(dir / "config.json") << j.dump();
    model::ModelConfig c = model::read_hf_config(dir / "config.json");
    EXPECT_EQ(c.head_dim, 16);
    EXPECT_EQ(c.n_kv_heads, 2);
    EXPECT_EQ(c.rope_scaling, model::RopeScaling::linear);
    EXPECT_FLOAT_EQ(c.rope_scaling_factor, 4.0f);
    j.erase("hidden_size");
    std::ofstream(dir / "config.json") << j.dump();
    try {
        (void)model::read_hf_config(dir / "config.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5220");
        EXPECT_EQ(e.diagnostic().place, "hidden_size");
    }
    std::filesystem::remove_all(dir);
    auto w = transformer_workload(c, Phase{});
    nlohmann::json lv = nlohmann::json::parse(R"({"format": "halo-tile-levels",
        "model": {"n_layers": 2, "d_model": 64, "d_ff": 160, "vocab_size": 256}, "tile": [32, 32],
        "layers": {"blk.1.ffn_down": {"k_tiles": 5, "n_tiles": 2, "levels": [2,2,2,2,2,2,2,2,2,2]}}})");
    attach_tile_levels(w, c, parse_tile_levels(lv, "t.json"), "t.json");
    int with = 0;
    for (const auto& it : w) with += it.tiles.has_value();
    EXPECT_EQ(with, 1);
    lv["model"]["d_model"] = 128;
    try {
        attach_tile_levels(w, c, parse_tile_levels(lv, "t.json"), "t.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7044");
        EXPECT_EQ(e.exit_code(), 2);
    }
}

TEST(Gpu, RooflinePicksTheSlowerSide) {
    GpuOptions o = default_gpu_options("h100");
    o.dvfs.levels = {{"boost", 1980, 1.0}};
    WorkItem big;  // 4096^3 INT8: compute bound
    big.gemm = {"big", 4096, 4096, 4096};
    WorkItem skinny;  // M=1: memory bound
    skinny.gemm = {"skinny", 1, 4096, 4096};
    SimResult r = simulate_gpu({big, skinny}, o);
    const double ops = 2.0 * 4096 * 4096 * 4096;
    EXPECT_NEAR(r.layers[0].time_s, ops / 1979e12, 1e-12);
    const double bytes = 4096.0 + 4096.0 * 4096 + 4096 * 2;
    EXPECT_NEAR(r.layers[1].time_s, bytes / 3350e9, 1e-12);
    EXPECT_NEAR(simulate_gpu({skinny}, GpuOptions{[] { auto x = default_gpu_options("h200"); x.dvfs.levels = {{"b", 1980, 1.0}}; return x; }()}).layers[0].time_s,
                bytes / 4800e9, 1e-12);
}

TEST(Report, JsonShapeAndRatios) {
    SystolicOptions o = small_options();
    SimResult run = simulate_systolic({hand_item()}, o);
    SimResult base = simulate_systolic(baseline_workload({hand_item()}), o);
    nlohmann::json j = report_json(run, &base, {"systolic", "hand", "nominal"});
    ASSERT_EQ(j["layers"].size(), 1u);
    EXPECT_EQ(j["layers"][0]["cycles"].get<std::int64_t>(), 4 * 14 - 1);
    EXPECT_EQ(j["layers"][0]["K"].get<std::int64_t>(), 8);
    EXPECT_NEAR(j["speedup"].get<double>(), base.total.time_s / run.total.time_s, 1e-12);
    EXPECT_NEAR(j["energy_ratio"].get<double>(), run.total.energy.total_j() / base.total.energy.total_j(), 1e-12);
    EXPECT_NEAR(j["total"]["energy_j"]["total"].get<double>(), run.total.energy.total_j(), 1e-20);
    std::string svg = report_svg(run, "t");
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find(">lin</text>"), std::string::npos);
}

}  // namespace
}  // namespace halo::accel

namespace halo::accel {
namespace {

// Tiles with a zero point: one z * sum(a) correction per output and K-tile, one row-sum add per
// activation and K-tile, on a unit that corrects one output per array column per cycle.
TEST(Dvfs, ZeroPointCorrectionIsChargedPerOutputAndKTile) {
    SystolicOptions o = small_options();
    WorkItem plain = hand_item();
    SimResult without = simulate_systolic({plain}, o);
    EXPECT_EQ(without.layers.at(0).energy.zero_point_j, 0.0);
    EXPECT_EQ(without.layers.at(0).zero_point_time_s, 0.0);

    WorkItem zp = hand_item();
    zp.tiles->zero_point = true;
    SimResult with = simulate_systolic({zp}, o);
    const LayerResult& L = with.layers.at(0);
    // M=4, N=8, K=8 on 4x4 tiles: k_tiles = 2 -> 4*8*2 = 64 corrections, 4*8 = 32 row-sum adds.
    EXPECT_NEAR(L.energy.zero_point_j, (64 * 0.3 + 32 * 0.03) * 1e-12, 1e-24);
    // 64 corrections at 4 per cycle = 16 cycles at the nominal 100 MHz, hidden under compute.
    EXPECT_NEAR(L.zero_point_time_s, 16 / 100e6, 1e-18);
    EXPECT_NEAR(L.time_s, without.layers.at(0).time_s, 1e-18);
    EXPECT_NEAR(L.energy.total_j() - without.layers.at(0).energy.total_j(), L.energy.zero_point_j, 1e-24);
    // A slow correction unit (1 per cycle: 64 cycles = 640 ns) becomes the layer's time.
    o.energy.zero_point_ops_per_cycle = 1;
    SimResult slow = simulate_systolic({zp}, o);
    EXPECT_NEAR(slow.layers.at(0).time_s, 64 / 100e6, 1e-18);
}

TEST(Workload, TileLevelFileCarriesTheZeroPointFlag) {
    nlohmann::json j = {{"format", "halo-tile-levels"}, {"version", 1},
                        {"model", {{"name", "t"}, {"n_layers", 1}, {"d_model", 8}, {"d_ff", 8}, {"vocab_size", 8}}},
                        {"tile", {4, 4}}, {"weight_format", "int8"}, {"zero_point", true},
                        {"layers", {{"blk.0.attn_q", {{"k_tiles", 2}, {"n_tiles", 2}, {"levels", {0, 0, 0, 0}}}}}}};
    ModelTileLevels m = parse_tile_levels(j, "t.json");
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_TRUE(m.layers[0].second.zero_point);
    j.erase("zero_point");
    EXPECT_FALSE(parse_tile_levels(j, "t.json").layers[0].second.zero_point);
}

// The file's text written straight from the counts equals the DOM's compact dump byte for byte:
// layers out of key order, a repeated name (the last wins), one without histograms, sparse entries
// for present and absent layers, counts past 2^32, a name JSON must escape; with and without a
// zero point, and with no layer at all. A name that is not UTF-8 is E0023 in both.
TEST(Workload, TileLevelTextEqualsTheDomDump) {
    const auto layer = [](std::int64_t kt, std::int64_t nt, bool histograms, std::uint64_t scale) {
        TileLevels t;
        t.tile_rows = 4, t.tile_cols = 8, t.k_tiles = kt, t.n_tiles = nt, t.zero_point = true;
        for (std::int64_t i = 0; i < kt * nt; ++i) t.level.push_back(static_cast<int>(i % 3));
        if (histograms)
            for (std::int64_t i = 0; i < kt * nt; ++i) {
                std::vector<std::uint64_t> h(256, 0);
                for (std::size_t c = 0; c < h.size(); c += 7 + static_cast<std::size_t>(i)) h[c] = scale * (c + 1) + static_cast<std::uint64_t>(i);
                t.code_histogram.push_back(std::move(h));
            }
        return t;
    };
    ModelTileLevels m;
    m.model_name = "a \"quoted\\ model\"";
    m.n_layers = 11, m.d_model = 64, m.d_ff = 128, m.vocab_size = 100;
    m.layers = {{"blk.10.ffn_up", layer(2, 3, true, 1)},
                {"blk.1.attn_q", layer(1, 2, true, std::uint64_t{1} << 33)},
                {"output", layer(3, 1, false, 1)},
                {"blk.1.attn_q", layer(2, 2, true, 5)},  // repeated: this one is written
                {"blk.0.ffn_down", layer(1, 1, true, 0)}};
    m.sparse_nnz = {{"blk.0.ffn_down", 12}, {"blk.9.absent", 3}, {"blk.0.ffn_down", 13}};
    m.sparse_level = {{"blk.10.ffn_up", 2}};
    EXPECT_EQ(tile_levels_text(m, "t.json"), dump_json(tile_levels_json(m), -1, "t.json") + "\n");
    for (auto& [name, t] : m.layers) t.zero_point = false;
    EXPECT_EQ(tile_levels_text(m, "t.json"), dump_json(tile_levels_json(m), -1, "t.json") + "\n");
    ModelTileLevels empty;
    EXPECT_EQ(tile_levels_text(empty, "t.json"), dump_json(tile_levels_json(empty), -1, "t.json") + "\n");
    m.layers[0].first = "blk.\xff";
    try {
        (void)tile_levels_text(m, "t.json");
        ADD_FAILURE() << "a name that is not UTF-8 was written";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("E0023"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace halo::accel

namespace halo::accel {
namespace {

// The measured H200 row reproduces the measurement it was calibrated on (docs/results/gpu.md:
// 8192^3 INT8, 1273.1 TOPS, 0.6239 J per GEMM) when run at its sustained clock.
TEST(Gpu, MeasuredH200ReproducesItsCalibrationPoint) {
    GpuOptions o = default_gpu_options("h200-measured");
    o.dvfs.levels = {{"sustained", 1369, 1.0}};
    o.dvfs.nominal = 0;
    WorkItem it;
    it.gemm = {"square8192", 8192, 8192, 8192};
    SimResult r = simulate_gpu({it}, o);
    const double ops = 2.0 * 8192.0 * 8192.0 * 8192.0;
    EXPECT_NEAR(ops / r.total.time_s / 1e12, 1273.1, 1273.1 * 1e-3);
    EXPECT_NEAR(r.total.energy.total_j(), 0.6239, 0.6239 * 0.01);
}

}  // namespace
}  // namespace halo::accel

namespace halo::accel {
namespace {

// The tile-level file and the simulator config each have one writer and one reader in accel;
// what the writer writes the reader gives back.
TEST(FileFormats, TileLevelsRoundTrip) {
    ModelTileLevels m;
    m.model_name = "tiny";
    m.n_layers = 2, m.d_model = 64, m.d_ff = 160, m.vocab_size = 256;
    TileLevels t;
    t.tile_rows = 32, t.tile_cols = 32, t.k_tiles = 5, t.n_tiles = 2;
    t.level = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
    t.code_histogram.assign(10, std::vector<std::uint64_t>(256, 3));
    t.zero_point = true;
    m.layers.emplace_back("blk.1.ffn_down", t);
    m.sparse_nnz.emplace_back("blk.1.ffn_down", 17);
    const auto back = parse_tile_levels(tile_levels_json(m), "t.json");
    EXPECT_EQ(back.model_name, "tiny");
    EXPECT_EQ(back.d_ff, 160);
    ASSERT_EQ(back.layers.size(), 1u);
    const auto& b = back.layers[0].second;
    EXPECT_EQ(b.level, t.level);
    EXPECT_EQ(b.code_histogram, t.code_histogram);
    EXPECT_EQ(b.k_tiles, 5);
    EXPECT_EQ(b.tile_rows, 32);
    EXPECT_TRUE(b.zero_point);
    ASSERT_EQ(back.sparse_nnz.size(), 1u);
    EXPECT_EQ(back.sparse_nnz[0].second, 17);
    EXPECT_EQ(tile_levels_json(back), tile_levels_json(m));
    // Layers of different tile shapes cannot share one file: an internal error, not a silent mix.
    t.tile_rows = 16;
    m.layers.emplace_back("blk.0.ffn_down", t);
    try {
        (void)tile_levels_json(m);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7045");
        EXPECT_EQ(e.exit_code(), 3);
    }
}

TEST(FileFormats, SimulatorConfigRoundTrip) {
    SystolicOptions o;
    o.array.rows = 64, o.array.cols = 32, o.array.dataflow = Dataflow::os, o.array.dram_bandwidth_gbps = 123.5;
    o.dvfs.levels = {{"L0", 500, 1.8}, {"L1", 650, 1.98}};
    o.dvfs.switch_penalty_ns = 40;
    o.energy.dram_pj_per_byte = 9.5;
    o.energy.sparse_macs_per_cycle = 64;
    o.activation_level = 1;
    SystolicOptions back;
    apply_simulator_config(back, simulator_config_json(o), "c.json");
    EXPECT_EQ(back.array.rows, 64);
    EXPECT_EQ(back.array.cols, 32);
    EXPECT_EQ(back.array.dataflow, Dataflow::os);
    EXPECT_EQ(back.array.dram_bandwidth_gbps, 123.5);
    ASSERT_EQ(back.dvfs.levels.size(), 2u);
    EXPECT_EQ(back.dvfs.levels[1].name, "L1");
    EXPECT_EQ(back.dvfs.levels[1].freq_mhz, 650);
    EXPECT_EQ(back.dvfs.switch_penalty_ns, 40);
    EXPECT_EQ(back.energy.dram_pj_per_byte, 9.5);
    EXPECT_EQ(back.energy.sparse_macs_per_cycle, 64);
    EXPECT_EQ(back.activation_level, 1);
    EXPECT_EQ(simulator_config_json(back), simulator_config_json(o));
}

}  // namespace
}  // namespace halo::accel

namespace halo::accel {
namespace {

// Stored bits per weight set the weight (filter) DRAM bytes, nothing else: 4-bit weights read
// half the bytes of 8-bit ones; activations and outputs keep the word size.
TEST(Dvfs, StoredWeightBitsScaleOnlyTheWeightTraffic) {
    SystolicOptions o;
    o.array.rows = o.array.cols = 4;
    o.array.dram_bandwidth_gbps = 1e-3;  // 1 byte per us: the DRAM side dominates the time
    Gemm g{"w", 1, 8, 8};
    WorkItem at8{g};
    WorkItem at4{g};
    at4.weight_bits = 4;
    const auto s = simulate_gemm(o.array, g);
    const double weight_bytes = static_cast<double>(s.dram_filter_reads);
    const double other_bytes = static_cast<double>(s.dram_ifmap_reads + g.M * g.N);
    const auto r8 = simulate_systolic({at8}, o), r4 = simulate_systolic({at4}, o);
    EXPECT_NEAR(r8.layers[0].energy.dram_j, (weight_bytes + other_bytes) * 31.2e-12, 1e-20);
    EXPECT_NEAR(r4.layers[0].energy.dram_j, (weight_bytes / 2 + other_bytes) * 31.2e-12, 1e-20);
    EXPECT_NEAR(r8.layers[0].time_s, (weight_bytes + other_bytes) / 1e6, 1e-12);
    EXPECT_NEAR(r4.layers[0].time_s, (weight_bytes / 2 + other_bytes) / 1e6, 1e-12);
    WorkItem bad{g};
    bad.weight_bits = -1;
    EXPECT_THROW((void)simulate_systolic({bad}, o), Error);
}

// Weights stored as codebook indices (attach_weight_bits with WeightStorage::indices): their
// DRAM bytes follow the index bits, and each weight read from DRAM costs one codebook lookup;
// activation GEMMs and GEMMs not named keep the codes' storage and no lookup.
TEST(Dvfs, IndexStoredWeightsPayOneLookupPerWeightRead) {
    SystolicOptions o;
    o.array.rows = o.array.cols = 4;
    o.energy.codebook_lookup_pj = 0.75;
    Gemm g{"w", 3, 8, 8};
    std::vector<WorkItem> work = {WorkItem{g}, WorkItem{Gemm{"other", 3, 8, 8}}};
    attach_weight_bits(work, {{"w", 4.5}}, WeightStorage::indices);
    EXPECT_TRUE(work[0].weight_indices);
    EXPECT_FALSE(work[1].weight_indices);
    EXPECT_EQ(work[0].weight_bits, 4.5);
    std::vector<WorkItem> as_codes = {WorkItem{g}};
    attach_weight_bits(as_codes, {{"w", 4.5}});
    EXPECT_FALSE(as_codes[0].weight_indices);
    const auto s = simulate_gemm(o.array, g);
    const auto ri = simulate_systolic(work, o), rc = simulate_systolic(as_codes, o);
    EXPECT_NEAR(ri.layers[0].energy.codebook_lookup_j, static_cast<double>(s.dram_filter_reads) * 0.75e-12, 1e-24);
    EXPECT_EQ(ri.layers[1].energy.codebook_lookup_j, 0.0);
    EXPECT_EQ(rc.layers[0].energy.codebook_lookup_j, 0.0);
    EXPECT_EQ(ri.layers[0].energy.dram_j, rc.layers[0].energy.dram_j);  // same bits, same bytes
    EXPECT_NEAR(ri.layers[0].energy.total_j() - rc.layers[0].energy.total_j(), ri.layers[0].energy.codebook_lookup_j, 1e-24);
    EXPECT_NEAR(ri.total.energy.codebook_lookup_j, ri.layers[0].energy.codebook_lookup_j, 1e-24);
    WorkItem attn{Gemm{"attn_qk", 3, 8, 8}};
    attn.has_weights = false;
    attn.weight_indices = true;  // activations have no codebook
    EXPECT_EQ(simulate_systolic({attn}, o).layers[0].energy.codebook_lookup_j, 0.0);
}

}  // namespace
}  // namespace halo::accel
