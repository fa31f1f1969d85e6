// MXFP3 (FP3 elements), the mixture-of-datatype formats (bitmod-fp4, bitmod-fp3, ant4) and the
// OliVe weight format (olive4) on hand-computed groups, plus bits, .hqt round trip, GPTQ and
// bad inputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include <cmath>
#include <functional>
#include <random>
#include <set>

#include "halo/quant/amove_baselines.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/methods.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

using ::testing::HasSubstr;

model::Matrix matrix(std::int64_t rows, std::int64_t cols, std::vector<float> v) {
    model::Matrix m(rows, cols);
    m.data = std::move(v);
    return m;
}

std::vector<std::uint8_t> codes_of(const QuantizedTensor& q) { return q.codes(); }

TEST(Fp3Elements, EveryCodeAndTies) {
    const auto& e2m0 = element_type(ElementId::e2m0);
    const auto& e1m1 = element_type(ElementId::e1m1);
    const float v20[8] = {0, 1, 2, 4, -0.0f, -1, -2, -4};
    const float v11[8] = {0, 0.5f, 1, 1.5f, -0.0f, -0.5f, -1, -1.5f};
    for (int c = 0; c < 8; ++c) {
        EXPECT_EQ(decode_ref(e2m0, static_cast<std::uint8_t>(c)), v20[c]) << c;
        EXPECT_EQ(decode(e2m0, static_cast<std::uint8_t>(c)), v20[c]) << c;
        EXPECT_EQ(decode_ref(e1m1, static_cast<std::uint8_t>(c)), v11[c]) << c;
        EXPECT_EQ(decode(e1m1, static_cast<std::uint8_t>(c)), v11[c]) << c;
    }
    EXPECT_EQ(max_finite(e2m0), 4.0f);
    EXPECT_EQ(max_finite(e1m1), 1.5f);
    // Ties go to the even code: 3 is between 2 (code 2) and 4 (code 3); 1.5 between 1 (code 1)
    // and 2 (code 2); 0.5 between 0 and 1 -> 0.
    for (auto enc : {&encode, &encode_ref}) {
        EXPECT_EQ(enc(e2m0, 3.0f), 2);
        EXPECT_EQ(enc(e2m0, -3.0f), 6);
        EXPECT_EQ(enc(e2m0, 3.01f), 3);
        EXPECT_EQ(enc(e2m0, 1.5f), 2);
        EXPECT_EQ(enc(e2m0, 0.5f), 0);
        EXPECT_EQ(enc(e2m0, 100.0f), 3);
        EXPECT_EQ(enc(e1m1, 0.75f), 2);   // 0.5 (code 1) | 1 (code 2)
        EXPECT_EQ(enc(e1m1, 1.25f), 2);   // 1 (code 2) | 1.5 (code 3)
        EXPECT_EQ(enc(e1m1, 0.25f), 0);
        EXPECT_EQ(enc(e1m1, -9.0f), 7);
    }
    EXPECT_EQ(find_element_type("e2m0"), &e2m0);
}

TEST(Mxfp3, HandComputedBlocks) {
    const auto spec = make_spec("mxfp3", Granularity::per_channel());
    EXPECT_EQ(spec.granularity, Granularity::per_group(32));
    EXPECT_EQ(spec.scale, ScaleFormat::e8m0);
    // amax 12: floor(log2 12) = 3, emax(E2M0) = 2 -> s = 2. y = 2.5 -> 2; -0.5 -> 0 (tie, even
    // code); 0.35 -> 0; 1.5 -> 2 (tie 1|2, even code 2); -6 saturates to -4.
    const auto q = quantize_rtn(matrix(1, 6, {5, -1, 0.7f, 3, -12, 0}), spec);
    EXPECT_EQ(q.params(0).scale, 2.0f);
    EXPECT_EQ(codes_of(q), (std::vector<std::uint8_t>{2, 0, 0, 2, 7, 0}));
    EXPECT_EQ(q.decode().data, (std::vector<float>{4, 0, 0, 4, -8, 0}));
    EXPECT_EQ(q.bits().total(), 6u * 3 + 8);
    // E1M1: emax = floor(log2 1.5) = 0; amax 3 -> s = 2; 0.6 -> 0.5, -0.15 -> 0, 1.5 exact.
    const auto q11 = quantize_rtn(matrix(1, 3, {1.2f, -0.3f, 3}), make_spec("mxfp3-e1m1", Granularity::per_channel()));
    EXPECT_EQ(q11.params(0).scale, 2.0f);
    EXPECT_EQ(q11.decode().data, (std::vector<float>{1, 0, 3}));
    // 64 x 64: 3 bits + 8 per 32 = 3.25 bits per weight.
    EXPECT_DOUBLE_EQ(quantize_rtn(testing::random_matrix(64, 64, 1), spec).bits().bits_per_weight(), 3.25);
    EXPECT_THAT(testing::error_of([] { make_spec("mxfp3", Granularity::per_group(64)); }),
                HasSubstr("error E6001: --group: mxfp3 has a fixed block (expected no --group or --group 32, found g64)"));
}

TEST(BitmodFp4, HandComputedGroupChoosesTheSpecialValue) {
    const auto spec = make_spec("bitmod-fp4", Granularity::per_group(4));
    // amax 10. +5/-5 types (max 12): s = e4m3(0.833) = 0.8125, error 0.254; +16 type: s = 0.625,
    // 5 -> 8, 1 -> 1.6 -> 2, -2 -> -3.2 -> -3, 10 -> 16: error 0.078; -16 type: 10 -> 12 x 0.625.
    const float x[4] = {5, 1, -2, 10};
    const auto ch = fit_mixture_group(spec, x, 1.0f);
    EXPECT_EQ(ch.type, 2);
    EXPECT_EQ(ch.scale, 0.625f);
    EXPECT_DOUBLE_EQ(ch.sq_error, 0.25 * 0.25 + 0.125 * 0.125);
    const auto ref = fit_mixture_group_ref(spec, x, 1.0f);
    EXPECT_EQ(ref.type, ch.type);
    EXPECT_EQ(ref.scale, ch.scale);
    EXPECT_EQ(ref.sq_error, ch.sq_error);
    const auto& t2 = kBitmodFp4Codes.candidates()[2];
    EXPECT_EQ(t2.values(), (std::vector<float>{-12, -8, -6, -4, -3, -2, -1, 0, 1, 2, 3, 4, 6, 8, 12, 16}));
}

TEST(BitmodFp4, TensorWithTwoGroupsTypesCodesBits) {
    // amax 5376 = 448 * 12 -> tensor scale exactly 1. Group 0 = 448 x {6, 1, -2, 12}: type 0
    // (+5) with s = 448 is exact (type 1 ties, the lower id wins). Group 1 = 64 x {-16, 2, -3, 4}:
    // only the -16 type (s = 64) is exact.
    const auto spec = make_spec("bitmod-fp4", Granularity::per_group(4));
    const std::vector<float> w = {2688, 448, -896, 5376, -1024, 128, -192, 256};
    const auto q = quantize_rtn(matrix(1, 8, w), spec);
    EXPECT_EQ(q.tensor_scale, 1.0f);
    EXPECT_EQ(q.group_type, (std::vector<std::uint8_t>{0, 3}));
    EXPECT_EQ(q.params(0).scale, 448.0f);
    EXPECT_EQ(q.params(1).scale, 64.0f);
    // type 0: {-12,-8,-6,-4,-3,-2,-1,0,1,2,3,4,5,6,8,12}; type 3: {-16,-12,-8,-6,-4,-3,-2,-1,0,1,2,3,4,6,8,12}
    EXPECT_EQ(codes_of(q), (std::vector<std::uint8_t>{13, 8, 5, 15, 0, 10, 5, 12}));
    EXPECT_EQ(q.decode().data, w);
    const auto b = q.bits();
    EXPECT_EQ(b.code_bits, 32u);
    EXPECT_EQ(b.scale_bits, 2u * (8 + 2) + 32);  // E4M3 + 2 type bits per group, FP32 tensor scale
    // g128 default: 4 + (8 + 2) / 128 bits per weight (+ 32 per tensor).
    const auto g = make_spec("bitmod-fp4", Granularity::per_channel());
    EXPECT_EQ(g.granularity, Granularity::per_group(128));
    const auto big = quantize_rtn(testing::random_matrix(16, 256, 3), g);
    EXPECT_EQ(big.bits().total(), 16u * 256 * 4 + 32u * 10 + 32);
}

TEST(BitmodFp3, HandComputedGroup) {
    const auto spec = make_spec("bitmod-fp3", Granularity::per_group(4));
    // +3 type (max 4): s = e4m3(1.05) = 1, 0.5 -> 1 (tie, even index), error 0.29.
    // +6 type (max 6): s = e4m3(0.7) = 0.6875: 3 -> 4.36 -> 4, -1 -> -1, 0.5 -> 1, 4.2 -> 6.
    const float x[4] = {3, -1, 0.5f, 4.2f};
    const auto ch = fit_mixture_group(spec, x, 1.0f);
    EXPECT_EQ(ch.type, 2);
    EXPECT_EQ(ch.scale, 0.6875f);
    const auto q = quantize_rtn(matrix(1, 4, {3, -1, 0.5f, 4.2f}), spec);
    EXPECT_EQ(q.group_type, (std::vector<std::uint8_t>{2}));
    // {-4,-2,-1,0,1,2,4,6}: 4 -> 6, -1 -> 2, 1 -> 4, 6 -> 7 (tensor scale 4.2/(448*4) changes
    // the stored group scale to e4m3(0.6875/t) * t, but not the choice or the codes here).
    EXPECT_EQ(codes_of(q), (std::vector<std::uint8_t>{6, 2, 4, 7}));
    const float s = q.params(0).scale;
    EXPECT_EQ(q.decode().data, (std::vector<float>{4 * s, -1 * s, 1 * s, 6 * s}));
    EXPECT_EQ(q.bits().total(), 4u * 3 + 8 + 2 + 32);
}

TEST(Ant4, PerChannelTypeChoice) {
    // Row 0 is exact in flint4 (s = 1), row 1 in PoT4 (s = 1/16), row 2 in int4 (s = 1).
    const std::vector<float> w = {1, 2, 3, 12, 0, 1, -2, 4, 1, 2, -3, 7};
    const auto q = quantize_rtn(matrix(3, 4, w), make_spec("ant4", Granularity::per_channel()));
    EXPECT_EQ(q.group_type, (std::vector<std::uint8_t>{1, 2, 0}));
    EXPECT_EQ(q.params(1).scale, 0.0625f);
    // flint {-12,-8,-6,-4,-3,-2,-1,0,1,2,3,4,6,8,12}; pot {-64..-1,0,1..64}; int {-7..7}
    EXPECT_EQ(codes_of(q), (std::vector<std::uint8_t>{8, 9, 10, 14, 7, 12, 1, 14, 8, 9, 4, 14}));
    EXPECT_EQ(q.decode().data, w);
    EXPECT_EQ(q.bits().total(), 12u * 4 + 3 * (16 + 2));
    // The value sets are ANT's (amove_baselines.hpp), not copies.
    for (std::size_t t = 0; t < 3; ++t)
        EXPECT_EQ(kAnt4Codes.candidates()[t].max(), ant4_types()[t].magnitudes.back());
}

TEST(Mixture, FastChoiceMatchesReferenceIncludingTies) {
    std::mt19937 rng(11);
    std::normal_distribution<float> n(0, 1);
    const float t = 1.0f / 64;  // tensor scale: a power of two, so group scales below are exact
    int ties = 0;
    for (const char* name : {"bitmod-fp4", "bitmod-fp3", "ant4"}) {
        const auto spec = make_spec(name, Granularity::per_group(16));
        const auto cands = spec.format->custom->candidates();
        for (int k = 0; k < 300; ++k) {
            std::vector<float> x(16);
            for (auto& v : x) v = n(rng) * (k % 3 == 0 ? 4.0f : 1.0f);
            if (k % 2) {
                // Midpoints of one candidate's grid at scale 0.5, with that grid's largest
                // magnitude present so the fitted scale is exactly 0.5 (0.5 / t = 32 is an E4M3
                // value): every other value is a rounding tie for that candidate.
                const auto& cb = cands[static_cast<std::size_t>(k) % cands.size()];
                std::uniform_int_distribution<int> pick(0, static_cast<int>(cb.size()) - 2);
                for (auto& v : x) {
                    const auto i = static_cast<std::uint8_t>(pick(rng));
                    v = 0.5f * (cb.value(i) + cb.value(static_cast<std::uint8_t>(i + 1))) / 2;
                }
                x[0] = 0.5f * (-cb.min() > cb.max() ? cb.min() : cb.max());
            }
            const auto a = fit_mixture_group(spec, x, t), b = fit_mixture_group_ref(spec, x, t);
            ASSERT_EQ(a.type, b.type) << name << " " << k;
            ASSERT_EQ(a.scale, b.scale) << name << " " << k;
            ASSERT_EQ(a.sq_error, b.sq_error) << name << " " << k;
            // Count the ties the chosen type actually met.
            const auto& cb = cands[static_cast<std::size_t>(a.type)];
            for (float v : x)
                for (std::size_t i = 0; i + 1 < cb.size(); ++i)
                    ties += v / a.scale == (cb.value(static_cast<std::uint8_t>(i)) + cb.value(static_cast<std::uint8_t>(i + 1))) / 2;
        }
    }
    EXPECT_GT(ties, 50);  // the tie path was exercised (the chosen type is often not the snapped one)
}

TEST(Olive4, WeightCodesReproduceOliveRow) {
    const auto spec = make_spec("olive4", Granularity::per_channel());
    const auto q = quantize_rtn(matrix(1, 6, {1, 2, 3, 64, 0.5f, -1}), spec);
    EXPECT_EQ(q.params(0).scale, 1.0f);
    // (1,2) int4; (3,64): victim identifier 1000, outlier level 64 = k 7; (0.5,-1) -> 0, -1 = 1111
    EXPECT_EQ(codes_of(q), (std::vector<std::uint8_t>{1, 2, 8, 7, 0, 15}));
    EXPECT_EQ(q.decode().data, (std::vector<float>{1, 2, 0, 64, 0, -1}));
    EXPECT_EQ(q.bits().total(), 6u * 4 + 16);
    auto w = testing::random_matrix(8, 64, 5);
    for (std::int64_t r = 0; r < 8; ++r) w.at(r, r * 7) *= 20;  // outliers
    const auto qw = quantize_rtn(w, spec);
    const auto d = qw.decode();
    for (std::int64_t r = 0; r < 8; ++r) {
        std::vector<float> row(w.row(r), w.row(r) + 64);
        olive4_row(row);
        EXPECT_EQ(std::vector<float>(d.row(r), d.row(r) + 64), row) << r;
    }
    EXPECT_THAT(testing::error_of([&] { quantize_rtn(testing::random_matrix(2, 5, 1), spec); }),
                HasSubstr("error E6030: olive4: olive4 pairs values along the input dimension, which must be even"));
    EXPECT_THAT(testing::error_of([] { make_spec("olive4", Granularity::per_group(32)); }),
                HasSubstr("error E6001: --group: olive4 pairs values along whole output-channel rows"));
    EXPECT_THAT(testing::error_of([] { make_spec("olive4", Granularity::per_channel(), ScaleFormat::e4m3); }),
                HasSubstr("error E6001: --scale-format: olive4 fixes its scale format (expected fp16, found e4m3)"));
}

TEST(Olive4, ErrorFeedbackMethodsAreRefused) {
    const auto w = testing::random_matrix(4, 16, 2);
    const auto g = testing::gram_of(testing::random_matrix(32, 16, 3));
    const auto spec = make_spec("olive4", Granularity::per_channel());
    EXPECT_THAT(testing::error_of([&] { quantize_gptq(w, g, spec, {}); }),
                HasSubstr("error E6030: --method: method gptq cannot round format olive4"));
    std::vector<float> act(16, 1.0f);
    EXPECT_THAT(testing::error_of([&] { quantize_awq(w, g, act, spec); }),
                HasSubstr("error E6030: --method: method awq cannot round format olive4"));
}

TEST(Mixture, HqtRoundTripKeepsTypes) {
    const auto w = testing::random_matrix(6, 96, 9);
    for (const char* name : {"bitmod-fp4", "bitmod-fp3", "ant4", "olive4", "mxfp3", "mxfp3-e1m1"}) {
        const auto spec = make_spec(name, std::string(name) == "ant4" || std::string(name).starts_with("olive") ||
                                                  std::string(name).starts_with("mx")
                                              ? Granularity::per_channel()
                                              : Granularity::per_group(32));
        const auto q = quantize_rtn(w, spec);
        const auto back = read_hqt(write_hqt(q), spec, name);
        EXPECT_EQ(back.codes(), q.codes()) << name;
        EXPECT_EQ(back.group_type, q.group_type) << name;
        EXPECT_EQ(back.decode().data, q.decode().data) << name;
        EXPECT_EQ(back.bits().total(), q.bits().total()) << name;
    }
    // A type id beyond the candidates is refused.
    const auto spec = make_spec("ant4", Granularity::per_channel());
    auto q = quantize_rtn(w, spec);
    std::string bytes = write_hqt(q);
    const std::size_t types_at = 68 + 6 * 96 * 4 / 8 + 6 * 2;  // header, codes, fp16 scales
    bytes[types_at] = static_cast<char>(0x03);                  // group 0 -> type 3
    EXPECT_THAT(testing::error_of([&] { read_hqt(bytes, spec, "t.hqt"); }), HasSubstr("error E6010: t.hqt: group 0 has an unknown type id"));
    // ant4's value sets hold 15 codes: code 15 (both nibbles of the first code byte) is corrupt.
    bytes = write_hqt(q);
    bytes[68] = static_cast<char>(0xFF);
    EXPECT_THAT(testing::error_of([&] { read_hqt(bytes, spec, "t.hqt"); }),
                HasSubstr("error E6010: t.hqt: code at row 0, column 0 is not one the ant4 fit writes"));
    EXPECT_THAT(testing::error_of([&] { read_hqt(bytes, spec, "t.hqt"); }), HasSubstr("code 15 is outside its group's value set of 15"));
    // OliVe: a pair of two victim markers (0x8, 0x8) is never written.
    const auto ospec = make_spec("olive4", Granularity::per_channel());
    bytes = write_hqt(quantize_rtn(w, ospec));
    bytes[68] = static_cast<char>(0x88);
    EXPECT_THAT(testing::error_of([&] { read_hqt(bytes, ospec, "o.hqt"); }),
                HasSubstr("error E6010: o.hqt: code at row 0, column 0 is not one the olive4 fit writes (expected codes as halo "
                          "quantize writes them, found a pair of two victim markers (never written))"));
    // A tensor scale that is not positive and finite (bitmod scales are multiplied by it).
    const auto bspec = make_spec("bitmod-fp4", Granularity::per_group(32));
    bytes = write_hqt(quantize_rtn(w, bspec));
    const float bad_scale = -1.0f;
    std::memcpy(&bytes[52], &bad_scale, 4);  // header: magic, version, rows, cols, code bits, flags, groups, scale bits
    EXPECT_THAT(testing::error_of([&] { read_hqt(bytes, bspec, "b.hqt"); }),
                HasSubstr("error E6010: b.hqt: tensor scale is not a positive finite number"));
}

TEST(Mixture, GptqBeatsRtnWithBitmodFp4) {
    const auto x = testing::correlated_activations(256, 128, 21);
    const auto gram = testing::gram_of(x);
    const auto w = testing::random_matrix(32, 128, 22, 0.1f);
    const auto spec = make_spec("bitmod-fp4", Granularity::per_group(32));
    const auto rtn = quantize_rtn(w, spec);
    const auto gq = quantize_gptq(w, gram, spec, {});
    const double e_rtn = output_error(w, rtn.decode(), gram), e_gptq = output_error(w, gq.decode(), gram);
    EXPECT_LT(e_gptq, 0.8 * e_rtn);
    // GPTQ fitted a type per group (more than one type occurs) and rounded within it: every code
    // lies in its group's value set, and the tensor survives the file format's corrupt-code check.
    std::set<int> types(gq.group_type.begin(), gq.group_type.end());
    EXPECT_GT(types.size(), 1u);
    EXPECT_FALSE(kBitmodFp4Codes.find_bad_code(gq).has_value());
    EXPECT_EQ(read_hqt(write_hqt(gq), spec, "g.hqt").decode().data, gq.decode().data);
}

}  // namespace
}  // namespace halo::quant
