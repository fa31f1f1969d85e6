// Reads a Liberty (.lib) NLDM cell library into halo's model (library.hpp).
//
// Parse, then interpret: liberty_syntax.hpp turns the text into a syntax tree; this reader
// gives the tree meaning (units, templates, cells, pins, timing and power tables, functions)
// and converts every number to halo's units: ns, pF, V, nW, fJ.
//
// Errors are halo::Error (bad input) with code E1xxx, the file and the line of the statement.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "halo/liberty/library.hpp"

namespace halo::liberty {

// Reads the file at `path`. Throws E1101 if it cannot be read.
Library read_liberty(const std::filesystem::path& path);

// Reads Liberty text; `source_name` stands for the file in diagnostics (tests, fuzzing).
Library read_liberty_string(std::string_view text, const std::string& source_name = "<string>");

}  // namespace halo::liberty
