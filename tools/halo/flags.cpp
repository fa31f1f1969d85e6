#include "flags.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cli {

namespace {

// A usage error (exit 1) at a flag, with what was expected and what was found.
[[noreturn]] void flag_error(std::string code, std::string_view flag, std::string message, std::string expected,
                             std::string found) {
    Diagnostic d;
    d.kind = ErrorKind::usage;
    d.code = std::move(code);
    d.place = std::string(flag);
    d.message = std::move(message);
    d.expected = std::move(expected);
    d.found = std::move(found);
    throw Error(std::move(d));
}

bool parse_int(std::string_view s, std::int64_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

// The whole of `s` as a double (strtod: "nan", "inf", "1e-3" parse; trailing text does not).
bool parse_real(const std::string& s, double& v) {
    if (s.empty()) return false;
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size();
}

}  // namespace

CLI::Validator finite_in(double lo, double hi) {
    return CLI::Validator(
        [lo, hi](std::string& text) -> std::string {
            double v = 0;
            if (!parse_real(text, v)) return fmt::format("expected a number in [{}, {}], found \"{}\"", lo, hi, text);
            if (!std::isfinite(v) || v < lo || v > hi)
                return fmt::format("expected a finite number in [{}, {}], found {}", lo, hi, text);
            return {};
        },
        fmt::format("FLOAT in [{} - {}]", lo, hi));
}

CLI::Validator integer_in(std::int64_t lo, std::int64_t hi) {
    return CLI::Validator(
        [lo, hi](std::string& text) -> std::string {
            std::int64_t v = 0;
            if (!parse_int(text, v) || v < lo || v > hi) return fmt::format("expected an integer in [{}, {}], found \"{}\"", lo, hi, text);
            return {};
        },
        fmt::format("INT in [{} - {}]", lo, hi));
}

CLI::Validator all_or_count(std::int64_t max) {
    return CLI::Validator(
        [max](std::string& text) -> std::string {
            std::int64_t v = 0;
            if (!parse_int(text, v) || (v != -1 && (v < 1 || v > max)))
                return fmt::format("expected -1 (all) or a count in [1, {}], found \"{}\"", max, text);
            return {};
        },
        fmt::format("-1 or INT in [1 - {}]", max));
}

void require_valid_value(std::string_view flag, const std::function<void()>& check) {
    try {
        check();
    } catch (const Error& e) {
        if (e.diagnostic().kind != ErrorKind::bad_input) throw;
        Diagnostic d = e.diagnostic();
        d.kind = ErrorKind::usage;
        d.code = "E0019";
        d.file.clear();
        d.line = 0;
        d.place = std::string(flag);
        throw Error(std::move(d));
    }
}

std::string menu_text(std::span<const std::string> names) { return fmt::format("{}", fmt::join(names, ", ")); }

void require_member(std::string_view flag, std::string_view value, std::span<const std::string> names, std::string_view what) {
    for (const auto& n : names)
        if (n == value) return;
    flag_error("E0012", flag, fmt::format("unknown {}", what), "one of " + menu_text(names), fmt::format("\"{}\"", value));
}

void require_extension(std::string_view flag, std::string_view path, std::string_view extension) {
    if (!path.ends_with(extension) || path.size() == extension.size())
        flag_error("E0014", flag, fmt::format("names the output file, which must end in {}", extension),
                   fmt::format("a file name ending in {}", extension), fmt::format("\"{}\"", path));
}

void require_not_input(std::string_view out_flag, const std::string& out_path, std::span<const NamedPath> inputs) {
    if (out_path.empty() || out_path == "-") return;
    // Same file: equivalent() when both exist, else the same normalized absolute path (a file
    // that does not exist yet is caught before the input reader reports it missing).
    std::error_code ec;
    const auto normal = [&ec](const std::string& p) { return std::filesystem::absolute(p, ec).lexically_normal(); };
    for (const auto& in : inputs) {
        if (in.path.empty()) continue;
        if (std::filesystem::equivalent(out_path, in.path, ec) || normal(out_path) == normal(in.path))
            flag_error("E0016", out_flag, fmt::format("names the same file as {}; an output never replaces an input", in.flag),
                       "a path of its own", fmt::format("\"{}\"", out_path));
    }
}

void refuse_flags(std::span<const CLI::Option* const> given_options, std::string_view why) {
    std::vector<std::string> given;
    for (const auto* o : given_options)
        if (o->count() > 0) given.push_back(o->get_name());
    if (given.empty()) return;
    Diagnostic d;
    d.kind = ErrorKind::usage;
    d.code = "E0015";
    d.message = fmt::format("{} {} not apply {}", fmt::join(given, ", "), given.size() == 1 ? "does" : "do", why);
    d.hint = "leave the flag out, or pick the mode it belongs to (see `halo help <command>`)";
    throw Error(std::move(d));
}

CLI::Option* add_json_option(CLI::App& app, std::string& path, std::string_view what) {
    auto* o = app.add_option("--json", path, fmt::format("{}: to PATH, or on stdout without a value (or -)", what));
    o->expected(0, 1);
    o->default_str("-");
    o->type_name("[PATH]");
    return o;
}

void write_json_output(const std::string& path, const std::string& text) {
    if (path == "-") {
        fmt::print("{}\n", text);
        return;
    }
    write_file_atomic(path, text + "\n");
}

}  // namespace halo::cli
