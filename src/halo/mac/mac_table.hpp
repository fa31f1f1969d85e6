// The built-in MACs, y = acc + w * a, one row each: operand formats and widths, the multiplier
// architectures it can be generated with, its Verilog generator and its C++ reference.
// Every generated module is `module mac(input [..] w, input [..] a, input [..] acc, output [..] y)`.
//
//   name            w         a         acc / y   archs
//   int8            int8      int8      int24     yosys, booth4, array
//   int8xu8         int8      uint8     int24     yosys, booth4, array
//   int4            int4      int4      int16     yosys, booth4, array
//   fp8-e4m3-fp32   fp8-e4m3  fp8-e4m3  fp32      yosys
//   fp8-e4m3-fp16   fp8-e4m3  fp8-e4m3  fp16      yosys
//   bf16-fp32       bf16      bf16      fp32      yosys
// Integer accumulators are a parameter (with_accumulator_bits); semantics: reference_arith.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/mac/weight_format.hpp"

namespace halo::mac {

// Multiplier architecture. yosys: behavioural `*`, mapped by Yosys' own techmap; booth4: radix-4
// Booth (weight-encoded) partial products, Dadda carry-save tree, one final adder that also adds
// acc; array: Baugh-Wooley AND partial products, linear carry-save array, one final adder.
enum class MacArch : std::uint8_t { yosys, booth4, array };

struct MacArchInfo {
    MacArch arch;
    std::string_view name;
    std::string_view summary;
};
std::span<const MacArchInfo> mac_arch_table();
std::string_view arch_name(MacArch arch);
MacArch parse_arch(std::string_view name);  // E4013 when unknown

enum class OperandFormat : std::uint8_t { int_signed, int_unsigned, fp8_e4m3, bf16, fp16, fp32 };
// "int8", "uint8", "fp8-e4m3", "bf16", "fp16", "fp32" (integer names carry their width).
std::string operand_format_name(OperandFormat f, int bits);

struct MacSpec;
using MacGenerator = std::string (*)(const MacSpec& spec, MacArch arch);
using MacReference = std::uint64_t (*)(const MacSpec& spec, std::uint64_t w, std::uint64_t a,
                                       std::uint64_t acc);

struct MacSpec {
    std::string name;
    WeightFormat weight_format = WeightFormat::int8;
    int weight_bits = 8;
    OperandFormat activation_format = OperandFormat::int_signed;
    int activation_bits = 8;
    OperandFormat accumulator_format = OperandFormat::int_signed;
    int accumulator_bits = 24;  // width of acc and y
    std::vector<MacArch> archs;
    MacGenerator generate = nullptr;
    MacReference reference = nullptr;
    std::string_view summary;

    bool supports(MacArch arch) const;
    bool is_float() const { return accumulator_format == OperandFormat::fp16 || accumulator_format == OperandFormat::fp32; }
};

std::span<const MacSpec> mac_table();
const MacSpec& find_mac(std::string_view name);  // E4010 when unknown
// A copy of an integer MAC with another accumulator width (weight_bits + activation_bits .. 64);
// E4011 for a floating-point MAC or a width out of range. The name gets a suffix, "int8-acc32".
MacSpec with_accumulator_bits(const MacSpec& spec, int accumulator_bits);

// The Verilog of `spec` built with `arch` (E4012 when the MAC does not offer that arch).
std::string generate_verilog(const MacSpec& spec, MacArch arch);
// y's bit pattern for the given bit patterns (higher bits than the ports' widths are ignored).
std::uint64_t reference_y(const MacSpec& spec, std::uint64_t w, std::uint64_t a, std::uint64_t acc);

}  // namespace halo::mac
