#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "halo/liberty/liberty_reader.hpp"
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

std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string small_json() { return read_text(std::string(HALO_TEST_DATA_DIR) + "/netlist/small.json"); }

std::string replace(std::string s, const std::string& from, const std::string& to) {
    auto pos = s.find(from);
    EXPECT_NE(pos, std::string::npos) << from;
    if (pos != std::string::npos) s.replace(pos, from.size(), to);
    return s;
}

Diagnostic json_error(const std::string& text, std::string_view top = "") {
    try {
        read_yosys_json_string(text, top, osu018(), "bad.json");
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "expected an error";
    return {};
}

// Every combinational input is driven by a port, a constant or an earlier instance.
void expect_topological(const Netlist& n) {
    ASSERT_EQ(n.topo_order.size(), n.instances.size());
    std::vector<int> position(n.instances.size(), -1);
    for (std::size_t k = 0; k < n.topo_order.size(); ++k) position[n.topo_order[k]] = static_cast<int>(k);
    for (std::size_t i = 0; i < n.instances.size(); ++i) {
        ASSERT_GE(position[i], 0);
        if (n.instances[i].cell->is_sequential) continue;
        for (const auto& c : n.instances[i].inputs) {
            const Driver& d = n.drivers[c.net];
            ASSERT_NE(d.kind, Driver::Kind::none);
            if (d.kind == Driver::Kind::instance && !n.instances[d.index].cell->is_sequential) {
                EXPECT_LT(position[d.index], position[i]);
            }
        }
    }
}

// Bit-parallel simulation of a combinational netlist through the compiled cell functions.
std::vector<std::uint64_t> simulate(const Netlist& n, const std::vector<std::pair<std::string, std::vector<std::uint64_t>>>& inputs) {
    std::vector<std::uint64_t> value(n.net_count(), 0);
    value[kConst1] = ~std::uint64_t{0};
    for (const auto& [name, words] : inputs) {
        const Port* p = n.find_port(name);
        for (std::size_t b = 0; b < p->bits.size(); ++b) value[p->bits[b]] = words[b];
    }
    for (auto i : n.topo_order) {
        const Instance& inst = n.instances[i];
        std::vector<std::uint64_t> pins(inst.cell->pins.size(), 0);
        for (const auto& c : inst.inputs) pins[c.pin] = value[c.net];
        for (const auto& c : inst.outputs) value[c.net] = inst.cell->logic.function(c.pin)->eval(pins);
    }
    return value;
}

struct Synthesized {
    std::filesystem::path json;
    int stat_cells = -1;
};

// Runs yosys on `verilog` in a fresh temp dir; returns the JSON path and `stat`'s cell count.
Synthesized synthesize(const std::string& name, const std::string& verilog, const std::string& top, const std::string& extra) {
    auto dir = std::filesystem::temp_directory_path() / ("halo_netlist_test_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "x.v") << verilog;
    std::string script = "read_verilog " + (dir / "x.v").string() + "; synth -top " + top + " -flatten; " + extra +
                         "abc -liberty " + kOsu018 + "; opt_clean; stat; write_json " + (dir / "out.json").string();
    std::string cmd = "yosys -q -l " + (dir / "log.txt").string() + " -p \"" + script + "\" > /dev/null 2>&1";
    Synthesized s;
    if (std::system(cmd.c_str()) != 0) return s;
    s.json = dir / "out.json";
    std::string log = read_text(dir / "log.txt");
    std::smatch m;
    std::regex re("Number of cells:\\s+([0-9]+)");
    // The last stat in the log is the final netlist's.
    for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
        s.stat_cells = std::stoi((*it)[1]);
    return s;
}

}  // namespace

TEST(YosysJson, SmallHandWritten) {
    Netlist n = read_yosys_json(std::string(HALO_TEST_DATA_DIR) + "/netlist/small.json", "", osu018());
    EXPECT_EQ(n.top, "small");
    EXPECT_EQ(n.library, &osu018());
    ASSERT_EQ(n.instances.size(), 3u);
    EXPECT_EQ(n.instances[0].name, "g_nand");
    EXPECT_EQ(n.instances[0].cell->name, "NAND2X1");
    EXPECT_DOUBLE_EQ(n.total_area(), 24 + 96 + 16);
    ASSERT_EQ(n.net_count(), 8u);  // 0, 1 and nets 2..7
    EXPECT_EQ(n.net_names[2], "a");
    EXPECT_EQ(n.net_names[5], "y");  // port names win over netnames
    EXPECT_EQ(n.net_names[3], "b");
    const Port* q = n.find_port("q");
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(q->direction, PortDirection::output);
    ASSERT_EQ(q->bits.size(), 2u);
    EXPECT_EQ(q->bits[1], kConst0);
    EXPECT_EQ(n.find_port("nope"), nullptr);
    NetId y = n.find_port("y")->bits[0];
    EXPECT_EQ(n.drivers[y].kind, Driver::Kind::instance);
    EXPECT_EQ(n.drivers[y].index, 0u);
    EXPECT_EQ(n.drivers[y].pin, 2);  // NAND2X1 pin Y
    ASSERT_EQ(n.loads[y].size(), 1u);
    EXPECT_EQ(n.loads[y][0].instance, 1u);
    EXPECT_EQ(n.loads[y][0].pin, 1);  // DFFPOSX1 pin D
    NetId a = n.find_port("a")->bits[0];
    EXPECT_EQ(n.drivers[a].kind, Driver::Kind::port);
    EXPECT_EQ(n.loads[a].size(), 2u);
    EXPECT_EQ(n.drivers[kConst1].kind, Driver::Kind::constant);
    EXPECT_EQ(n.drivers[kConst1].index, 1u);
    expect_topological(n);
}

TEST(YosysJson, TopByNameAndMissingTop) {
    EXPECT_EQ(read_yosys_json_string(small_json(), "small", osu018()).top, "small");
    auto d = json_error(small_json(), "big");
    EXPECT_EQ(d.code, "E2003");
    EXPECT_EQ(d.file, "bad.json");
    EXPECT_EQ(d.found, "small");
}

TEST(YosysJson, UnknownCellAndPin) {
    auto d = json_error(replace(small_json(), "\"INVX1\"", "\"INVX9\""));
    EXPECT_EQ(d.code, "E2010");
    EXPECT_NE(d.message.find("g_inv"), std::string::npos) << d.message;
    EXPECT_EQ(d.found, "INVX9");
    d = json_error(replace(small_json(), "\"INVX1\"", "\"$_NOT_\""));
    EXPECT_EQ(d.code, "E2010");
    EXPECT_NE(d.hint.find("abc -liberty"), std::string::npos);
    d = json_error(replace(small_json(), "\"A\": [ 2 ], \"Y\": [ 7 ]", "\"A\": [ 2 ], \"Z\": [ 7 ]"));
    EXPECT_EQ(d.code, "E2011");
    EXPECT_NE(d.message.find("g_inv"), std::string::npos);
    EXPECT_EQ(d.found, "Z");
}

TEST(YosysJson, WidthAndUnconnected) {
    auto d = json_error(replace(small_json(), "\"A\": [ 2 ], \"Y\": [ 7 ]", "\"A\": [ 2, 3 ], \"Y\": [ 7 ]"));
    EXPECT_EQ(d.code, "E2012");
    EXPECT_EQ(d.found, "2 bits");
    d = json_error(replace(small_json(), "\"A\": [ 2 ], \"Y\": [ 7 ]", "\"Y\": [ 7 ]"));
    EXPECT_EQ(d.code, "E2015");
}

TEST(YosysJson, MultiplyDrivenUndrivenLoop) {
    // The inverter also drives the NAND's output net.
    auto d = json_error(replace(small_json(), "\"A\": [ 2 ], \"Y\": [ 7 ]", "\"A\": [ 2 ], \"Y\": [ 5 ]"));
    EXPECT_EQ(d.code, "E2020");
    EXPECT_NE(d.message.find("net y"), std::string::npos) << d.message;
    EXPECT_NE(d.found.find("g_nand/Y"), std::string::npos) << d.found;
    EXPECT_NE(d.found.find("g_inv/Y"), std::string::npos) << d.found;
    // An output port driving a net that an input port drives too.
    d = json_error(replace(small_json(), "\"A\": [ 2 ], \"B\": [ 3 ], \"Y\": [ 5 ]", "\"A\": [ 2 ], \"B\": [ 3 ], \"Y\": [ 3 ]"));
    EXPECT_EQ(d.code, "E2020");
    // The NAND reads a net nobody drives.
    d = json_error(replace(small_json(), "\"A\": [ 2 ], \"B\": [ 3 ]", "\"A\": [ 2 ], \"B\": [ 99 ]"));
    EXPECT_EQ(d.code, "E2021");
    EXPECT_NE(d.found.find("g_nand/B"), std::string::npos) << d.found;
    // The NAND reads its own output through the inverter: a combinational loop.
    std::string loop = replace(small_json(), "\"A\": [ 2 ], \"B\": [ 3 ]", "\"A\": [ 2 ], \"B\": [ 7 ]");
    loop = replace(loop, "\"A\": [ 2 ], \"Y\": [ 7 ]", "\"A\": [ 5 ], \"Y\": [ 7 ]");
    d = json_error(loop);
    EXPECT_EQ(d.code, "E2022");
    EXPECT_TRUE(d.message.find("net y") != std::string::npos || d.message.find("net z") != std::string::npos) << d.message;
    // The same cycle through the flip-flop is not combinational.
    std::string through_ff = replace(small_json(), "\"A\": [ 2 ], \"B\": [ 3 ]", "\"A\": [ 2 ], \"B\": [ 6 ]");
    Netlist n = read_yosys_json_string(through_ff, "", osu018());
    expect_topological(n);
}

TEST(YosysJson, HierarchicalAndMalformed) {
    std::string two = replace(small_json(), "\"modules\": {",
                              "\"modules\": { \"sub\": { \"ports\": {}, \"cells\": {}, \"netnames\": {} },");
    two = replace(two, "\"INVX1\"", "\"sub\"");
    auto d = json_error(two);
    EXPECT_EQ(d.code, "E2004");
    EXPECT_NE(d.hint.find("flatten"), std::string::npos);
    d = json_error(small_json().substr(0, 300));
    EXPECT_EQ(d.code, "E2001");
    EXPECT_EQ(d.file, "bad.json");
    EXPECT_EQ(json_error("[1, 2]").code, "E2002");
    EXPECT_EQ(json_error("{\"modules\": 3}").code, "E2002");
    EXPECT_EQ(json_error(replace(small_json(), "[ 2 ], \"B\"", "[ \"q\" ], \"B\"")).code, "E2013");
    EXPECT_EQ(json_error(replace(small_json(), "\"direction\": \"input\",  \"bits\": [ 3 ]",
                                 "\"direction\": \"inout\",  \"bits\": [ 3 ]")).code, "E2014");
}

TEST(YosysJson, SynthesizedAdderMatchesYosysStatAndAdds) {
    auto s = synthesize("adder", "module t(input [3:0] a, input [3:0] b, output [4:0] s); assign s = a + b; endmodule\n",
                        "t", "");
    ASSERT_FALSE(s.json.empty()) << "yosys failed";
    Netlist n = read_yosys_json(s.json, "t", osu018());
    EXPECT_EQ(static_cast<int>(n.instances.size()), s.stat_cells);
    EXPECT_GT(s.stat_cells, 4);
    expect_topological(n);
    for (const auto& p : n.ports)
        for (NetId b : p.bits) {
            ASSERT_LT(b, n.net_count());
            EXPECT_NE(n.drivers[b].kind, Driver::Kind::none) << p.name;
        }
    // All 256 input combinations, 64 per word.
    for (unsigned base = 0; base < 256; base += 64) {
        std::vector<std::uint64_t> a(4, 0), b(4, 0);
        for (unsigned k = 0; k < 64; ++k) {
            unsigned v = base + k;
            for (int i = 0; i < 4; ++i) {
                a[i] |= std::uint64_t((v >> i) & 1) << k;
                b[i] |= std::uint64_t((v >> (4 + i)) & 1) << k;
            }
        }
        auto value = simulate(n, {{"a", a}, {"b", b}});
        const Port& sum = *n.find_port("s");
        for (unsigned k = 0; k < 64; ++k) {
            unsigned v = base + k, got = 0;
            for (std::size_t i = 0; i < sum.bits.size(); ++i) got |= unsigned((value[sum.bits[i]] >> k) & 1) << i;
            ASSERT_EQ(got, (v & 15) + (v >> 4)) << v;
        }
    }
}

TEST(YosysJson, SynthesizedCounterWithFlipFlops) {
    auto s = synthesize("counter",
                        "module c(input clk, input rst, output reg [3:0] q);\n"
                        "always @(posedge clk) if (rst) q <= 0; else q <= q + 1;\nendmodule\n",
                        "c", std::string("dfflibmap -liberty ") + kOsu018 + "; ");
    ASSERT_FALSE(s.json.empty()) << "yosys failed";
    Netlist n = read_yosys_json(s.json, "c", osu018());
    EXPECT_EQ(static_cast<int>(n.instances.size()), s.stat_cells);
    int flops = 0;
    for (const auto& inst : n.instances) flops += inst.cell->is_sequential;
    EXPECT_EQ(flops, 4);
    expect_topological(n);
}
