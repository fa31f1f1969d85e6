// Liberty unit strings ("1ns", "10ps", "1nW", "1kohm") -> scale to halo's unit for that
// quantity (ns, pF, V, nW, uA, kohm). One table row per suffix.
#pragma once

#include <optional>
#include <string_view>

namespace halo::liberty {

enum class UnitKind : unsigned char { time, capacitance, voltage, power, current, resistance };

// "<number><suffix>" (blanks allowed between) -> number x suffix scale; nullopt if unknown.
std::optional<double> parse_unit(std::string_view text, UnitKind kind);

// "1ns, 1ps, ..." for diagnostics.
const char* unit_examples(UnitKind kind);

}  // namespace halo::liberty
