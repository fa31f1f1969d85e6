// Gate level: the Yosys netlists of the INT8 MACs on OSU 0.18 um, simulated by Icarus with the
// cells' Verilog models shipped by qflow (osu018_stdcells.v), against the C++ reference; and
// the behavioural INT8 MAC through halo's driver gives the reference design's netlist.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "halo/mac/mac_table.hpp"
#include "halo/mac/yosys_driver.hpp"
#include "halo/util/atomic_file.hpp"
#include "mac_sim_harness.hpp"
#include "mac_vectors.hpp"

namespace fs = std::filesystem;

namespace halo::mac::test {
namespace {

const fs::path kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
const fs::path kOsu018Cells = "/usr/share/qflow/tech/osu018/osu018_stdcells.v";

void check_gate_level(const char* name, MacArch arch, const std::vector<std::uint64_t>& accs) {
    if (!fs::exists(kOsu018) || !fs::exists(kOsu018Cells)) GTEST_SKIP() << "qflow-tech-osu018 not installed";
    const MacSpec& s = find_mac(name);
    ScratchDir dir("gate");
    const SynthResult r = synthesize(s, arch, kOsu018, dir.path / "synth");
    ASSERT_TRUE(fs::exists(r.netlist_verilog));
    int sum = 0;
    for (const auto& [cell, count] : r.cell_counts) sum += count;
    EXPECT_EQ(sum, r.cells);
    const auto v = exhaustive_int(s, accs);
    const SimOutcome out =
        simulate({r.netlist_verilog, kOsu018Cells}, s.weight_bits, s.activation_bits, s.accumulator_bits, v, dir.path);
    EXPECT_EQ(out.vectors, static_cast<long>(v.size())) << out.log;
    EXPECT_EQ(out.mismatches, 0) << out.log;
}

TEST(GateLevel, Int8YosysOsu018MatchesReference) { check_gate_level("int8", MacArch::yosys, {0x800000}); }
TEST(GateLevel, Int8Booth4Osu018MatchesReference) { check_gate_level("int8", MacArch::booth4, {0x800000}); }
TEST(GateLevel, SlowAllIntMacsAllArchsOsu018) {
    if (!std::getenv("HALO_SLOW_TESTS")) GTEST_SKIP() << "set HALO_SLOW_TESTS=1 (ctest -L slow)";
    for (const char* name : {"int8", "int8xu8", "int4"})
        for (MacArch arch : {MacArch::yosys, MacArch::booth4, MacArch::array}) {
            SCOPED_TRACE(std::string(name) + " " + std::string(arch_name(arch)));
            check_gate_level(name, arch, {0, 0x7FFF, 0x8000, 0x7FFFFF, 0x800000});
        }
}

TEST(GateLevel, SlowFpMacsOsu018RandomVectors) {
    if (!std::getenv("HALO_SLOW_TESTS")) GTEST_SKIP() << "set HALO_SLOW_TESTS=1 (ctest -L slow)";
    if (!fs::exists(kOsu018) || !fs::exists(kOsu018Cells)) GTEST_SKIP() << "qflow-tech-osu018 not installed";
    for (const char* name : {"fp8-e4m3-fp32", "fp8-e4m3-fp16", "bf16-fp32"}) {
        SCOPED_TRACE(name);
        const MacSpec& s = find_mac(name);
        ScratchDir dir("gate");
        const SynthResult r = synthesize(s, MacArch::yosys, kOsu018, dir.path / "synth");
        const auto v = random_fp(s, 20000, 3);
        const SimOutcome out = simulate({r.netlist_verilog, kOsu018Cells}, s.weight_bits, s.activation_bits,
                                        s.accumulator_bits, v, dir.path);
        EXPECT_EQ(out.vectors, static_cast<long>(v.size())) << out.log;
        EXPECT_EQ(out.mismatches, 0) << out.log;
    }
}

// The reference flow (shared/reference/opensta-int8-mac/syn.ys on its mac.v) and halo's driver
// on the generated int8/yosys Verilog write the same gate-level netlist.
TEST(GateLevel, Int8YosysReproducesReferenceDesign) {
    const fs::path ref = fs::path(HALO_SHARED_DIR) / "reference/opensta-int8-mac";
    if (!fs::exists(ref / "syn.ys") || !fs::exists(kOsu018)) GTEST_SKIP() << "reference or osu018 missing";
    const std::string generated = generate_verilog(find_mac("int8"), MacArch::yosys);
    EXPECT_EQ(generated, read_file(ref / "mac.v"));
    ScratchDir dir("ref");
    fs::copy_file(ref / "mac.v", dir.path / "mac.v");
    fs::copy_file(ref / "syn.ys", dir.path / "syn.ys");
    const std::string log = run_capture(fmt::format("cd '{}' && yosys -q syn.ys", dir.path.string()));
    ASSERT_TRUE(fs::exists(dir.path / "mac_net.v")) << log;
    const SynthResult r = synthesize(find_mac("int8"), MacArch::yosys, kOsu018, dir.path / "synth");
    EXPECT_EQ(read_file(r.netlist_verilog), read_file(dir.path / "mac_net.v"));
}

}  // namespace
}  // namespace halo::mac::test
