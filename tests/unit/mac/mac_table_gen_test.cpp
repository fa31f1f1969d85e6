#include "halo/mac/mac_table.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <regex>

#include <fmt/format.h>

#include "halo/mac/weight_format.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}

TEST(MacTable, RowsAreConsistent) {
    for (const auto& s : mac_table()) {
        SCOPED_TRACE(s.name);
        EXPECT_EQ(weight_format_info(s.weight_format).bits, s.weight_bits);
        EXPECT_FALSE(s.archs.empty());
        EXPECT_TRUE(s.supports(MacArch::yosys));
        EXPECT_EQ(&find_mac(s.name), &s);
        for (MacArch arch : s.archs) {
            const std::string v = generate_verilog(s, arch);
            EXPECT_NE(v.find("module mac("), std::string::npos);
            EXPECT_NE(v.find(fmt::format("[{}:0] y", s.accumulator_bits - 1)), std::string::npos);
        }
    }
}

TEST(MacTable, ErrorsNameTheChoices) {
    EXPECT_EQ(error_of([] { find_mac("int7"); }),
              "error E4010: MAC: unknown built-in MAC (expected one of int8, int8xu8, int4, fp8-e4m3-fp32, "
              "fp8-e4m3-fp16, bf16-fp32, found \"int7\")");
    EXPECT_EQ(error_of([] { generate_verilog(find_mac("bf16-fp32"), MacArch::booth4); }),
              "error E4012: bf16-fp32: this MAC is not generated with that architecture (expected one of yosys, "
              "found booth4)");
    EXPECT_EQ(error_of([] { parse_arch("wallace"); }),
              "error E4013: MAC architecture: unknown multiplier architecture (expected one of yosys, booth4, "
              "array, found \"wallace\")");
    EXPECT_EQ(error_of([] { with_accumulator_bits(find_mac("int8"), 12); }),
              "error E4011: int8: accumulator width out of range (expected 16 .. 64 bits (the full product must "
              "fit), found 12)");
    EXPECT_NE(error_of([] { with_accumulator_bits(find_mac("fp8-e4m3-fp32"), 40); }).find("E4011"),
              std::string::npos);
    EXPECT_EQ(with_accumulator_bits(find_mac("int8"), 32).name, "int8-acc32");
    EXPECT_EQ(parse_arch("booth4"), MacArch::booth4);
}

// The Booth generator encodes the weight: one encoder per weight bit pair, reading only w.
TEST(Booth4, OneEncoderPerWeightBitPair) {
    for (const char* name : {"int8", "int4"}) {
        const MacSpec& s = find_mac(name);
        const std::string v = generate_verilog(s, MacArch::booth4);
        const std::regex digit("// Booth digit \\d+ from w\\[");
        const auto n = std::distance(std::sregex_iterator(v.begin(), v.end(), digit), std::sregex_iterator());
        EXPECT_EQ(n, s.weight_bits / 2) << name;
        EXPECT_EQ(v.find("assign y = acc + w"), std::string::npos) << "no behavioural multiply in " << name;
    }
}

TEST(WeightFormat, DecodeTables) {
    int nans = 0;
    double prev = -1;
    for (std::uint32_t c = 0; c < 0x7F; ++c) {  // positive E4M3 codes increase strictly
        const auto d = decode_weight(WeightFormat::fp8_e4m3, c);
        EXPECT_GT(d.value, prev);
        prev = d.value;
    }
    for (std::uint32_t c = 0; c < 256; ++c) nans += decode_weight(WeightFormat::fp8_e4m3, c).is_nan;
    EXPECT_EQ(nans, 2);
    EXPECT_EQ(decode_weight(WeightFormat::fp8_e4m3, 0x7E).value, 448.0);
    for (std::uint32_t c = 0; c < 16; ++c)
        EXPECT_EQ(decode_weight(WeightFormat::int4, c).value, c < 8 ? double(c) : double(c) - 16);
    EXPECT_EQ(decode_weight(WeightFormat::int8, 0x80).value, -128.0);
    EXPECT_EQ(decode_weight(WeightFormat::bf16, 0xC040).value, -3.0);
    EXPECT_TRUE(decode_weight(WeightFormat::bf16, 0x7FC1).is_nan);
    EXPECT_FALSE(decode_weight(WeightFormat::bf16, 0x7F80).is_nan);  // +Inf is a value
    EXPECT_EQ(find_weight_format("fp8-e4m3").format, WeightFormat::fp8_e4m3);
    EXPECT_EQ(error_of([] { find_weight_format("fp4"); }),
              "error E4001: weight format: unknown weight format (expected one of int8, int4, fp8-e4m3, bf16, "
              "found \"fp4\")");
    EXPECT_EQ(error_of([] { decode_weight(WeightFormat::int4, 0x10); }),
              "error E4002: int4: weight code has bits above the format's width (expected a 4-bit code, found "
              "0x10)");
}

}  // namespace
}  // namespace halo::mac
