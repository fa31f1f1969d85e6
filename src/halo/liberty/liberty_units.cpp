#include "halo/liberty/liberty_units.hpp"

#include <cctype>
#include <charconv>
#include <string>

namespace halo::liberty {

namespace {

struct UnitRow {
    UnitKind kind;
    const char* suffix;  // compared case-insensitively, except where case tells milli from mega
    double scale;        // to ns, pF, V, nW, uA or kohm
};

constexpr UnitRow kUnits[] = {
    {UnitKind::time, "s", 1e9},       {UnitKind::time, "ms", 1e6},       {UnitKind::time, "us", 1e3},
    {UnitKind::time, "ns", 1},        {UnitKind::time, "ps", 1e-3},      {UnitKind::time, "fs", 1e-6},
    {UnitKind::capacitance, "f", 1e12}, {UnitKind::capacitance, "mf", 1e9}, {UnitKind::capacitance, "uf", 1e6},
    {UnitKind::capacitance, "nf", 1e3}, {UnitKind::capacitance, "pf", 1}, {UnitKind::capacitance, "ff", 1e-3},
    {UnitKind::voltage, "v", 1},      {UnitKind::voltage, "mv", 1e-3},   {UnitKind::voltage, "kv", 1e3},
    {UnitKind::power, "w", 1e9},      {UnitKind::power, "mw", 1e6},      {UnitKind::power, "uw", 1e3},
    {UnitKind::power, "nw", 1},       {UnitKind::power, "pw", 1e-3},     {UnitKind::power, "fw", 1e-6},
    {UnitKind::current, "a", 1e6},    {UnitKind::current, "ma", 1e3},    {UnitKind::current, "ua", 1},
    {UnitKind::current, "na", 1e-3},  {UnitKind::current, "pa", 1e-6},
    {UnitKind::resistance, "ohm", 1e-3}, {UnitKind::resistance, "kohm", 1}, {UnitKind::resistance, "Mohm", 1e3},
    {UnitKind::resistance, "mohm", 1e-6},
};

bool same(std::string_view a, std::string_view b, bool exact) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (!exact) {
            x = static_cast<char>(std::tolower(static_cast<unsigned char>(x)));
            y = static_cast<char>(std::tolower(static_cast<unsigned char>(y)));
        }
        if (x != y) return false;
    }
    return true;
}

}  // namespace

std::optional<double> parse_unit(std::string_view text, UnitKind kind) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    std::size_t i = 0;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.' || text[i] == 'e' ||
                               text[i] == 'E' || text[i] == '-' || text[i] == '+')) {
        // An 'e' followed by a letter is a suffix, not an exponent.
        if ((text[i] == 'e' || text[i] == 'E') && (i + 1 >= text.size() || !(std::isdigit(static_cast<unsigned char>(text[i + 1])) || text[i + 1] == '-' || text[i + 1] == '+')))
            break;
        ++i;
    }
    double n = 1;
    if (i > 0) {
        std::string_view num = text.substr(0, i);
        if (num.front() == '+') num.remove_prefix(1);
        auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n);
        if (ec != std::errc() || p != num.data() + num.size()) return std::nullopt;
    }
    std::string_view suffix = text.substr(i);
    while (!suffix.empty() && suffix.front() == ' ') suffix.remove_prefix(1);
    // Exact case first ("Mohm" vs "mohm"), then case-insensitive ("1NS").
    for (bool exact : {true, false})
        for (const auto& r : kUnits)
            if (r.kind == kind && same(suffix, r.suffix, exact)) return n * r.scale;
    return std::nullopt;
}

const char* unit_examples(UnitKind kind) {
    static constexpr const char* examples[] = {"1ns, 1ps, 10ps", "1,pf or 1,ff", "1V or 1mV", "1nW, 1pW, 1uW, 1mW",
                                               "1uA, 1mA", "1kohm, 1ohm"};
    return examples[static_cast<int>(kind)];
}

}  // namespace halo::liberty
