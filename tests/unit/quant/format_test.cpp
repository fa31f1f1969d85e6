#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "halo/quant/format.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

using ::testing::HasSubstr;

TEST(Format, MxE8M0ScaleOfABlock) {
    const auto spec = make_spec("mxfp4", Granularity::per_channel());
    EXPECT_EQ(spec.granularity, Granularity::per_group(32));
    EXPECT_EQ(spec.scale, ScaleFormat::e8m0);
    const float a[4] = {5.0f, -1.0f, 0.7f, 0.0f};
    // floor(log2 5) = 2, emax(E2M1) = 2 -> scale 2^0; 5 rounds to 4 (tie 4|6 -> even code)
    const auto p = fit_group(spec, a);
    EXPECT_EQ(p.scale, 1.0f);
    EXPECT_EQ(dequantize_value(spec, p, quantize_value(spec, p, 5.0f)), 4.0f);
    const float b[2] = {13.0f, 1.0f};  // scale 2, 13/2 = 6.5 saturates to 6 -> 12
    const auto pb = fit_group(spec, b);
    EXPECT_EQ(pb.scale, 2.0f);
    EXPECT_EQ(dequantize_value(spec, pb, quantize_value(spec, pb, 13.0f)), 12.0f);
    const auto mxint8 = make_spec("mxint8", Granularity::per_channel());
    const float c[1] = {1.5f};  // floor(log2 1.5) = 0, emax(int8 * 2^-6) = 0
    EXPECT_EQ(fit_group(mxint8, c).scale, 1.0f);
}

TEST(Format, Nvfp4TwoLevelScale) {
    const auto spec = make_spec("nvfp4", Granularity::per_channel());
    EXPECT_EQ(spec.granularity, Granularity::per_group(16));
    model::Matrix w(2, 16);
    w.at(0, 0) = 2688.0f;  // 448 * 6: tensor scale 1
    w.at(1, 0) = 3.0f;
    const auto q = quantize_rtn(w, spec);
    EXPECT_EQ(q.tensor_scale, 1.0f);
    EXPECT_EQ(q.params(0).scale, 448.0f);
    EXPECT_EQ(q.params(1).scale, 0.5f);  // e4m3(3 / 6) = 0.5
    EXPECT_EQ(q.decode(1, 0), 3.0f);
    model::Matrix w2(1, 16);
    w2.at(0, 3) = 12.0f;
    const auto q2 = quantize_rtn(w2, spec);
    EXPECT_FLOAT_EQ(q2.tensor_scale, 12.0f / 2688.0f);
    EXPECT_FLOAT_EQ(q2.decode(0, 3), 12.0f);
}

TEST(Format, IntGroupHalfStepBound) {
    const auto w = testing::random_matrix(8, 300, 11);  // 300 = 2 groups of 128 + a short one of 44
    for (const char* name : {"int4", "int3-asym", "int8", "int2-asym"}) {
        const auto spec = make_spec(name, Granularity::per_group(128), ScaleFormat::fp32);
        const auto q = quantize_rtn(w, spec);
        EXPECT_EQ(q.n_group_cols(), 3);
        for (std::int64_t r = 0; r < w.rows; ++r)
            for (std::int64_t c = 0; c < w.cols; ++c) {
                const float s = q.params(q.group_index(r, c)).scale;
                EXPECT_LE(std::fabs(w.at(r, c) - q.decode(r, c)), s / 2 * (1 + 1e-5f)) << name << " " << r << "," << c;
            }
    }
}

TEST(Format, AsymmetricZeroPoint) {
    const auto spec = make_spec("int2-asym", Granularity::per_channel(), ScaleFormat::fp32);
    const float v[3] = {1.0f, 4.0f, 2.5f};  // lo = min(1, 0) = 0, hi = 4 -> s = 4/3, z = 0
    const auto p = fit_group(spec, v);
    EXPECT_FLOAT_EQ(p.scale, 4.0f / 3.0f);
    EXPECT_EQ(p.zero, 0.0f);
    const float v2[2] = {-3.0f, 3.0f};  // s = 2, z = round(0 + 1.5) = 2 (tie to even)
    const auto p2 = fit_group(spec, v2);
    EXPECT_EQ(p2.scale, 2.0f);
    EXPECT_EQ(p2.zero, 2.0f);
    EXPECT_EQ(dequantize_value(spec, p2, quantize_value(spec, p2, -3.0f)), -4.0f);
}

TEST(Format, CodebookWithTileScaleAndZero) {
    Codebook cb({-128, -64, -1, 0, 3, 17, 64, 127});
    EXPECT_EQ(cb.bits(), 3);
    for (float x = -140; x <= 140; x += 0.25f) ASSERT_EQ(cb.encode(x), cb.encode_ref(x)) << x;
    EXPECT_EQ(cb.round(1.5f), 3.0f);  // tie between 0 (index 3) and 3 (index 4): the even index wins
    const auto spec = make_spec("codebook-asym", Granularity::per_tile(4, 8), ScaleFormat::fp32, cb);
    const auto w = testing::random_matrix(8, 16, 5);
    const auto q = quantize_rtn(w, spec);
    EXPECT_EQ(q.n_group_rows(), 2);
    EXPECT_EQ(q.n_group_cols(), 2);
    for (std::int64_t r = 0; r < 8; ++r)
        for (std::int64_t c = 0; c < 16; ++c) {
            const auto& p = q.params(q.group_index(r, c));
            const float v = cb.value(q.code(r, c));
            EXPECT_FLOAT_EQ(q.decode(r, c), p.scale * (v - p.zero));
            // the decoded value is the nearest codebook point under the tile's scale/zero
            float best = 1e30f;
            for (float cv : cb.values()) best = std::min(best, std::fabs(w.at(r, c) - p.scale * (cv - p.zero)));
            EXPECT_FLOAT_EQ(std::fabs(w.at(r, c) - q.decode(r, c)), best);
        }
}

TEST(Format, BitAccountingExact) {
    model::Matrix w(256, 4096);
    EXPECT_DOUBLE_EQ(quantize_rtn(w, make_spec("int4", Granularity::per_group(128))).bits().bits_per_weight(), 4.125);
    EXPECT_DOUBLE_EQ(quantize_rtn(w, make_spec("int4-asym", Granularity::per_group(128))).bits().bits_per_weight(),
                     4.0 + 20.0 / 128);
    EXPECT_DOUBLE_EQ(quantize_rtn(w, make_spec("mxfp4", Granularity::per_channel())).bits().bits_per_weight(), 4.25);
    EXPECT_DOUBLE_EQ(quantize_rtn(w, make_spec("mxfp6", Granularity::per_channel())).bits().bits_per_weight(), 6.25);
    EXPECT_DOUBLE_EQ(quantize_rtn(w, make_spec("nvfp4", Granularity::per_channel())).bits().bits_per_weight(),
                     4.5 + 32.0 / (256.0 * 4096));
    EXPECT_DOUBLE_EQ(quantize_rtn(w, make_spec("int8", Granularity::per_channel())).bits().bits_per_weight(),
                     8.0 + 16.0 / 4096);
    EXPECT_DOUBLE_EQ(quantize_rtn(w, make_spec("int4", Granularity::per_tile(128, 128))).bits().bits_per_weight(),
                     4.0 + 16.0 / (128 * 128));
    model::Matrix s(3, 300);  // short last group: 3 groups per row
    EXPECT_EQ(quantize_rtn(s, make_spec("int3", Granularity::per_group(128))).bits().total(), 3u * 300 * 3 + 9 * 16);
}

TEST(Format, BadSpecsNameTheProblem) {
    EXPECT_THAT(testing::error_of([] { make_spec("int9", Granularity::per_channel()); }),
                HasSubstr("error E6001: --format: unknown quantization format"));
    EXPECT_THAT(testing::error_of([] { make_spec("mxfp4", Granularity::per_group(64)); }),
                HasSubstr("error E6001: --group: mxfp4 has a fixed block (expected no --group or --group 32, found g64)"));
    EXPECT_THAT(testing::error_of([] { make_spec("codebook", Granularity::per_channel()); }),
                HasSubstr("a codebook format needs a codebook"));
    EXPECT_THAT(testing::error_of([] { Codebook({1.0f, 1.0f}); }), HasSubstr("error E6002: codebook[1]: codebook values must be sorted and distinct"));
    model::Matrix w(2, 3);
    w.at(1, 2) = std::nanf("");
    EXPECT_THAT(testing::error_of([&] { check_finite(w, "blk.3.attn_q.weight"); }),
                HasSubstr("error E6003: blk.3.attn_q.weight: weight [1, 2] is not finite"));
}

}  // namespace
}  // namespace halo::quant
