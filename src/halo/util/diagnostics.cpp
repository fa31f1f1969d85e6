#include "halo/util/diagnostics.hpp"

#include <fmt/format.h>

namespace halo {

namespace {

// A part of a diagnostic that echoes input (a token, a key, a JSON parser's "last read") is cut
// at this many bytes: a 600 kB line helps nobody and floods logs (issue #17, class 10).
constexpr std::size_t kMaxEchoBytes = 300;

std::string capped(const std::string& text, std::size_t max_bytes = kMaxEchoBytes) {
    if (text.size() <= max_bytes) return text;
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;  // not inside a UTF-8 character
    return fmt::format("{}... ({} bytes in all)", text.substr(0, cut), text.size());
}

}  // namespace

std::string Diagnostic::render() const {
    std::string out;
    if (!file.empty()) {
        out += capped(file, 4096);  // PATH_MAX: a real path is never cut
        if (line > 0) out += fmt::format(":{}", line);
        out += ": ";
    }
    out += fmt::format("error {}: ", code);
    if (!place.empty()) out += fmt::format("{}: ", capped(place));
    out += capped(message, 1000);
    if (!expected.empty() || !found.empty()) {
        out += " (";
        if (!expected.empty()) out += "expected " + capped(expected, 4096);  // halo's own lists of names
        if (!expected.empty() && !found.empty()) out += ", ";
        if (!found.empty()) out += "found " + capped(found);
        out += ")";
    }
    if (!hint.empty()) out += "; hint: " + capped(hint, 4096);
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

void rethrow_at(const Error& e, std::string file, std::string place) {
    Diagnostic d = e.diagnostic();
    if (d.kind == ErrorKind::usage) d.kind = ErrorKind::bad_input;  // it came from a file, not a flag
    d.file = std::move(file);
    d.line = 0;
    d.place = std::move(place);
    throw Error(std::move(d));
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
