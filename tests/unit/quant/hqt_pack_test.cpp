// The .hqt code stream (docs/formats.md): value i's low `bits` bits at bit i * bits, LSB-first.
// write_hqt's word-at-a-time packer against a bit-by-bit reference, and read_hqt back, for every
// integer width and a count that leaves a partial last byte.
#include <gtest/gtest.h>

#include <random>

#include <fmt/format.h>

#include "halo/quant/quant_dir.hpp"

namespace halo::quant {
namespace {

std::string reference_pack(const std::vector<std::uint8_t>& values, int bits) {
    std::string packed((values.size() * static_cast<std::size_t>(bits) + 7) / 8, '\0');
    std::size_t bit = 0;
    for (std::uint8_t c : values)
        for (int b = 0; b < bits; ++b, ++bit)
            if ((c >> b) & 1) packed[bit / 8] = static_cast<char>(packed[bit / 8] | (1 << (bit % 8)));
    return packed;
}

TEST(HqtPack, CodeStreamEqualsTheBitByBitReferenceAndReadsBack) {
    std::mt19937 rng(5);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    model::Matrix m(7, 13);  // 91 codes: no width but 8 fills its last byte
    for (auto& v : m.data) v = nd(rng);
    for (int bits = 2; bits <= 8; ++bits) {
        SCOPED_TRACE(fmt::format("int{}", bits));
        const auto spec = make_spec(fmt::format("int{}", bits), Granularity::per_channel(), ScaleFormat::fp32);
        const QuantizedTensor q = quantize_rtn(m, spec);
        const std::string bytes = write_hqt(q);
        const std::string want = reference_pack(q.codes(), bits);
        ASSERT_GE(bytes.size(), 68 + want.size());
        EXPECT_EQ(bytes.substr(68, want.size()), want);  // the codes follow the 68-byte header
        EXPECT_EQ(read_hqt(bytes, spec, "t").codes(), q.codes());
    }
}

}  // namespace
}  // namespace halo::quant
