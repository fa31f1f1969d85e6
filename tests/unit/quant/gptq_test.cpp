#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "halo/quant/gptq.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

struct Layer {
    model::Matrix w, gram;
};
Layer random_layer(std::int64_t rows, std::int64_t cols, unsigned seed) {
    return {testing::random_matrix(rows, cols, seed), testing::gram_of(testing::correlated_activations(4 * cols, cols, seed + 7))};
}

TEST(Gptq, BeatsRtnOnCorrelatedInputs) {
    const auto layer = random_layer(48, 96, 1);
    struct Case { const char* format; Granularity g; bool act_order; };
    for (const Case& k : {Case{"int4", Granularity::per_channel(), false}, Case{"int3", Granularity::per_group(32), false},
                          Case{"int4-asym", Granularity::per_group(40), true}, Case{"fp4-e2m1", Granularity::per_channel(), true},
                          Case{"mxfp4", Granularity::per_channel(), false}, Case{"int4", Granularity::per_tile(16, 32), false}}) {
        const auto spec = make_spec(k.format, k.g);
        const double rtn = output_error(layer.w, quantize_rtn(layer.w, spec).decode(), layer.gram);
        GptqOptions opt;
        opt.act_order = k.act_order;
        opt.block_size = 32;
        const double gptq = output_error(layer.w, quantize_gptq(layer.w, layer.gram, spec, opt).decode(), layer.gram);
        EXPECT_LT(gptq, 0.8 * rtn) << spec.describe() << " act_order " << k.act_order;
    }
}

TEST(Gptq, WithCodebookRounding) {
    const auto layer = random_layer(32, 64, 2);
    const auto spec = make_spec("codebook-asym", Granularity::per_tile(16, 16), {}, Codebook({-100, -50, -20, -5, 0, 5, 20, 50, 100}));
    const double rtn = output_error(layer.w, quantize_rtn(layer.w, spec).decode(), layer.gram);
    const double gptq = output_error(layer.w, quantize_gptq(layer.w, layer.gram, spec, {}).decode(), layer.gram);
    EXPECT_LT(gptq, 0.8 * rtn);
}

// Lazy block updates reorganize the same arithmetic: any block size gives the same codes (up to
// float rounding flipping a rare tie), and the written weights equal the decoded codes.
TEST(Gptq, BlockSizeDoesNotChangeTheResult) {
    const auto layer = random_layer(16, 64, 3);
    const auto spec = make_spec("int4", Granularity::per_group(16));
    GptqOptions a, b;
    a.block_size = 1;
    b.block_size = 64;
    b.threads = 2;
    model::Matrix wa = layer.w, wb = layer.w;
    QuantizedTensor qa(spec, 16, 64), qb(spec, 16, 64);
    TensorRounder ra(qa), rb(qb);
    gptq(wa, layer.gram, ra, a);
    gptq(wb, layer.gram, rb, b);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < qa.codes().size(); ++i) differ += qa.codes()[i] != qb.codes()[i];
    EXPECT_LE(differ, 2u);
    const auto da = qa.decode();
    for (std::size_t i = 0; i < wa.data.size(); ++i) EXPECT_EQ(wa.data[i], da.data[i]);
}

TEST(Gptq, DeadInputsAndShapeErrors) {
    auto layer = random_layer(8, 16, 4);
    for (std::int64_t j = 0; j < 16; ++j) layer.gram.at(3, j) = layer.gram.at(j, 3) = 0;
    auto w = layer.w;
    QuantizedTensor q(make_spec("int4", Granularity::per_channel()), 8, 16);
    TensorRounder r(q);
    gptq(w, layer.gram, r, {});
    for (std::int64_t i = 0; i < 8; ++i) EXPECT_EQ(w.at(i, 3), 0.0f);
    model::Matrix bad(15, 15);
    EXPECT_THROW(gptq(w, bad, r, {}), Error);
}

}  // namespace
}  // namespace halo::quant
