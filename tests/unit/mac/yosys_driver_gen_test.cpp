#include "halo/mac/yosys_driver.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "mac_sim_harness.hpp"

namespace fs = std::filesystem;

namespace halo::mac::test {
namespace {

const fs::path kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

TEST(YosysStat, ParsesCellsAreaAndPerCellCounts) {
    const std::string text =
        "=== mac ===\n\n   Number of wires:                 10\n   Number of cells:                  5\n"
        "     INVX1                          2\n     NAND2X1                        3\n\n"
        "   Chip area for module '\\mac': 160.500000\n";
    SynthResult r;
    parse_yosys_stat(text, "stat.txt", r);
    EXPECT_EQ(r.cells, 5);
    EXPECT_DOUBLE_EQ(r.area_um2, 160.5);
    EXPECT_EQ(r.cell_counts.at("INVX1"), 2);
    EXPECT_EQ(r.cell_counts.at("NAND2X1"), 3);
    EXPECT_EQ(r.cell_counts.size(), 2u);
}

TEST(YosysStat, MissingAreaIsE4042) {
    SynthResult r;
    try {
        parse_yosys_stat("   Number of cells:   5\n", "stat.txt", r);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4042");
        EXPECT_EQ(std::string(e.what()),
                  "stat.txt: error E4042: Yosys stat output lacks the cell count or the chip area (expected "
                  "\"Number of cells:\" and \"Chip area for module\" lines, found no chip area); hint: was stat "
                  "run with -liberty?");
    }
}

TEST(YosysDriver, MissingLibertyIsBadInputE4041) {
    ScratchDir dir("drv");
    try {
        synthesize(find_mac("int4"), MacArch::yosys, dir.path / "none.lib", dir.path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4041");
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_NE(std::string(e.what()).find("none.lib"), std::string::npos);
    }
}

TEST(YosysDriver, YosysFailureIsInternalE4040WithItsLastLines) {
    if (!fs::exists(kOsu018)) GTEST_SKIP();
    ScratchDir dir("drv");
    try {
        synthesize_verilog("module mac(input a, output y); assign y = a +; endmodule\n", "broken", kOsu018, dir.path);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4040");
        EXPECT_EQ(e.exit_code(), 3);
        EXPECT_NE(e.diagnostic().found.find("syntax error"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(dir.path / "broken.partial"));
    try {
        SynthOptions o;
        o.yosys = "/nonexistent/yosys";
        synthesize(find_mac("int4"), MacArch::yosys, kOsu018, dir.path, o);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E4040");
        EXPECT_NE(std::string(e.what()).find("could not run `/nonexistent/yosys`"), std::string::npos) << e.what();
    }
}

TEST(YosysDriver, SecondRunComesFromCacheWithSameFigures) {
    if (!fs::exists(kOsu018)) GTEST_SKIP();
    ScratchDir dir("drv");
    const SynthResult first = synthesize(find_mac("int4"), MacArch::booth4, kOsu018, dir.path);
    EXPECT_FALSE(first.from_cache);
    EXPECT_GT(first.cells, 10);
    const SynthResult second = synthesize(find_mac("int4"), MacArch::booth4, kOsu018, dir.path);
    EXPECT_TRUE(second.from_cache);
    EXPECT_EQ(second.dir, first.dir);
    EXPECT_EQ(second.cells, first.cells);
    EXPECT_DOUBLE_EQ(second.area_um2, first.area_um2);
    // Another architecture is another entry.
    const SynthResult other = synthesize(find_mac("int4"), MacArch::array, kOsu018, dir.path);
    EXPECT_FALSE(other.from_cache);
    EXPECT_NE(other.dir, first.dir);
    // The Verilog in the entry is what the generator writes; the script names the Liberty file.
    EXPECT_EQ(read_file(first.verilog), generate_verilog(find_mac("int4"), MacArch::booth4));
    EXPECT_EQ(read_file(first.script), yosys_script(fs::absolute(kOsu018), 5000));
    EXPECT_TRUE(fs::exists(first.netlist_json));
}

}  // namespace
}  // namespace halo::mac::test
