// Hostile netlists (issue #17 class 3): a small Verilog file cannot make the reader allocate
// gigabytes: declared and referenced bus bits share one budget (E2034) with the line where it ran out.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/verilog_reader.hpp"
#include "halo/util/diagnostics.hpp"

using namespace halo;

namespace {

const liberty::Library& osu018() {
    static const liberty::Library lib = liberty::read_liberty("/usr/share/qflow/tech/osu018/osu018_stdcells.lib");
    return lib;
}

Diagnostic error_of(const std::string& text) {
    try {
        (void)netlist::read_structural_verilog_string(text, "", osu018(), "big.v");
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "expected an error";
    return {};
}

TEST(HostileVerilog, ManyWideDeclarationsInA77kFile) {
    // ~3,600 declarations of 2^20 bits: 77 KB that used to grow to gigabytes of bit ids.
    std::string text = "module m (a);\n  input a;\n";
    for (int i = 0; text.size() < 77000; ++i) text += fmt::format("  wire [1048575:0] w{};\n", i);
    text += "endmodule\n";
    const auto d = error_of(text);
    EXPECT_EQ(d.code, "E2034");
    EXPECT_EQ(d.file, "big.v");
    EXPECT_EQ(d.line, 6);  // a (1 bit) + the 4 wide wires of lines 3..6 = 2^22 + 1 bits
    EXPECT_EQ(d.render(), "big.v:6: error E2034: the netlist's buses add up to too many bits (expected at most 4194304 signal "
                          "bits declared and referenced in one file, found more than that by line 6); hint: halo reads "
                          "gate-level MAC netlists; check the bus ranges");
}

TEST(HostileVerilog, OneWideBusReferencedManyTimes) {
    std::string text = "module m (a);\n  input a;\n  wire [1048575:0] w, v;\n";
    for (int i = 0; i < 10; ++i) text += "  assign w = v;\n";
    text += "endmodule\n";
    const auto d = error_of(text);
    EXPECT_EQ(d.code, "E2034");
    EXPECT_EQ(d.line, 4);  // a (1 bit) + w, v + the first assign's two sides = 2^22 + 1 bits: over at its end
}

}  // namespace
