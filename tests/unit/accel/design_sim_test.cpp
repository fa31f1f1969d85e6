// The hardware-design simulator (`halo simulate --design`, `halo amove-hw`): one small GEMM
// accounted by hand for int8 and amove-conservative on both machines, decode overlap, the
// ratios, design selection from a manifest, and the JSON report.
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/accel/design_report.hpp"
#include "halo/accel/design_select.hpp"
#include "halo/accel/design_sim.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

// Relative comparison: the hand formulas add in another order than the simulator.
void expect_rel(double found, double expected) { EXPECT_NEAR(found, expected, 1e-12 * std::abs(expected)) << expected; }

WorkItem small_gemm() {
    WorkItem w;
    w.gemm = {"g", 16, 16, 8};  // M K N: 2048 MACs
    return w;
}

DesignMachine small_array() {
    DesignMachine m;
    m.arch = DesignArch::systolic;
    m.array.rows = m.array.cols = 8;
    m.array.dram_bandwidth_gbps = 1.0;  // 1 byte/ns
    return m;
}

TEST(DesignSim, SmallGemmOnTheArrayByHand) {
    const DesignMachine m = small_array();
    // SCALE-Sim ws on 8x8: folds = ceil(K/8) * ceil(N/8) = 2, fold_lines = 2R + C + M - 2 = 38,
    // cycles = 2 * 38 - 1 = 75. Operands fit the buffers: A (256) and W (128) read once, the 128
    // outputs written once, partial sums kept on chip.
    const GemmStats s = simulate_gemm(m.array, small_gemm().gemm);
    ASSERT_EQ(s.cycles, 75);
    ASSERT_EQ(s.dram_ifmap_reads, 256);
    ASSERT_EQ(s.dram_filter_reads, 128);
    ASSERT_EQ(s.dram_ofmap_writes, 128);
    ASSERT_EQ(s.dram_psum_reads, 0);
    const double sram_elems_a = static_cast<double>(s.sram_ifmap_reads), sram_elems_w = static_cast<double>(s.sram_filter_reads),
                 sram_out = static_cast<double>(s.sram_ofmap_writes);

    const auto i8 = simulate_design({small_gemm()}, amove_design("int8"), m);
    ASSERT_EQ(i8.layers.size(), 1u);
    const DesignLayer& L8 = i8.layers[0];
    EXPECT_DOUBLE_EQ(L8.mac_cycles, 75);
    expect_rel(L8.compute_s, 75e-9);                   // 1 GHz
    expect_rel(L8.dram_bytes, 256 + 128 + 128 * 2.0);  // INT8 operands, FP16 outputs
    expect_rel(L8.memory_s, 640e-9);
    EXPECT_EQ(L8.decode_s, 0.0);
    EXPECT_EQ(L8.bound, Bound::memory);
    expect_rel(L8.time_s, 640e-9);
    expect_rel(L8.cycles(i8.clock_hz), 640);
    expect_rel(L8.sram_bytes, sram_elems_a + sram_elems_w + sram_out * 2);
    expect_rel(L8.energy.mac, 2048 * 0.3);     // 8-bit mult 0.2 + 32-bit add 0.1 pJ
    expect_rel(L8.energy.rescale, 128 * 1.1);  // per-tensor: one FP16 multiply per output
    EXPECT_EQ(L8.energy.decode, 0.0);
    expect_rel(L8.energy.dram, 640 * 31.2);
    expect_rel(L8.energy.sram, (sram_elems_a + sram_elems_w + sram_out * 2) * 2.5);

    const auto ac = simulate_design({small_gemm()}, amove_design("amove-conservative"), m);
    const DesignLayer& La = ac.layers[0];
    EXPECT_DOUBLE_EQ(La.mac_cycles, 37.5);  // 4-bit MACs: half the 8-bit cycles
    const double bytes = (256 + 128) * 5.0 / 8 + 128 * 2.0;
    expect_rel(La.dram_bytes, bytes);
    expect_rel(La.sram_bytes, (sram_elems_a + sram_elems_w) * 5.0 / 8 + sram_out * 2);
    expect_rel(La.decode_s, 384 / (64.0 * 8) * 1e-9);  // 384 values, 64 per cycle per row, 8 rows
    expect_rel(La.energy.mac, 2048 * (0.05 + 0.03));  // 4-bit mult (0.2/4) + 8-bit add
    // Clusters of 4: three 2-bit shift-adds (0.03 pJ each, x2); groups of 32: 4 FP16 mult-adds.
    expect_rel(La.energy.rescale, 2048 / 4.0 * 0.18 + 2048 / 32.0 * 4 * 1.5);
    expect_rel(La.energy.decode, 384 / 4.0 * 1.5);  // one S - R*e per cluster of the loaded operands
    expect_rel(La.energy.dram, bytes * 31.2);
    expect_rel(ac.total.energy.total(), La.energy.mac + La.energy.rescale + La.energy.decode + La.energy.sram + La.energy.dram);
}

TEST(DesignSim, SmallGemmOnTheTensorCoreByHand) {
    DesignMachine m;  // tensor core
    m.tensor_core = {1, 2, 1.0, 64, 1.0};  // 2 cores x 64 INT8 MACs at 1 GHz, 1 byte/ns
    const auto i8 = simulate_design({small_gemm()}, amove_design("int8"), m);
    const DesignLayer& L8 = i8.layers[0];
    expect_rel(L8.mac_cycles, 2048 / 128.0);
    expect_rel(L8.dram_bytes, 256 + 128 + 256.0);
    expect_rel(L8.sram_bytes, 2 * 640.0);
    expect_rel(L8.energy.sram, 1280 * 2.5);
    expect_rel(L8.energy.rescale, 128 * 1.1);
    EXPECT_EQ(L8.bound, Bound::memory);
    const auto ac = simulate_design({small_gemm()}, amove_design("amove-conservative"), m);
    const DesignLayer& La = ac.layers[0];
    expect_rel(La.mac_cycles, 2048 / 256.0);              // 4-bit: twice the MACs per cycle
    expect_rel(La.decode_s, 384 / (64.0 * 2) * 1e-9);     // 64 values per cycle per core
    expect_rel(La.dram_bytes, 240 + 256.0);
    expect_rel(La.energy.decode, 384 / 4.0 * 1.5);
    EXPECT_EQ(ac.total.decoder_bound, 0);
    // The machine's energy constants (from --config-file) price the bytes moved.
    m.energy.sram_pj_per_byte = 5.0;
    m.energy.dram_pj_per_byte = 10.0;
    const DesignLayer L8b = simulate_design({small_gemm()}, amove_design("int8"), m).layers[0];
    expect_rel(L8b.energy.sram, 1280 * 5.0);
    expect_rel(L8b.energy.dram, 640 * 10.0);
    EXPECT_EQ(L8b.energy.mac, L8.energy.mac);
}

TEST(DesignSim, CutDecoderThroughputMakesTheGemmDecoderBound) {
    AmoveDesign slow = amove_design("amove-conservative");
    slow.decode_values_per_cycle = 0.05;
    std::vector<WorkItem> work = {small_gemm(), small_gemm()};
    work[1].gemm.name = "h";
    for (DesignMachine m : {DesignMachine{}, small_array()}) {
        const auto fast = simulate_design(work, amove_design("amove-conservative"), m);
        const auto cut = simulate_design(work, slow, m);
        EXPECT_EQ(fast.total.decoder_bound, 0);
        EXPECT_NE(fast.layers[0].bound, Bound::decode);
        EXPECT_EQ(cut.total.decoder_bound, 2);
        EXPECT_EQ(cut.layers[1].bound, Bound::decode);
        EXPECT_EQ(cut.layers[0].time_s, cut.layers[0].decode_s);
        EXPECT_GT(cut.total.seconds, fast.total.seconds);
        // Same MAC and memory terms; the decoder's throughput changes time, not energy.
        EXPECT_EQ(cut.total.compute_s, fast.total.compute_s);
        EXPECT_EQ(cut.total.memory_s, fast.total.memory_s);
        EXPECT_EQ(cut.total.energy.total(), fast.total.energy.total());
        const auto report = design_report_json(cut, slow, nullptr, {"w", "", ""});
        EXPECT_EQ(report["total"]["decoder_bound_layers"], nlohmann::json::array({"g", "h"}));
        EXPECT_EQ(report["layers"][0]["bound"], "decode");
    }
}

TEST(DesignSim, RatiosAreTheTotalsDivided) {
    const auto work = transformer_workload(builtin_model("tiny"), Phase{Phase::Kind::decode, 2048, 4, 128});
    DesignMachine arr = small_array();
    arr.array.dram_bandwidth_gbps = 460;
    for (const DesignMachine& m : {DesignMachine{}, arr}) {
        const auto base = simulate_design(work, amove_design("int8"), m);
        const auto rows = compare_designs(work, amove_design("int8"), m);
        ASSERT_EQ(rows.size(), amove_designs().size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& r = rows[i];
            EXPECT_EQ(r.run.design, amove_designs()[i].name);
            EXPECT_EQ(r.run.total.seconds, simulate_design(work, amove_designs()[i], m).total.seconds);
            EXPECT_EQ(r.speedup, base.total.seconds / r.run.total.seconds);
            EXPECT_EQ(r.energy_saving, base.total.energy.total() / r.run.total.energy.total());
            EXPECT_EQ(r.energy_ratio, r.run.total.energy.total() / base.total.energy.total());
        }
        EXPECT_EQ(rows[0].speedup, 1.0);
        // The figures differ between designs (not one constant): conservative moves more bits than aggressive.
        EXPECT_GT(rows[6].run.total.energy.total(), rows[5].run.total.energy.total());
        EXPECT_GT(rows[3].speedup, 1.0);
    }
}

TEST(DesignSim, ReportFields) {
    DesignMachine m = small_array();
    const auto& d = amove_design("amove-aggressive");
    const auto run = simulate_design({small_gemm()}, d, m);
    const auto base = simulate_design({small_gemm()}, amove_design("int8"), m);
    const auto j = design_report_json(run, d, &base, {"one gemm", "/x/manifest.json", "weight_format amove-int4-g128c16"});
    EXPECT_EQ(j["run"]["arch"], "systolic");
    EXPECT_EQ(j["run"]["design"], "amove-aggressive");
    EXPECT_EQ(j["run"]["baseline"], "int8");
    EXPECT_EQ(j["run"]["picked_from"], "/x/manifest.json");
    EXPECT_EQ(j["design"]["area_overhead_pct"], 1.13);
    EXPECT_EQ(j["design"]["weight_bits"], 4.25);
    ASSERT_EQ(j["layers"].size(), 1u);
    EXPECT_EQ(j["layers"][0]["M"], 16);
    EXPECT_EQ(j["layers"][0]["mac_cycles"], 37.5);
    EXPECT_EQ(j["total"]["time_s"], run.total.seconds);
    EXPECT_EQ(j["total"]["cycles"], run.total.seconds * 1e9);
    const auto& e = j["total"]["energy_j"];
    expect_rel(e["total"].get<double>(), e["mac"].get<double>() + e["rescale"].get<double>() + e["decode"].get<double>() +
                                             e["sram"].get<double>() + e["dram"].get<double>());
    expect_rel(e["dram"].get<double>(), run.total.energy.dram * 1e-12);
    EXPECT_EQ(j["baseline"]["design"], "int8");
    EXPECT_EQ(j["speedup"], base.total.seconds / run.total.seconds);
    EXPECT_EQ(j["energy_saving"], base.total.energy.total() / run.total.energy.total());
    expect_rel(j["energy_ratio"].get<double>() * j["energy_saving"].get<double>(), 1.0);
    const auto none = design_report_json(run, d, nullptr, {"one gemm", "", ""});
    EXPECT_EQ(none["run"]["baseline"], "none");
    EXPECT_TRUE(none["run"]["picked_from"].is_null());
    EXPECT_FALSE(none.contains("speedup"));
}

TEST(DesignSim, BadInputs) {
    WorkItem w = small_gemm();
    w.count = 0;
    try {
        simulate_design({w}, amove_design("int8"), DesignMachine{});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7003");
        EXPECT_EQ(e.diagnostic().place, "g");
    }
    DesignMachine m = small_array();
    m.array.rows = 0;
    try {
        simulate_design({small_gemm()}, amove_design("int8"), m);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7002");
        EXPECT_EQ(e.exit_code(), 2);
    }
}

// --- design selection -------------------------------------------------------------------

nlohmann::json manifest(const std::string& weight_format, std::int64_t group_cols, const nlohmann::json& act) {
    return {{"format", "halo-quantized-model"},
            {"weight_format", weight_format},
            {"activation_format", act},
            {"linears", {{{"layer", 0}, {"spec", {{"format", weight_format}, {"group_rows", 1}, {"group_cols", group_cols}}}}}}};
}

Diagnostic selection_error(const nlohmann::json& m) {
    try {
        design_from_manifest(m, "d/manifest.json");
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "no error for " << m.dump();
    return {};
}

TEST(DesignSelect, NamesAndAliases) {
    EXPECT_EQ(amove_design("ant-like").name, "ant");
    EXPECT_EQ(amove_design("olive-like").name, "olive");
    EXPECT_EQ(&amove_design("olive"), &amove_design("olive-like"));
    try {
        amove_design("tender");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7080");
        EXPECT_EQ(e.diagnostic().found, "tender");
        EXPECT_EQ(e.diagnostic().expected,
                  "int8, ant (ant-like), olive (olive-like), mxfp4, int-sym-g64, amove-aggressive, amove-conservative");
    }
    std::vector<std::string_view> arches;
    for (const auto& a : design_arches()) arches.push_back(a.name);
    EXPECT_EQ(arches, (std::vector<std::string_view>{"tensor-core", "systolic"}));
    EXPECT_EQ(arch_name(DesignArch::systolic), "systolic");
}

TEST(DesignSelect, EveryRulePicksItsDesign) {
    struct Case {
        const char* weight;
        std::int64_t group;
        const char* act;
        const char* design;
    };
    for (const Case& c : {Case{"amove-int4-g32c4", 32, "amove-conservative", "amove-conservative"},
                          Case{"amove-int4-g32c4", 32, "amove-int4-g32c4", "amove-conservative"},
                          Case{"amove-int4-g128c16", 128, "amove-aggressive", "amove-aggressive"},
                          Case{"mxfp4", 32, "mxfp4+attn", "mxfp4"},
                          Case{"int4", 64, "int4@g64+attn", "int-sym-g64"},
                          Case{"int8", 0, "int8_per_token", "int8"},
                          Case{"ant4", 0, "ant4+attn", "ant"},
                          Case{"olive4", 0, "olive4+attn", "olive"}}) {
        const auto pick = design_from_manifest(manifest(c.weight, c.group, c.act), "m.json");
        ASSERT_TRUE(pick.has_value()) << c.weight;
        EXPECT_EQ(pick->design->name, c.design);
        const bool rule_names_group = c.group == 64 || std::string_view(c.weight) == "int8";
        EXPECT_EQ(pick->reason, fmt::format("weight_format {}{}, activation_format {}", c.weight,
                                            rule_names_group ? fmt::format(" group_cols {}", c.group) : "", c.act));
    }
    // Every rule names a design of the table.
    for (const auto& r : manifest_design_rules()) EXPECT_EQ(amove_design(r.design).name, r.design);
    // A HALO directory keeps the tile-level path.
    auto halo = manifest("int8-asym", 0, nullptr);
    halo["halo"] = nlohmann::json::object();
    EXPECT_FALSE(design_from_manifest(halo, "m.json").has_value());
}

TEST(DesignSelect, UnknownFormatsNameTheField) {
    auto d = selection_error(manifest("nvfp4", 16, "nvfp4"));
    EXPECT_EQ(d.code, "E7071");
    EXPECT_EQ(d.kind, ErrorKind::bad_input);
    EXPECT_EQ(d.file, "d/manifest.json");
    EXPECT_EQ(d.place, "weight_format");
    EXPECT_EQ(d.found, "\"nvfp4\"");
    EXPECT_NE(d.expected.find("int-sym-g64: weight_format int4 group_cols 64, activation_format int4@g64[+attn...]"),
              std::string::npos);
    EXPECT_NE(d.hint.find("known designs: int8, ant, olive, mxfp4, int-sym-g64, amove-aggressive, amove-conservative"),
              std::string::npos);

    // int8 with groups: the int8 design rescales once per output, so a g32 model is not it.
    d = selection_error(manifest("int8", 32, "int8_per_token"));
    EXPECT_EQ(d.place, "linears[0].spec.group_cols");
    EXPECT_EQ(d.found, "32 (weight_format int8)");

    d = selection_error(manifest("int4", 128, "int4@g128+attn"));
    EXPECT_EQ(d.place, "linears[0].spec.group_cols");
    EXPECT_EQ(d.found, "128 (weight_format int4)");

    d = selection_error(manifest("amove-int4-g32c4", 32, nullptr));
    EXPECT_EQ(d.place, "activation_format");
    EXPECT_EQ(d.found, "null (weight-only amove-int4-g32c4: the designs quantize activations too)");

    d = selection_error(manifest("amove-int4-g32c4", 32, "mxfp4+attn"));
    EXPECT_EQ(d.place, "activation_format");
    EXPECT_EQ(d.found, "\"mxfp4+attn\" (weight_format amove-int4-g32c4)");

    d = selection_error(nlohmann::json{{"format", "halo-quantized-model"}});
    EXPECT_EQ(d.place, "weight_format");
    EXPECT_EQ(d.found, "(missing)");
    // Not a quantized-model manifest at all: its owner, quant's manifest reader, says so.
    d = selection_error(nlohmann::json::array());
    EXPECT_EQ(d.code, "E6011");
    EXPECT_EQ(d.place, "format");
    EXPECT_EQ(d.file, "d/manifest.json");
}

TEST(DesignSelect, QuantizedDirectory) {
    // Per-process name: ctest -j runs test binaries side by side.
    const auto dir = std::filesystem::temp_directory_path() / ("halo_design_select_test_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    EXPECT_FALSE(design_from_quantized_dir(dir).has_value());  // no manifest: tile_levels.json path
    std::ofstream(dir / "manifest.json") << manifest("mxfp4", 32, "mxfp4+attn").dump();
    const auto pick = design_from_quantized_dir(dir);
    ASSERT_TRUE(pick.has_value());
    EXPECT_EQ(pick->design->name, "mxfp4");
    std::ofstream(dir / "manifest.json") << "{ not json";
    try {
        design_from_quantized_dir(dir);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6012");  // quant owns the manifest and its reader
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input);
        EXPECT_EQ(e.diagnostic().file, (dir / "manifest.json").string());
        EXPECT_EQ(e.diagnostic().found.rfind("not valid JSON", 0), 0u);
    }
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace halo::accel
