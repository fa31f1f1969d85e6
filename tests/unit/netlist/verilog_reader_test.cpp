#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/verilog_reader.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/util/diagnostics.hpp"

using namespace halo;
using namespace halo::netlist;

namespace {

const char* kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

const liberty::Library& osu018() {
    static const liberty::Library lib = liberty::read_liberty(kOsu018);
    return lib;
}

std::string small_v() {
    std::ifstream in(std::string(HALO_TEST_DATA_DIR) + "/netlist/small.v");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

Diagnostic verilog_error(const std::string& text, std::string_view top = "") {
    try {
        read_structural_verilog_string(text, top, osu018(), "bad.v");
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "expected an error";
    return {};
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) s.replace(pos, from.size(), to);
    return s;
}

// Simulates all 2^inputs patterns (inputs <= 6 bits) and returns each output bit's word.
std::map<std::string, std::uint64_t> truth(const Netlist& n) {
    std::vector<std::uint64_t> value(n.net_count(), 0);
    value[kConst1] = ~std::uint64_t{0};
    static constexpr std::uint64_t kVar[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                              0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};
    std::size_t k = 0;
    for (const auto& p : n.ports)
        if (p.direction == PortDirection::input)
            for (NetId b : p.bits) {
                EXPECT_LT(k, 6u) << "truth() handles at most 6 input bits";
                if (k < 6) value[b] = kVar[k++];
            }
    for (auto i : n.topo_order) {
        const Instance& inst = n.instances[i];
        std::vector<std::uint64_t> pins(inst.cell->pins.size(), 0);
        for (const auto& c : inst.inputs) pins[c.pin] = value[c.net];
        for (const auto& c : inst.outputs)
            if (const auto* f = inst.cell->logic.function(c.pin)) value[c.net] = f->eval(pins);
    }
    std::map<std::string, std::uint64_t> out;
    for (const auto& p : n.ports)
        if (p.direction == PortDirection::output)
            for (std::size_t b = 0; b < p.bits.size(); ++b) out[p.name + "[" + std::to_string(b) + "]"] = value[p.bits[b]];
    return out;
}

}  // namespace

TEST(Verilog, SmallHandWritten) {
    Netlist n = read_structural_verilog(std::string(HALO_TEST_DATA_DIR) + "/netlist/small.v", "", osu018());
    EXPECT_EQ(n.top, "small");
    ASSERT_EQ(n.instances.size(), 3u);
    EXPECT_EQ(n.instances[1].name, "g_ff");
    EXPECT_EQ(n.instances[1].cell->name, "DFFPOSX1");
    ASSERT_EQ(n.ports.size(), 7u);
    EXPECT_EQ(n.ports[4].name, "q");
    // y and nand_out are one net (assign), named after the port.
    NetId y = n.find_port("y")->bits[0];
    EXPECT_EQ(n.net_names[y], "y");
    EXPECT_EQ(n.drivers[y].kind, Driver::Kind::instance);
    EXPECT_EQ(n.drivers[y].index, 0u);
    const Port& q = *n.find_port("q");
    ASSERT_EQ(q.bits.size(), 2u);
    EXPECT_EQ(q.bits[1], kConst0);  // MSB from 1'b0
    EXPECT_EQ(n.drivers[q.bits[0]].index, 1u);  // the flip-flop through \esc[0]
    const Port& k = *n.find_port("k");
    EXPECT_EQ(k.bits, (std::vector<NetId>{kConst1, kConst0, kConst1}));  // 3'h5, LSB first
    EXPECT_DOUBLE_EQ(n.total_area(), 24 + 96 + 16);
}

TEST(Verilog, Errors) {
    auto d = verilog_error(replace(small_v(), "INVX1 g_inv", "INVX9 g_inv"));
    EXPECT_EQ(d.code, "E2010");
    EXPECT_EQ(d.file, "bad.v");
    EXPECT_EQ(d.line, 15);
    d = verilog_error(replace(small_v(), ".Y(z)", ".Z(z)"));
    EXPECT_EQ(d.code, "E2011");
    EXPECT_EQ(d.line, 15);
    d = verilog_error(replace(small_v(), ".D(y)", ".D(k)"));
    EXPECT_EQ(d.code, "E2012");
    d = verilog_error(replace(small_v(), ".D(y)", ".D(k[3])"));
    EXPECT_EQ(d.code, "E2032");
    EXPECT_EQ(d.line, 14);
    d = verilog_error(replace(small_v(), "assign k = 3'h5;", "assign k = 2'h1;"));
    EXPECT_EQ(d.code, "E2033");
    EXPECT_EQ(d.line, 21);
    d = verilog_error(replace(small_v(), "assign y = nand_out;", "assign y = nand_out;\n  assign y = z;"));
    EXPECT_EQ(d.code, "E2020");
    d = verilog_error(replace(small_v(), "endmodule", ""));
    EXPECT_EQ(d.code, "E2030");
    EXPECT_EQ(d.found, "end of file");
    d = verilog_error(replace(small_v(), "assign k", "always k"));
    EXPECT_EQ(d.code, "E2031");
    d = verilog_error(small_v(), "big");
    EXPECT_EQ(d.code, "E2003");
    d = verilog_error(replace(small_v(), "INVX1 g_inv (\n    .A(a),", "INVX1 g_inv (\n    .A(z),"));
    EXPECT_EQ(d.code, "E2022");
    d = verilog_error(small_v() + "module wrap(a); input a; small u (.a(a)); endmodule\n");
    EXPECT_EQ(d.code, "E2004");
    EXPECT_EQ(d.line, 23);
}

TEST(Verilog, SynthesizedDesignsAgreeWithTheJsonReader) {
    auto dir = std::filesystem::temp_directory_path() / ("halo_verilog_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "x.v") << "module t(input [2:0] a, input [2:0] b, output [3:0] s, output p);\n"
                                  "  assign s = a + b; assign p = ^a;\nendmodule\n";
    std::string script = "read_verilog " + (dir / "x.v").string() + "; synth -top t -flatten; abc -liberty " + kOsu018 +
                         "; opt_clean; write_json " + (dir / "o.json").string() + "; write_verilog -noattr " +
                         (dir / "o.v").string();
    ASSERT_EQ(std::system(("yosys -q -p \"" + script + "\" > /dev/null 2>&1").c_str()), 0);
    Netlist j = read_yosys_json(dir / "o.json", "t", osu018());
    Netlist v = read_structural_verilog(dir / "o.v", "t", osu018());
    ASSERT_EQ(v.instances.size(), j.instances.size());
    std::map<std::string, int> cj, cv;
    for (const auto& i : j.instances) ++cj[i.cell->name];
    for (const auto& i : v.instances) ++cv[i.cell->name];
    EXPECT_EQ(cj, cv);
    EXPECT_DOUBLE_EQ(v.total_area(), j.total_area());
    auto tj = truth(j), tv = truth(v);
    EXPECT_EQ(tj, tv);
    // And the function itself, over all 64 input patterns: s = a + b, p = parity of a.
    ASSERT_EQ(tv.size(), 5u);
    for (unsigned m = 0; m < 64; ++m) {
        unsigned a = m & 7, b = (m >> 3) & 7, s = 0;
        for (int i = 0; i < 4; ++i) s |= unsigned((tv["s[" + std::to_string(i) + "]"] >> m) & 1) << i;
        EXPECT_EQ(s, a + b) << m;
        EXPECT_EQ(((tv["p[0]"] >> m) & 1) != 0, (__builtin_popcount(a) & 1) == 1);
    }
}
