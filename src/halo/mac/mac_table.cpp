#include "halo/mac/mac_table.hpp"

#include <array>

#include <fmt/format.h>

#include "halo/mac/fp_mac.hpp"
#include "halo/mac/generators.hpp"
#include "halo/mac/reference_arith.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

constexpr std::array<MacArchInfo, 3> kArchs{{
    {MacArch::yosys, "yosys", "behavioural `*`, Yosys' default multiplier mapping"},
    {MacArch::booth4, "booth4", "radix-4 Booth on the weight, Dadda tree, merged final adder"},
    {MacArch::array, "array", "Baugh-Wooley partial products, carry-save array, merged final adder"},
}};

std::uint64_t ref_int(const MacSpec& s, std::uint64_t w, std::uint64_t a, std::uint64_t acc) {
    return mac_ref_int(w, a, acc, s.weight_bits, s.activation_bits,
                       s.activation_format == OperandFormat::int_signed, s.accumulator_bits);
}
std::uint64_t ref_e4m3_fp32(const MacSpec&, std::uint64_t w, std::uint64_t a, std::uint64_t acc) {
    return mac_ref_e4m3_fp32(w & 0xFF, a & 0xFF, acc & 0xFFFFFFFFu);
}
std::uint64_t ref_e4m3_fp16(const MacSpec&, std::uint64_t w, std::uint64_t a, std::uint64_t acc) {
    return mac_ref_e4m3_fp16(w & 0xFF, a & 0xFF, acc & 0xFFFF);
}
std::uint64_t ref_bf16_fp32(const MacSpec&, std::uint64_t w, std::uint64_t a, std::uint64_t acc) {
    return mac_ref_bf16_fp32(w & 0xFFFF, a & 0xFFFF, acc & 0xFFFFFFFFu);
}

const std::vector<MacSpec>& table() {
    using enum OperandFormat;
    const std::vector<MacArch> int_archs{MacArch::yosys, MacArch::booth4, MacArch::array};
    const std::vector<MacArch> fp_archs{MacArch::yosys};
    static const std::vector<MacSpec> rows{
        {"int8", WeightFormat::int8, 8, int_signed, 8, int_signed, 24, int_archs, generate_int_mac, ref_int,
         "signed 8-bit w and a, 24-bit accumulator (the OpenSTA reference design)"},
        {"int8xu8", WeightFormat::int8, 8, int_unsigned, 8, int_signed, 24, int_archs, generate_int_mac, ref_int,
         "signed 8-bit w, unsigned 8-bit a, 24-bit accumulator"},
        {"int4", WeightFormat::int4, 4, int_signed, 4, int_signed, 16, int_archs, generate_int_mac, ref_int,
         "signed 4-bit w and a, 16-bit accumulator"},
        {"fp8-e4m3-fp32", WeightFormat::fp8_e4m3, 8, fp8_e4m3, 8, fp32, 32, fp_archs, generate_fp_mac,
         ref_e4m3_fp32, "FP8 E4M3 w and a, FP32 accumulator, fused (one rounding, RNE)"},
        {"fp8-e4m3-fp16", WeightFormat::fp8_e4m3, 8, fp8_e4m3, 8, fp16, 16, fp_archs, generate_fp_mac,
         ref_e4m3_fp16, "FP8 E4M3 w and a, FP16 accumulator, fused (one rounding, RNE)"},
        {"bf16-fp32", WeightFormat::bf16, 16, bf16, 16, fp32, 32, fp_archs, generate_fp_mac, ref_bf16_fp32,
         "BF16 w and a, FP32 accumulator, fused (one rounding, RNE)"},
    };
    return rows;
}

std::string known_names() {
    std::string out;
    for (const auto& row : table()) out += (out.empty() ? "" : ", ") + row.name;
    return out;
}

}  // namespace

std::span<const MacArchInfo> mac_arch_table() { return kArchs; }

std::string_view arch_name(MacArch arch) {
    for (const auto& row : kArchs)
        if (row.arch == arch) return row.name;
    throw_internal("E4014", "MAC architecture missing from the table", "add a row to mac_table.cpp");
}

MacArch parse_arch(std::string_view name) {
    std::string known;
    for (const auto& row : kArchs) {
        if (row.name == name) return row.arch;
        known += (known.empty() ? "" : ", ") + std::string(row.name);
    }
    throw_bad_value("E4013", "MAC architecture", "unknown multiplier architecture", "one of " + known,
                    "\"" + std::string(name) + "\"");
}

std::string operand_format_name(OperandFormat f, int bits) {
    switch (f) {  // the one place formats become names
    case OperandFormat::int_signed: return fmt::format("int{}", bits);
    case OperandFormat::int_unsigned: return fmt::format("uint{}", bits);
    case OperandFormat::fp8_e4m3: return "fp8-e4m3";
    case OperandFormat::bf16: return "bf16";
    case OperandFormat::fp16: return "fp16";
    case OperandFormat::fp32: return "fp32";
    }
    return "?";
}

bool MacSpec::supports(MacArch arch) const {
    for (MacArch a : archs)
        if (a == arch) return true;
    return false;
}

std::span<const MacSpec> mac_table() { return table(); }

const MacSpec& find_mac(std::string_view name) {
    for (const auto& row : table())
        if (row.name == name) return row;
    throw_bad_value("E4010", "MAC", "unknown built-in MAC", "one of " + known_names(),
                    "\"" + std::string(name) + "\"");
}

MacSpec with_accumulator_bits(const MacSpec& spec, int accumulator_bits) {
    if (spec.is_float())
        throw_bad_value("E4011", spec.name, "the accumulator width of a floating-point MAC is fixed by its format",
                        "an integer MAC", spec.name, "pick an int MAC, or another FP row of the MAC table");
    const int min_bits = spec.weight_bits + spec.activation_bits;
    if (accumulator_bits < min_bits || accumulator_bits > 64)
        throw_bad_value("E4011", spec.name, "accumulator width out of range",
                        fmt::format("{} .. 64 bits (the full product must fit)", min_bits),
                        fmt::format("{}", accumulator_bits));
    MacSpec out = spec;
    out.accumulator_bits = accumulator_bits;
    if (accumulator_bits != spec.accumulator_bits) out.name = fmt::format("{}-acc{}", spec.name, accumulator_bits);
    return out;
}

std::string generate_verilog(const MacSpec& spec, MacArch arch) {
    if (!spec.supports(arch)) {
        std::string offered;
        for (MacArch a : spec.archs) offered += (offered.empty() ? "" : ", ") + std::string(arch_name(a));
        throw_bad_value("E4012", spec.name, "this MAC is not generated with that architecture",
                        "one of " + offered, std::string(arch_name(arch)));
    }
    return spec.generate(spec, arch);
}

std::uint64_t reference_y(const MacSpec& spec, std::uint64_t w, std::uint64_t a, std::uint64_t acc) {
    return spec.reference(spec, w, a, acc);
}

}  // namespace halo::mac
