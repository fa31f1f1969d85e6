#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "halo/accel/scalesim_io.hpp"
#include "halo/accel/systolic.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

ArrayConfig arr(int r, int c, Dataflow df) {
    ArrayConfig a;
    a.rows = r;
    a.cols = c;
    a.dataflow = df;
    a.ifmap_sram_kb = a.filter_sram_kb = a.ofmap_sram_kb = 64;
    return a;
}

// ws, 4x4 array, M=5 K=4 N=3: one fold (K fits 4 rows, N fits 4 cols). A fold loads the weights
// (R=4 lines), streams M=5 rows skewed over R+C-1 = 7 more lines and drains: 2R + C + M - 2 = 15
// lines; SCALE-Sim counts the last line's service cycle: 15 - 1 = 14.
TEST(Systolic, WeightStationaryClosedForm) {
    GemmStats s = simulate_gemm(arr(4, 4, Dataflow::ws), {"g", 5, 4, 3});
    EXPECT_EQ(s.folds, 1);
    EXPECT_EQ(s.fold_lines, 15);
    EXPECT_EQ(s.cycles, 14);
    EXPECT_EQ(s.sram_ifmap_reads, 20);   // M*K once per column fold
    EXPECT_EQ(s.sram_filter_reads, 12);  // K*N
    EXPECT_EQ(s.sram_ofmap_writes, 15);  // M*N per row fold
    EXPECT_DOUBLE_EQ(s.overall_util, 60.0 / (14.0 * 16.0));
    // K=9, N=7 on 4x4: ceil(9/4)=3 row folds x ceil(7/4)=2 column folds, M=10: 6 * (8+4+10-2) - 1.
    EXPECT_EQ(simulate_gemm(arr(4, 4, Dataflow::ws), {"g", 10, 9, 7}).cycles, 6 * 20 - 1);
}

// os, 4x4, M=5 K=4 N=3: M over rows -> 2 folds, N over cols -> 1; each fold streams K=4 and
// drains: R + C + K - 2 = 10 lines; 2*10 - 1 = 19.
TEST(Systolic, OutputStationaryClosedForm) {
    GemmStats s = simulate_gemm(arr(4, 4, Dataflow::os), {"g", 5, 4, 3});
    EXPECT_EQ(s.folds, 2);
    EXPECT_EQ(s.cycles, 19);
    EXPECT_EQ(s.sram_ofmap_writes, 15 + 2 * 8);  // SCALE-Sim adds R + C per fold in os
    EXPECT_EQ(s.sram_filter_reads, 2 * 12);      // W column block re-read per row fold
}

// is, 4x4, M=5 K=4 N=3: K over rows (1 fold), M over cols (2 folds), N streams:
// 2R + C + N - 2 = 13 lines per fold; 2*13 - 1 = 25.
TEST(Systolic, InputStationaryClosedForm) {
    GemmStats s = simulate_gemm(arr(4, 4, Dataflow::is), {"g", 5, 4, 3});
    EXPECT_EQ(s.folds, 2);
    EXPECT_EQ(s.cycles, 25);
    EXPECT_EQ(s.sram_ifmap_reads, 20);
    EXPECT_EQ(s.sram_filter_reads, 24);
}

TEST(Systolic, ClosedFormAgreesWithReference) {
    for (Dataflow df : {Dataflow::ws, Dataflow::os, Dataflow::is})
        for (auto [r, c] : std::vector<std::pair<int, int>>{{4, 4}, {8, 3}, {16, 32}})
            for (std::int64_t m : {1, 7, 33})
                for (std::int64_t k : {1, 5, 64})
                    for (std::int64_t n : {2, 17}) {
                        ArrayConfig a = arr(r, c, df);
                        Gemm g{"g", m, k, n};
                        GemmStats f = simulate_gemm(a, g), ref = simulate_gemm_reference(a, g);
                        EXPECT_EQ(f.cycles, ref.cycles);
                        EXPECT_EQ(f.sram_ifmap_reads, ref.sram_ifmap_reads);
                        EXPECT_EQ(f.sram_filter_reads, ref.sram_filter_reads);
                        EXPECT_EQ(f.sram_ofmap_writes, ref.sram_ofmap_writes);
                        EXPECT_NEAR(f.mapping_efficiency, ref.mapping_efficiency, 1e-12);
                        EXPECT_NEAR(f.compute_util, ref.compute_util, 1e-12);
                    }
}

// tests/data/accel/scalesim_reference.csv: SCALE-Sim v2's own reports (command in the file).
TEST(Systolic, EqualsRecordedScaleSim) {
    std::ifstream in(std::string(HALO_TEST_DATA_DIR) + "/accel/scalesim_reference.csv");
    ASSERT_TRUE(in.good());
    std::string line;
    int rows = 0;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#' || line.rfind("rows,", 0) == 0) continue;
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
        ASSERT_EQ(f.size(), 21u) << line;
        ArrayConfig a = arr(std::stoi(f[0]), std::stoi(f[1]), parse_dataflow(f[2]));
        a.ifmap_sram_kb = std::stoll(f[3]);
        a.filter_sram_kb = std::stoll(f[4]);
        a.ofmap_sram_kb = std::stoll(f[5]);
        Gemm g{f[6], std::stoll(f[7]), std::stoll(f[9]), std::stoll(f[8])};  // CSV order M, N, K
        GemmStats s = simulate_gemm(a, g);
        SCOPED_TRACE(line);
        EXPECT_EQ(s.cycles, std::stoll(f[10]));
        EXPECT_EQ(s.stall_cycles, std::stoll(f[11]));
        EXPECT_NEAR(100 * s.overall_util, std::stod(f[12]), 1e-9);
        EXPECT_NEAR(100 * s.mapping_efficiency, std::stod(f[13]), 1e-9);
        EXPECT_NEAR(100 * s.compute_util, std::stod(f[14]), 1e-9);
        EXPECT_EQ(s.sram_ifmap_reads, std::stoll(f[15]));
        EXPECT_EQ(s.sram_filter_reads, std::stoll(f[16]));
        EXPECT_EQ(s.sram_ofmap_writes, std::stoll(f[17]));
        if (a.ifmap_sram_kb == 64) {  // operands fit: SCALE-Sim fetches each element once
            EXPECT_EQ(s.dram_ifmap_reads, std::stoll(f[18]));
            EXPECT_EQ(s.dram_filter_reads, std::stoll(f[19]));
            EXPECT_EQ(s.scalesim_dram_ofmap_writes, std::stoll(f[20]));
        }
        ++rows;
    }
    EXPECT_EQ(rows, 105);  // 7 layers x 3 dataflows x 5 array configurations
}

TEST(Systolic, OnChipAccumulationVersusScaleSimOutputTraffic) {
    // ws, K = 3 row folds: SCALE-Sim writes M*N*3; halo keeps the M x C partial sums on chip.
    GemmStats s = simulate_gemm(arr(4, 4, Dataflow::ws), {"g", 10, 9, 7});
    EXPECT_EQ(s.scalesim_dram_ofmap_writes, 3 * 70);
    EXPECT_EQ(s.dram_ofmap_writes, 70);
    EXPECT_EQ(s.dram_psum_reads, 0);
    ArrayConfig tiny = arr(4, 4, Dataflow::ws);
    tiny.ofmap_sram_kb = 1;  // 1024 B < M*C*4 = 4000*4 B: partial sums spill
    GemmStats sp = simulate_gemm(tiny, {"g", 1000, 9, 7});
    EXPECT_EQ(sp.dram_ofmap_writes, 3 * 7000);
    EXPECT_EQ(sp.dram_psum_reads, 2 * 7000);
}

TEST(Systolic, BadInputIsRejected) {
    try {
        simulate_gemm(arr(4, 4, Dataflow::ws), {"q", 0, 4, 4});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7003");
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_EQ(e.diagnostic().place, "q");
    }
    EXPECT_THROW(simulate_gemm(arr(0, 4, Dataflow::ws), {"q", 1, 1, 1}), Error);
    EXPECT_THROW(simulate_gemm(arr(4, 100000, Dataflow::ws), {"q", 1, 1, 1}), Error);
    EXPECT_THROW(parse_dataflow("rs"), Error);
}

TEST(ScaleSimIo, ReadsConfigAndTopology) {
    ScaleSimConfig c = parse_scalesim_config(
        "[general]\nrun_name = x\n\n[architecture_presets]\nArrayHeight:    16\nArrayWidth: 8\nIfmapSramSzkB: 64\n"
        "FilterSramSzkB: 32\nOfmapSramSzkB : 16\nDataflow : is\nBandwidth : 10\n[run_presets]\nInterfaceBandwidth: CALC\n");
    EXPECT_EQ(c.run_name, "x");
    EXPECT_EQ(c.array.rows, 16);
    EXPECT_EQ(c.array.cols, 8);
    EXPECT_EQ(c.array.filter_sram_kb, 32);
    EXPECT_EQ(c.array.ofmap_sram_kb, 16);
    EXPECT_EQ(c.array.dataflow, Dataflow::is);
    EXPECT_FALSE(c.user_bandwidth);
    auto t = parse_scalesim_topology("Layer, M, N, K,\nfc1, 5, 3, 4,\n\nfc2,10,7,9\n");
    ASSERT_EQ(t.size(), 2u);
    EXPECT_EQ(t[0].M, 5);
    EXPECT_EQ(t[0].N, 3);
    EXPECT_EQ(t[0].K, 4);
    EXPECT_EQ(t[1].name, "fc2");
    try {
        parse_scalesim_topology("h\nfc1, 5, x, 4,\n", "t.csv");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7011");
        EXPECT_EQ(e.diagnostic().line, 2);
        EXPECT_EQ(e.diagnostic().file, "t.csv");
    }
    try {
        parse_scalesim_config("[architecture_presets]\nArrayHeight: 4\n", "a.cfg");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E7010");
        EXPECT_NE(e.diagnostic().message.find("arraywidth"), std::string::npos);
    }
}

}  // namespace
}  // namespace halo::accel
