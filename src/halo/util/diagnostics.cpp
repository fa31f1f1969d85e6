#include "halo/util/diagnostics.hpp"

#include <fmt/format.h>

namespace halo {

std::string Diagnostic::render() const {
    std::string out;
    if (!file.empty()) {
        out += file;
        if (line > 0) out += fmt::format(":{}", line);
        out += ": ";
    }
    out += fmt::format("error {}: ", code);
    if (!place.empty()) out += fmt::format("{}: ", place);
    out += message;
    if (!expected.empty() || !found.empty()) {
        out += " (";
        if (!expected.empty()) out += "expected " + expected;
        if (!expected.empty() && !found.empty()) out += ", ";
        if (!found.empty()) out += "found " + found;
        out += ")";
    }
    if (!hint.empty()) out += "; hint: " + hint;
    return out;
}

Error::Error(Diagnostic d) : std::runtime_error(d.render()), diag_(std::move(d)) {}

void throw_bad_input(std::string code, std::string file, long line, std::string message, std::string expected,
                     std::string found, std::string hint) {
    Diagnostic d;
    d.kind = ErrorKind::bad_input;
    d.code = std::move(code);
    d.file = std::move(file);
    d.line = line;
    d.message = std::move(message);
    d.expected = std::move(expected);
    d.found = std::move(found);
    d.hint = std::move(hint);
    throw Error(std::move(d));
}

namespace {

// One place that fills a diagnostic with a file/place/expected/found and throws it.
[[noreturn]] void throw_located(ErrorKind kind, std::string code, std::string file, std::string place, std::string message,
                                std::string expected, std::string found, std::string hint) {
    Diagnostic d;
    d.kind = kind;
    d.code = std::move(code);
    d.file = std::move(file);
    d.place = std::move(place);
    d.message = std::move(message);
    d.expected = std::move(expected);
    d.found = std::move(found);
    d.hint = std::move(hint);
    throw Error(std::move(d));
}

}  // namespace

void throw_bad_input_at(std::string code, std::string file, std::string place, std::string message, std::string expected,
                        std::string found, std::string hint) {
    throw_located(ErrorKind::bad_input, std::move(code), std::move(file), std::move(place), std::move(message),
                  std::move(expected), std::move(found), std::move(hint));
}

void throw_bad_value(std::string code, std::string place, std::string message, std::string expected,
                     std::string found, std::string hint) {
    throw_located(ErrorKind::bad_input, std::move(code), "", std::move(place), std::move(message), std::move(expected),
                  std::move(found), std::move(hint));
}

void throw_internal(std::string code, std::string message, std::string hint) {
    Diagnostic d;
    d.kind = ErrorKind::internal;
    d.code = std::move(code);
    d.message = std::move(message);
    d.hint = std::move(hint);
    throw Error(std::move(d));
}

void throw_usage(std::string code, std::string message, std::string hint) {
    Diagnostic d;
    d.kind = ErrorKind::usage;
    d.code = std::move(code);
    d.message = std::move(message);
    d.hint = std::move(hint);
    throw Error(std::move(d));
}

void throw_bad_flag(std::string code, std::string flag, std::string message, std::string expected, std::string found,
                    std::string hint) {
    throw_located(ErrorKind::usage, std::move(code), "", std::move(flag), std::move(message), std::move(expected),
                  std::move(found), std::move(hint));
}

}  // namespace halo
