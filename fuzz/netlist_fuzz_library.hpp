// The small cell library both netlist fuzz targets (Yosys JSON, structural Verilog) read
// their inputs against: an inverter, a NAND and a flip-flop (combinational and sequential cells).
// Combinational outputs carry a timing arc: the reader refuses a function without one (E1410),
// and a library that fails to load would make every input return early, fuzzing nothing.
#pragma once

#include "halo/liberty/liberty_reader.hpp"

namespace halo::fuzz {

inline const halo::liberty::Library& netlist_fuzz_library() {
    static const halo::liberty::Library lib = halo::liberty::read_liberty_string(R"LIB(
library (fuzz) {
  cell (INVX1) { area : 1; pin (A) { direction : input; capacitance : 1; }
                 pin (Y) { direction : output; function : "!A";
                           timing () { related_pin : "A"; cell_rise (scalar) { values ("1"); } } } }
  cell (NAND2X1) { area : 2; pin (A, B) { direction : input; capacitance : 1; }
                   pin (Y) { direction : output; function : "!(A B)";
                             timing () { related_pin : "A B"; cell_rise (scalar) { values ("1"); } } } }
  cell (DFFPOSX1) { area : 4; ff (IQ, IQN) { next_state : "D"; clocked_on : "CLK"; }
                    pin (CLK, D) { direction : input; capacitance : 1; }
                    pin (Q) { direction : output; function : "IQ"; } }
}
)LIB",
                                                                                 "fuzz.lib");
    return lib;
}

}  // namespace halo::fuzz
