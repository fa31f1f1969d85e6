// HALO as a row of the quantizer table: registered explicitly beside quant's rows, listed in
// E6007, and its per-layer entry point gives exactly what quantize_linear_halo gives.
#include <any>

#include <gtest/gtest.h>

#include "halo/hwq/method_row.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

quant::MethodRegistry full_registry() {
    quant::MethodRegistry r;
    quant::register_quant_methods(r);
    register_halo_method(r);
    return r;
}

TEST(MethodRegistry, HaloIsARow) {
    const auto r = full_registry();
    EXPECT_EQ(r.names(), "rtn, gptq, awq, kmeans, smoothquant, halo");
    for (const auto& row : r.rows()) EXPECT_NE(row.quantize_layer, nullptr) << row.name;
    const auto& h = r.find("halo");
    EXPECT_EQ(h.id, quant::Method::halo);
    EXPECT_TRUE(h.needs_profile);
    EXPECT_TRUE(h.needs_samples);
    EXPECT_EQ(h.activation_format, "int8_per_token");
    EXPECT_FALSE(r.find("gptq").needs_profile);
    // --profile belongs to HALO only; --format to the grid methods only.
    auto takes = [](const quant::MethodTraits& row, std::string_view flag) {
        return std::find(row.flags.begin(), row.flags.end(), flag) != row.flags.end();
    };
    EXPECT_TRUE(takes(h, "--profile"));
    EXPECT_FALSE(takes(h, "--format"));
    EXPECT_FALSE(takes(h, "--group"));
    EXPECT_FALSE(takes(r.find("gptq"), "--profile"));
    EXPECT_TRUE(takes(r.find("gptq"), "--group"));
    // Every flag a row names is in the list the CLI checks.
    const auto all = quant::method_specific_flags();
    for (const auto& row : r.rows())
        for (const auto f : row.flags) EXPECT_NE(std::find(all.begin(), all.end(), f), all.end()) << row.name << " " << f;
    try {
        (void)r.find("hqq");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6007");
        EXPECT_EQ(e.diagnostic().expected, "rtn, gptq, awq, kmeans, smoothquant, halo");
        EXPECT_EQ(e.diagnostic().found, "hqq");
        EXPECT_EQ(e.exit_code(), 2);
    }
    quant::MethodRegistry twice = full_registry();
    try {
        twice.add(halo_method_row());
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6033");
    }
}

TEST(MethodRegistry, PerLayerEntryPointsMatchTheAlgorithms) {
    const auto w = test::random_matrix(64, 96, 5);
    const model::LinearInputStats stats;  // no Gram: round to nearest, w^2 sensitivity
    const quant::LayerInput in{w, stats, nullptr, 0, 3, model::LinearKind::ffn_up};
    // HALO: the entry point with its state equals the algorithm called directly.
    const Ladder ladder = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o;
    o.tile_k = 32, o.tile_n = 32;
    o.gptq = false;
    std::any state = HaloLayerState{&ladder, o, {}};
    const auto rec = halo_method_row().quantize_layer(in, {nullptr, nullptr, &state});
    CodebookRegistry books;
    const auto direct = quantize_linear_halo(w, {}, 0, nullptr, ladder, o, books, "blk.3.ffn_up");
    EXPECT_EQ(rec.tensor.decode().data, direct.tensor.decode().data);
    EXPECT_EQ(rec.tensor.tiles.level, direct.tensor.tiles.level);
    EXPECT_EQ(rec.layer, 3);
    EXPECT_EQ(std::any_cast<HaloLayerState>(&state)->books.books, books.books);  // codebooks kept across layers
    try {
        (void)halo_method_row().quantize_layer(in, {});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E9030");
    }
    // A model-wide budget cannot run layer by layer: refused, not applied per layer.
    HaloOptions wide = o;
    wide.scope = AssignScope::model;
    wide.level_shares = {0.2, 0.5, 0.3};
    std::any wide_state = HaloLayerState{&ladder, wide, {}};
    try {
        (void)halo_method_row().quantize_layer(in, {nullptr, nullptr, &wide_state});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E9073");
    }
    // RTN's row: the entry point is quantize_rtn.
    quant::QuantizeOptions qo;
    const auto spec = quant::make_spec("int4", quant::Granularity::per_group(32), std::nullopt, {});
    const auto rtn = quant::method("rtn").quantize_layer(in, {&qo, &spec, nullptr});
    EXPECT_EQ(rtn.tensor.decode().data, quant::quantize_rtn(w, spec).decode().data);
}

}  // namespace
}  // namespace halo::hwq
