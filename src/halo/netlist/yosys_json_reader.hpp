// Reads a flattened, technology-mapped Yosys `write_json` netlist into halo's Netlist.
//
// Expected shape (Yosys JSON): {"modules": {"<top>": {"ports": {name: {"direction", "bits"}},
// "cells": {name: {"type", "connections": {pin: [bit]}}}, "netnames": {name: {"bits"}}}}}.
// Bits are integers (nets) or "0"/"1" (constants); "x"/"z" are read as constant 0.
// Every cell type must be a cell of the Liberty library (map with `abc -liberty` and
// `dfflibmap -liberty`), every connection one bit wide, and the design flat.
//
// Errors are halo::Error (bad input) E2xxx naming the file and the module, cell, pin or net.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "halo/liberty/library.hpp"
#include "halo/netlist/netlist.hpp"

namespace halo::netlist {

// Reads `path`. `top` = "" picks the module with the Yosys "top" attribute (or the only module).
// The library must outlive the netlist (instances point at its cells).
Netlist read_yosys_json(const std::filesystem::path& path, std::string_view top, const liberty::Library& library);

// The same from JSON text; `source_name` stands for the file in diagnostics.
Netlist read_yosys_json_string(std::string_view json_text, std::string_view top, const liberty::Library& library,
                               const std::string& source_name = "<string>");

}  // namespace halo::netlist
