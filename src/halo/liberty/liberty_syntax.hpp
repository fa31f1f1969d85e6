// Liberty syntax tree: what the file says, before any meaning is given to it.
//
// A Liberty file is a tree of statements:
//   group:              name ( arg, arg ) { statement* }
//   simple attribute:   name : value ;          (the ';' may be left off at the end of a line)
//   complex attribute:  name ( value, value ) ;
// Values are words (numbers, identifiers, unquoted expressions) or "quoted strings". Comments are
// /* ... */ (and // to the end of a line); a backslash before a newline continues the line.
// `define (name, group, type);` is an ordinary complex attribute here; the reader accepts it.
//
// The parser keeps every statement with its line so the reader (liberty_reader.cpp) can report
// "file:line" for any problem it finds later.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace halo::liberty {

struct SyntaxValue {
    std::string text;
    bool quoted = false;
};

struct SyntaxAttribute {
    std::string name;
    std::vector<SyntaxValue> values;  // one for a simple attribute
    bool complex = false;             // name ( values ) rather than name : value
    std::uint32_t line = 0;
};

struct SyntaxGroup {
    std::string type;                  // "library", "cell", "pin", "timing", ...
    std::vector<SyntaxValue> args;     // the names in parentheses
    std::vector<SyntaxAttribute> attributes;
    std::vector<SyntaxGroup> groups;
    std::uint32_t line = 0;

    // The first simple or complex attribute of this name, or nullptr.
    const SyntaxAttribute* find_attribute(std::string_view name) const;
};

// Parses a whole file's text into its top-level group. `file` names the source in diagnostics.
// Throws halo::Error E1001..E1009 (bad input) with the line of the problem.
SyntaxGroup parse_liberty_syntax(std::string_view text, const std::string& file);

}  // namespace halo::liberty
