// Reads a flattened structural Verilog netlist (Yosys `write_verilog -noattr` after mapping to
// a Liberty library) into halo's Netlist.
//
// Accepted subset: `module name (ports); ... endmodule` with input/output/wire/reg
// declarations (optional [msb:lsb] ranges), `assign lhs = rhs;` between nets, bit selects,
// part selects, concatenations and sized/unsized constants, and cell instances with named
// connections `CELL inst (.PIN(expr), ...);`. Comments, `(* attributes *)` and `directive
// lines are skipped. x/z constant bits read as 0, as in the JSON reader. Positional
// connections, parameters on cells, behavioural code and hierarchy are errors.
//
// Errors: halo::Error (bad input) E20xx with the file and line: E2030 syntax, E2031
// unsupported construct, E2032 bit select out of range, E2033 assign width mismatch, and the
// JSON reader's E2003/E2004/E2010/E2011/E2012/E2015/E2020-E2022.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "halo/liberty/library.hpp"
#include "halo/netlist/netlist.hpp"

namespace halo::netlist {

// `top` = "" picks the only module, or the one no other module instantiates.
Netlist read_structural_verilog(const std::filesystem::path& path, std::string_view top, const liberty::Library& library);

Netlist read_structural_verilog_string(std::string_view text, std::string_view top, const liberty::Library& library,
                                       const std::string& source_name = "<string>");

}  // namespace halo::netlist
