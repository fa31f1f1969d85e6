// libFuzzer target: any bytes must either read as a structural Verilog netlist over a small built-in
// library or raise halo::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/verilog_reader.hpp"
#include "halo/util/diagnostics.hpp"

namespace {

const halo::liberty::Library& library() {
    static const halo::liberty::Library lib = halo::liberty::read_liberty_string(R"LIB(
library (fuzz) {
  cell (INVX1) { area : 1; pin (A) { direction : input; capacitance : 1; }
                 pin (Y) { direction : output; function : "!A"; } }
  cell (NAND2X1) { area : 2; pin (A, B) { direction : input; capacitance : 1; }
                   pin (Y) { direction : output; function : "!(A B)"; } }
  cell (DFFPOSX1) { area : 4; ff (IQ, IQN) { next_state : "D"; clocked_on : "CLK"; }
                    pin (CLK, D) { direction : input; capacitance : 1; }
                    pin (Q) { direction : output; function : "IQ"; } }
}
)LIB",
                                                                                 "fuzz.lib");
    return lib;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        halo::netlist::Netlist n = halo::netlist::read_structural_verilog_string(text, "", library(), "fuzz.v");
        volatile double sink = n.total_area();
        (void)sink;
    } catch (const halo::Error&) {
    }
    return 0;
}
