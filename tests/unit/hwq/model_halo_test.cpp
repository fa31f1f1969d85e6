// HALO over a whole (tiny) model: streaming order, in-place decoded weights, level counts,
// and the tile-level file attaching to the simulator's workload of the same model.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "halo/accel/sim_config.hpp"
#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

model::ModelWeights tiny_model() {
    model::ModelWeights w;
    auto& c = w.config;
    c.name = "tiny-halo", c.n_layers = 2, c.d_model = 16, c.d_ff = 40, c.n_heads = 2, c.n_kv_heads = 1, c.head_dim = 8;
    c.vocab_size = 32, c.context_length = 64;
    for (int l = 0; l < 2; ++l) {
        model::LayerWeights lw;
        const std::int64_t shapes[7][2] = {{16, 16}, {8, 16}, {8, 16}, {16, 16}, {40, 16}, {40, 16}, {16, 40}};
        for (int k = 0; k < 7; ++k)
            lw.linear[static_cast<std::size_t>(k)] = test::random_matrix(shapes[k][0], shapes[k][1], 30u + 10u * l + k, 0.2);
        w.layers.push_back(std::move(lw));
    }
    return w;
}

class Stub : public quant::CalibrationSource {
public:
    std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest&) override {
        calls.push_back("capture " + std::to_string(layer));
        std::array<model::LinearInputStats, 7> out;
        for (std::size_t k = 0; k < 7; ++k) {
            const std::int64_t in = k == 6 ? 40 : 16;
            const auto x = test::random_matrix(64, in, static_cast<unsigned>(200 + layer * 7 + k), 1.0);
            out[k].gram = model::Matrix(in, in);
            for (std::int64_t t = 0; t < x.rows; ++t)
                for (std::int64_t i = 0; i < in; ++i)
                    for (std::int64_t j = 0; j < in; ++j) out[k].gram.at(i, j) += x.at(t, i) * x.at(t, j);
            out[k].tokens = 64;
        }
        return out;
    }
    void advance(int layer) override { calls.push_back("advance " + std::to_string(layer)); }
    std::int64_t tokens() const override { return 64; }
    std::vector<std::string> calls;
};

TEST(HaloModel, StreamsBlocksAndAttachesToTheSimulator) {
    auto w = tiny_model();
    const auto original = w;
    const auto L = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o;
    o.tile_k = 16, o.tile_n = 8;  // ffn_down's 40 inputs: 16 + 16 + a partial 8
    o.sparse.salient_fraction = 0.01;
    Stub stub;
    const auto r = quantize_model_halo(w, L, o, &stub, nullptr, {});
    EXPECT_EQ(stub.calls, (std::vector<std::string>{"capture 0", "advance 0", "capture 1", "advance 1"}));
    ASSERT_EQ(r.model.linears.size(), 14u);
    std::int64_t tiles = 0;
    for (const auto& rec : r.model.linears) {
        tiles += static_cast<std::int64_t>(rec.tensor.tiles.level.size());
        const auto dec = rec.tensor.decode();
        EXPECT_EQ(dec.data, w.layers[static_cast<std::size_t>(rec.layer)][rec.kind].data);  // weights replaced in place
        EXPECT_NE(dec.data, original.layers[static_cast<std::size_t>(rec.layer)][rec.kind].data);
    }
    std::int64_t counted = 0;
    for (auto n : r.tiles_per_level) counted += n;
    EXPECT_EQ(counted, tiles);
    EXPECT_EQ(r.model.activation_format, "int8_per_token");

    // The simulator accepts the levels for this model and (switch penalty aside) runs faster than
    // uniform INT8 at L0 whenever some tile left L0.
    auto work = accel::transformer_workload(w.config, {accel::Phase::Kind::prefill, 32, 1, 32});
    // Through the file's one writer and reader, as `halo simulate --quantized` reads it.
    const auto tl = accel::parse_tile_levels(accel::tile_levels_json(tile_levels_of(r, w.config, "tiny-halo")), "t");
    accel::attach_tile_levels(work, w.config, tl, "t");
    accel::SystolicOptions so;
    so.array.rows = 16, so.array.cols = 8;
    so.dvfs = dvfs_table(L);
    // GEMMs this small take less than one 1-us DVFS switch: compare compute without the penalty.
    so.dvfs.switch_penalty_ns = 0;
    const auto base = accel::simulate_systolic(accel::baseline_workload(work), so);
    const auto run = accel::simulate_systolic(work, so);
    if (r.tiles_per_level[0] < tiles) EXPECT_LT(run.total.time_s, base.total.time_s);
    else EXPECT_EQ(run.total.time_s, base.total.time_s);
}

}  // namespace
}  // namespace halo::hwq
