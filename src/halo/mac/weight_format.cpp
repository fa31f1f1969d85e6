#include "halo/mac/weight_format.hpp"

#include <array>
#include <string>

#include <fmt/format.h>

#include "halo/mac/reference_arith.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

DecodedWeight decode_int8(std::uint32_t code) { return {static_cast<double>(sign_extend(code, 8)), false}; }
DecodedWeight decode_int4(std::uint32_t code) { return {static_cast<double>(sign_extend(code, 4)), false}; }
DecodedWeight decode_e4m3(std::uint32_t code) {
    if (e4m3_is_nan(code)) return {0.0, true};
    return {e4m3_to_double(code), false};
}
DecodedWeight decode_bf16(std::uint32_t code) {
    const double v = bf16_to_double(code);
    if (v != v) return {0.0, true};
    return {v, false};
}

constexpr std::array<WeightFormatInfo, 4> kFormats{{
    {WeightFormat::int8, "int8", 8, false, decode_int8},
    {WeightFormat::int4, "int4", 4, false, decode_int4},
    {WeightFormat::fp8_e4m3, "fp8-e4m3", 8, true, decode_e4m3},
    {WeightFormat::bf16, "bf16", 16, true, decode_bf16},
}};

}  // namespace

std::span<const WeightFormatInfo> weight_format_table() { return kFormats; }

const WeightFormatInfo& weight_format_info(WeightFormat f) {
    for (const auto& row : kFormats)
        if (row.format == f) return row;
    throw_internal("E4003", "weight format missing from the table", "add a row to weight_format.cpp");
}

const WeightFormatInfo& find_weight_format(std::string_view name) {
    std::string known;
    for (const auto& row : kFormats) {
        if (row.name == name) return row;
        known += (known.empty() ? "" : ", ") + std::string(row.name);
    }
    throw_bad_value("E4001", "weight format", "unknown weight format", "one of " + known,
                    "\"" + std::string(name) + "\"");
}

DecodedWeight decode_weight(WeightFormat f, std::uint32_t code) {
    const auto& row = weight_format_info(f);
    if (row.bits < 32 && (code >> row.bits) != 0)
        throw_bad_value("E4002", std::string(row.name), "weight code has bits above the format's width",
                        fmt::format("a {}-bit code", row.bits), fmt::format("0x{:x}", code));
    return row.decode(code);
}

}  // namespace halo::mac
