// Diagnostics: every error halo reports carries a numbered code, the place (file and line, or a
// tensor/cell/net name), what was expected, what was found and a hint. Library code throws
// halo::Error; only tools/halo/main.cpp turns one into a message and an exit code.
//
// Exit codes: 0 ok, 1 usage, 2 bad input, 3 internal.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace halo {

enum class ErrorKind : std::uint8_t {
    usage = 1,      // the command line is wrong
    bad_input = 2,  // a file or value given to halo is malformed or inconsistent
    internal = 3,   // a bug or an environment failure (a tool that should exist did not run)
};

struct Diagnostic {
    ErrorKind kind = ErrorKind::bad_input;
    std::string code;      // "E1154": module digit + number, stable for tests and docs
    std::string file;      // file the problem is in ("" when none)
    long line = 0;         // 1-based line, 0 when not line-oriented
    std::string place;     // a cell, net, tensor or key name, or a byte offset ("" when none)
    std::string message;   // what is wrong
    std::string expected;  // what halo expected ("" when obvious)
    std::string found;     // what it found
    std::string hint;      // a likely cause or fix

    // "osu018.lib:412: error E1154: <message> (expected X, found Y); hint: ..."
    std::string render() const;
};

class Error : public std::runtime_error {
public:
    explicit Error(Diagnostic d);
    const Diagnostic& diagnostic() const { return diag_; }
    int exit_code() const { return static_cast<int>(diag_.kind); }

private:
    Diagnostic diag_;
};

// Shorthands for the common shapes of a diagnostic.
[[noreturn]] void throw_bad_input(std::string code, std::string file, long line, std::string message,
                                  std::string expected = {}, std::string found = {}, std::string hint = {});
// Bad input at a named place of a file (a tensor, a key, a byte offset) rather than a line.
[[noreturn]] void throw_bad_input_at(std::string code, std::string file, std::string place, std::string message,
                                     std::string expected = {}, std::string found = {}, std::string hint = {});
[[noreturn]] void throw_bad_value(std::string code, std::string place, std::string message,
                                  std::string expected = {}, std::string found = {}, std::string hint = {});
// The same diagnostic (code, message, expected, found, hint) at another file and place: a value
// a library function checked as if it came from a flag ("--group") but that came from a file
// (a manifest's "linears[3].spec") is reported where it was read.
[[noreturn]] void rethrow_at(const Error& e, std::string file, std::string place);
[[noreturn]] void throw_internal(std::string code, std::string message, std::string hint = {});
[[noreturn]] void throw_usage(std::string code, std::string message, std::string hint = {});
// A flag whose value is out of range (exit 1): the place is the flag ("--ctx"), with what was
// expected and what was given.
[[noreturn]] void throw_bad_flag(std::string code, std::string flag, std::string message, std::string expected,
                                 std::string found, std::string hint = {});

}  // namespace halo
