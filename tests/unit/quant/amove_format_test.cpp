// Amove format: hand-computed groups (residual search, codes, packing), bit accounting, the
// reference and fast paths agree, and the format composes with RTN and GPTQ as a table row.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "halo/quant/amove_format.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

// d = max|x|/7 per cluster of 2: [1, 0.75, 0.5, 0.25]; the best residual is 0.25 (error 0).
const std::vector<float> kGroup = {7, 1, 5.25f, -2, 3.5f, 0, -1.75f, 1};

TEST(AmoveFormat, ParsesNamesIntoRows) {
    const FormatTraits* f = find_format("amove-int3-g32c4");
    ASSERT_NE(f, nullptr);
    EXPECT_EQ(f, find_format("amove-int3-g32c4"));  // interned
    const AmoveConfig* c = amove_config(*f);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->group, 32);
    EXPECT_EQ(c->cluster, 4);
    EXPECT_EQ(c->code_bits, 2);
    EXPECT_EQ(c->base, ScaleFormat::e4m3);
    EXPECT_EQ(f->block_cols, 4);
    EXPECT_EQ(*f->element, ElementId::int3);
    const AmoveConfig* c2 = amove_config(*find_format("amove-fp4-g128c16-b3-sfp16-rfp32-mse"));
    EXPECT_EQ(c2->code_bits, 3);
    EXPECT_EQ(c2->base, ScaleFormat::fp16);
    EXPECT_EQ(c2->residual, ScaleFormat::fp32);
    EXPECT_EQ(c2->rule, ResidualRule::recon_mse);
    EXPECT_EQ(amove_format_name(*c2, "fp4"), "amove-fp4-g128c16-b3-sfp16-rfp32-mse");
    EXPECT_EQ(amove_config(*find_format("int4")), nullptr);
}

TEST(AmoveFormat, MalformedNamesAreBadInput) {
    for (const char* n : {"amove-int4", "amove-int9-g32c4", "amove-int4-g30c4", "amove-int4-g32c4-b9", "amove-int4-g32x4",
                          "amove-int4-g32c4-sfoo", "amove-int4-g32c4-what"}) {
        try {
            find_format(n);
            FAIL() << n;
        } catch (const Error& e) {
            EXPECT_TRUE(e.diagnostic().code == "E6801" || e.diagnostic().code == "E6802") << n << " " << e.diagnostic().code;
            EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input);
        }
    }
}

TEST(AmoveFormat, ResidualSearchOnAHandComputedGroup) {
    const QuantSpec spec = make_spec("amove-int4-g8c2", Granularity::per_channel());
    const AmoveConfig& c = *amove_config(*spec.format);
    EXPECT_EQ(cluster_ideal_scales(c, kGroup, 7.0f), (std::vector<float>{1, 0.75f, 0.5f, 0.25f}));
    const float t = amove_tensor_scale(c, 1.0f);
    EXPECT_FLOAT_EQ(t, 1.0f / 448);
    const auto s = fit_amove_group(c, spec, kGroup, t);
    EXPECT_EQ(s.s_code, 0x7Eu);  // 448 = 1.75 * 2^8 in E4M3: 0 1111 110
    EXPECT_EQ(s.r_code, 0x6Eu);  // 112 = 0.25 * 448 = 1.75 * 2^6: 0 1101 110
    EXPECT_FLOAT_EQ(s.base, 1.0f);
    EXPECT_FLOAT_EQ(s.residual, 0.25f);
    EXPECT_EQ(s.e, (std::vector<std::uint8_t>{0, 1, 2, 3}));
    EXPECT_EQ(s.cluster_scale, (std::vector<float>{1, 0.75f, 0.5f, 0.25f}));
    // x/s = [7, 1, 7, -2.67, 7, 0, -7, 4] -> codes [7, 1, 7, -3, 7, 0, -7, 4]
    std::vector<float> y = kGroup, yr = kGroup;
    amove_qdq_group(c, spec, s, y);
    amove_qdq_group_ref(c, spec, s, yr);
    EXPECT_EQ(y, (std::vector<float>{7, 1, 5.25f, -2.25f, 3.5f, 0, -1.75f, 1}));
    EXPECT_EQ(y, yr);
}

TEST(AmoveFormat, ResidualCodesClampAndKeepScalesPositive) {
    AmoveConfig c;
    // (S - d)/R = [0, 1.4, 2.6, 10] -> [0, 1, 3, 3]; with R = 0.4 code 3 gives 1 - 1.2 < 0: capped at 2.
    EXPECT_EQ(residual_codes(c, std::vector<float>{1, 0.86f, 0.74f, 0.0f}, 1.0f, 0.1f), (std::vector<std::uint8_t>{0, 1, 3, 3}));
    EXPECT_EQ(residual_codes(c, std::vector<float>{1, 0.6f, 0.2f, 0.0f}, 1.0f, 0.4f), (std::vector<std::uint8_t>{0, 1, 2, 2}));
    EXPECT_EQ(residual_codes(c, std::vector<float>{1, 0.5f}, 1.0f, 0.0f), (std::vector<std::uint8_t>{0, 0}));
}

TEST(AmoveFormat, OnlineMeanRuleForActivations) {
    const QuantSpec spec = make_spec("amove-int4-g8c2-sfp32-rfp32-mean", Granularity::per_channel());
    const AmoveConfig& c = *amove_config(*spec.format);
    // mean |d_i - S| = (0 + 0.25 + 0.5 + 0.75) / 4 = 0.375; R = 0.375 / 4 levels = 0.09375
    const auto s = fit_amove_group(c, spec, kGroup, 1.0f);
    EXPECT_FLOAT_EQ(s.residual, 0.09375f);
    // (S-d)/R = [0, 2.67, 5.33, 8] -> [0, 3, 3, 3]
    EXPECT_EQ(s.e, (std::vector<std::uint8_t>{0, 3, 3, 3}));
}

TEST(AmoveFormat, ReconstructionRuleNeverWorseThanScaleRuleOnItsObjective) {
    const QuantSpec a = make_spec("amove-int4-g32c4", Granularity::per_channel());
    const QuantSpec b = make_spec("amove-int4-g32c4-mse", Granularity::per_channel());
    std::mt19937 rng(5);
    std::student_t_distribution<float> td(3.0f);
    int better = 0;
    for (int trial = 0; trial < 50; ++trial) {
        std::vector<float> x(32);
        for (auto& v : x) v = td(rng);
        auto err = [&](const QuantSpec& s) {
            std::vector<float> y = x;
            amove_qdq_group(*amove_config(*s.format), s, fit_amove_group(*amove_config(*s.format), s, x, 1.0f / 64), y);
            double e = 0;
            for (std::size_t k = 0; k < x.size(); ++k) e += (x[k] - y[k]) * (x[k] - y[k]);
            return e;
        };
        const double ea = err(a), eb = err(b);
        EXPECT_LE(eb, ea + 1e-9);
        better += eb < ea;
    }
    EXPECT_GT(better, 0);
}

TEST(AmoveFormat, BitAccounting) {
    AmoveConfig c;  // g32 c4, E4M3 S and R, 2-bit codes
    EXPECT_EQ(amove_group_bits(c, 3, 32), 128u);  // 8 + 8 + 16 + 96
    EXPECT_EQ(amove_group_bits(c, 4, 32), 160u);
    EXPECT_DOUBLE_EQ(amove_overhead_bits_per_value(c), 1.0);
    AmoveConfig a;
    a.group = 128;
    a.cluster = 16;
    EXPECT_EQ(amove_group_bits(a, 4, 128), 8u + 8 + 16 + 512);
    EXPECT_DOUBLE_EQ(amove_overhead_bits_per_value(a), 0.25);
    // A short last group of 64 keeps 4 codes: 8+8+8+256 = 280 bits (a whole number of bytes).
    EXPECT_EQ(amove_row_bits(a, 4, 576), 4u * 544 + 280);
    AmoveConfig odd;
    odd.group = 6;
    odd.cluster = 3;
    EXPECT_EQ(amove_group_bits(odd, 3, 6), 40u);  // 8+8+4+18 = 38 -> padded to 40
    // The tensor's account: per row, then one FP32 tensor scale.
    const QuantSpec spec = make_spec("amove-int4-g128c16", Granularity::per_channel());
    const QuantizedTensor q = quantize_rtn(testing::random_matrix(3, 576, 1), spec);
    const BitAccount b = q.bits();
    EXPECT_EQ(b.code_bits, 3u * 576 * 4);
    EXPECT_EQ(b.scale_bits, 3u * (4 * 32 + 24) + 32);
    EXPECT_EQ(b.total(), 3u * amove_row_bits(a, 4, 576) + 32);
}

TEST(AmoveFormat, PackedLayoutOfAHandComputedGroup) {
    const QuantSpec spec = make_spec("amove-int4-g8c2", Granularity::per_channel());
    const AmoveConfig& c = *amove_config(*spec.format);
    const auto bytes = amove_encode_row_ref(c, spec, kGroup, 1.0f / 448);
    // S, R, codes 0,1,2,3 LSB-first = 0b11100100, int4 codes [7,1,7,-3,7,0,-7,4] two by two.
    EXPECT_EQ(bytes, (std::vector<std::uint8_t>{0x7E, 0x6E, 0xE4, 0x17, 0xD7, 0x07, 0x49}));
    EXPECT_EQ(bytes.size() * 8, amove_group_bits(c, 4, 8));
    EXPECT_EQ(amove_decode_row(c, spec, bytes, 8, 1.0f / 448), (std::vector<float>{7, 1, 5.25f, -2.25f, 3.5f, 0, -1.75f, 1}));
    try {
        amove_decode_row(c, spec, std::span(bytes).first(5), 8, 1.0f / 448);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6803");
    }
}

TEST(AmoveFormat, ReferenceAndFastAgreeAndDecodeMatchesQuantizeDequantize) {
    std::mt19937 rng(9);
    std::student_t_distribution<float> td(2.5f);
    for (const char* name : {"amove-int4-g32c4", "amove-int3-g32c4", "amove-int2-g32c4", "amove-fp4-g128c16",
                             "amove-int4-g128c16-mean", "amove-e3m2-g24c8-b3"}) {
        const QuantSpec spec = make_spec(name, Granularity::per_channel());
        const AmoveConfig& c = *amove_config(*spec.format);
        const std::int64_t rows = 5, cols = 200;  // 200 is not a multiple of any group: short last group
        std::vector<float> x(static_cast<std::size_t>(rows * cols));
        for (auto& v : x) v = td(rng) * 0.02f;
        std::fill(x.begin() + 40, x.begin() + 80, 0.0f);  // an all-zero group and clusters
        std::vector<float> a = x, b = x;
        amove_qdq_rows_ref(c, spec, a.data(), rows, cols);
        amove_qdq_rows(c, spec, b.data(), rows, cols);
        EXPECT_EQ(a, b) << name;
        for (std::int64_t r = 0; r < rows; ++r) {
            std::span<const float> row(x.data() + r * cols, static_cast<std::size_t>(cols));
            float dmax = 0;
            for (float d : cluster_ideal_scales(c, row, spec.sym_range())) dmax = std::max(dmax, d);
            const float t = amove_tensor_scale(c, dmax);
            const auto p_ref = amove_encode_row_ref(c, spec, row, t);
            const auto p_fast = amove_encode_row(c, spec, row, t);
            EXPECT_EQ(p_ref, p_fast) << name;
            EXPECT_EQ(p_ref.size() * 8, amove_row_bits(c, spec.element_bits(), cols)) << name;
            const auto d_ref = amove_decode_row_ref(c, spec, p_ref, cols, t);
            EXPECT_EQ(d_ref, amove_decode_row(c, spec, p_ref, cols, t)) << name;
            EXPECT_EQ(d_ref, std::vector<float>(a.begin() + r * cols, a.begin() + (r + 1) * cols)) << name;
        }
    }
}

TEST(AmoveFormat, RtnTensorDecodesLikeTheRowPath) {
    const QuantSpec spec = make_spec("amove-int4-g32c4", Granularity::per_channel());
    const model::Matrix w = testing::random_matrix(4, 96, 3, 0.05f);
    const QuantizedTensor q = quantize_rtn(w, spec);
    const model::Matrix d = q.decode();
    // Per-tensor t from all rows; the row path with the same t gives the same values.
    const AmoveConfig& c = *amove_config(*spec.format);
    for (std::int64_t r = 0; r < 4; ++r) {
        const auto bytes = amove_encode_row(c, spec, std::span(w.row(r), 96), q.tensor_scale);
        EXPECT_EQ(amove_decode_row(c, spec, bytes, 96, q.tensor_scale), std::vector<float>(d.row(r), d.row(r) + 96));
    }
}

TEST(AmoveFormat, GptqUsesTheFormatAsItsRounding) {
    const QuantSpec spec = make_spec("amove-int3-g32c4", Granularity::per_channel());
    const model::Matrix w = testing::random_matrix(16, 64, 4, 0.05f);
    const model::Matrix x = testing::correlated_activations(256, 64, 7);
    model::Matrix gram(64, 64);
    for (std::int64_t i = 0; i < 64; ++i)
        for (std::int64_t j = 0; j < 64; ++j) {
            double s = 0;
            for (std::int64_t t = 0; t < 256; ++t) s += static_cast<double>(x.at(t, i)) * x.at(t, j);
            gram.at(i, j) = static_cast<float>(s);
        }
    const QuantizedTensor g = quantize_gptq(w, gram, spec, GptqOptions{});
    const QuantizedTensor r = quantize_rtn(w, spec);
    EXPECT_LT(output_error(w, g.decode(), gram), output_error(w, r.decode(), gram));
    // Each group of 8 clusters has at most 4 distinct cluster scales (S - e R, e in 0..3).
    int groups_with_residual = 0;
    for (std::int64_t row = 0; row < 16; ++row)
        for (std::int64_t grp = 0; grp < 2; ++grp) {
            std::vector<float> sc;
            for (int k = 0; k < 8; ++k) sc.push_back(g.params(row * 16 + grp * 8 + k).scale);
            std::sort(sc.begin(), sc.end());
            const auto distinct = std::unique(sc.begin(), sc.end()) - sc.begin();
            EXPECT_LE(distinct, 4);
            groups_with_residual += distinct > 1;
        }
    EXPECT_GT(groups_with_residual, 0);
}

}  // namespace
}  // namespace halo::quant

namespace halo::quant {
namespace {

TEST(AmoveFormat, HqtRoundTripIsExact) {
    const QuantSpec spec = make_spec("amove-int3-g32c4", Granularity::per_channel());
    const QuantizedTensor q = quantize_rtn(testing::random_matrix(6, 80, 11, 0.03f), spec);
    const QuantizedTensor back = read_hqt(write_hqt(q), spec, "t");
    EXPECT_EQ(back.decode().data, q.decode().data);
    EXPECT_EQ(back.bits().total(), q.bits().total());
}

}  // namespace
}  // namespace halo::quant
