// Shared flag parsers of the halo CLI: one syntax per concept across every command.
//   shapes     RxC (rows x cols, e.g. 128x128): --array, --tile
//   lists      a,b,c: CLI11's delimiter(',') (--kinds, --shapes)
//   menus      one of the names of a library table (help text and error list built from the table)
//   --out      the main output file (or directory) itself, never a prefix; companion files
//              (an SVG, a CSV) are written beside it with their own extension
//   --json     [PATH]: the JSON report; alone or "-" prints it on stdout, otherwise PATH
// Every error is a usage error (exit 1) naming the flag, what was expected and what was found.
// A flag that does not apply to the chosen mode is refused (refuse_flags), never ignored.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "halo/util/shape.hpp"

namespace halo::cli {

// Shapes "RxC": halo::parse_shape_rc (util/shape.hpp), shared with the jobs and the Python package.
using halo::parse_shape_rc;
using halo::ShapeRc;

// "a, b, c" from names, for help text and error lists.
std::string menu_text(std::span<const std::string> names);

// `value` must be one of `names` (a table's names). E0012 "unknown <what>" listing them otherwise.
void require_member(std::string_view flag, std::string_view value, std::span<const std::string> names, std::string_view what);

// Numeric flags are range-checked at parse time (CLI11 validators: a bad value is a usage
// error, exit 1, "--flag: <why>"). CLI::Range and CLI::NonNegativeNumber let NaN through (every
// comparison with NaN is false), so real-valued flags use finite_in, which refuses NaN and Inf.
// A real number in [lo, hi].
CLI::Validator finite_in(double lo, double hi);
// An integer in [lo, hi] (the text must be a whole integer: "1.5" and "2x" are refused).
CLI::Validator integer_in(std::int64_t lo, std::int64_t hi);
// A chunk count: -1 (all) or 1..max; 0 would score nothing and print a NaN perplexity.
CLI::Validator all_or_count(std::int64_t max);

// A flag whose value a library table checks (an activation format name, ...): runs `check`,
// and turns the bad-input error it throws into a usage error (E0019, exit 1) at `flag` with the
// library's message, expected and found, so an unknown value is refused before any work.
void require_valid_value(std::string_view flag, const std::function<void()>& check);

// --out FILE whose name must end in `extension` (".json"). E0014 otherwise.
void require_extension(std::string_view flag, std::string_view path, std::string_view extension);

// An output path must not name one of the command's input files (an output never replaces an
// input). E0016 naming both flags otherwise. `inputs`: {flag, path}; empty paths are skipped.
struct NamedPath {
    std::string_view flag;
    std::string path;
};
void require_not_input(std::string_view out_flag, const std::string& out_path, std::span<const NamedPath> inputs);

// Flags given (count() > 0) that do not apply to the mode `why` describes: E0015 naming them.
void refuse_flags(std::span<const CLI::Option* const> given_options, std::string_view why);

// --json [PATH] on `app`: `path` becomes "-" (stdout) when the flag has no value.
CLI::Option* add_json_option(CLI::App& app, std::string& path, std::string_view what);
// Writes `text` (a JSON document) to stdout when path is "-", else atomically to path.
void write_json_output(const std::string& path, const std::string& text);

}  // namespace halo::cli
