// The baseline rows' LM head under `halo run --quantize-head` (quant::QuantizeOptions::
// quantize_head): the head is quantized with the row's own method and format after the last
// block, its decode becomes the head GEMM's weights (a tied model's lookup keeps its table), a
// DVFS-aware row places the head's tiles at their fastest levels and the simulator prices the
// "output" GEMM at them. A synthetic test-tiny checkpoint (tied: vocab 320 x d_model 64).
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "halo/hwq/dvfs_baselines.hpp"
#include "halo/hwq/head_quantizer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "scratch.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

constexpr std::int64_t kTile = 16;

struct Tiny {
    test::Scratch dir{"halo_baseline_head_test"};
    std::filesystem::path path;
    std::vector<std::vector<std::int32_t>> samples;
    Tiny() {
        model::SyntheticOptions o;
        o.dtype = "bf16";
        o.threads = 1;
        path = dir / "tiny";
        model::write_synthetic_checkpoint(path, model::synthetic_shape("test-tiny"), o);
        std::string text;
        for (int i = 0; i < 300; ++i) text += fmt::format("Sentence {} names item {}. ", i, i * 5 % 11);
        samples = quant::calibration_samples(model::load_tokenizer(path)->encode(text, false), 3, 40, "test text");
    }
    model::ModelWeights tied() const {
        auto w = model::load_model(path);
        w.output = model::Matrix();  // the token embedding serves as head
        return w;
    }
};

quant::QuantizeOptions options(quant::Method m, const std::string& format) {
    quant::QuantizeOptions o;
    o.method = m;
    o.format = format;
    o.granularity = quant::Granularity::per_tile(kTile, kTile);
    o.quantize_head = true;
    return o;
}

TEST(BaselineHead, RtnHeadIsTheTablesRtnOnTheSameGridAndBecomesTheHeadGemm) {
    Tiny t;
    auto w = t.tied();
    const model::Matrix table = w.token_embedding;
    const auto o = options(quant::Method::rtn, "int8-asym");
    const auto qm = quant::quantize_model(w, o, nullptr);
    ASSERT_TRUE(qm.head.has_value());
    EXPECT_TRUE(qm.head->tied);
    EXPECT_EQ(qm.head->output_error, -1);  // no calibration: no statistics
    const auto ref = quant::quantize_rtn(table, quant::make_spec("int8-asym", o.granularity));
    EXPECT_EQ(qm.head->tensor.decode().data, ref.decode().data);
    EXPECT_EQ(w.output.data, ref.decode().data);   // the GEMM uses the codes
    EXPECT_EQ(w.token_embedding.data, table.data);  // the lookup keeps its table
    EXPECT_NE(w.output.data, table.data);
    // Without the option the head stays as it was.
    auto w2 = t.tied();
    auto o2 = o;
    o2.quantize_head = false;
    EXPECT_FALSE(quant::quantize_model(w2, o2, nullptr).head.has_value());
    EXPECT_EQ(w2.output.size(), 0);
}

TEST(BaselineHead, GptqHeadIsCalibratedAndItsTilesArePricedAtTheirFastestLevels) {
    Tiny t;
    auto w = t.tied();
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    quant::LayerwiseSource src(w, t.samples, 1);
    auto qm = quant::quantize_model(w, options(quant::Method::gptq, "int4-asym"), &src);
    ASSERT_TRUE(qm.head.has_value());
    EXPECT_GT(qm.head->output_error, 0);  // from the head's own input statistics
    EXPECT_EQ(w.output.data, qm.head->tensor.decode().data);
    for (auto& rec : qm.linears) place_tiles_at_fastest_levels(rec.tensor, L, kTile, kTile);
    place_tiles_at_fastest_levels(qm.head->tensor, L, kTile, kTile);
    const auto& head_levels = qm.head->tensor.tiles.level;
    ASSERT_EQ(head_levels.size(), static_cast<std::size_t>((320 / kTile) * (64 / kTile)));
    // int4-asym's 16 codes embed as 8c on this profile: every tile leaves L0.
    EXPECT_TRUE(std::all_of(head_levels.begin(), head_levels.end(), [](int l) { return l > 0; }));
    const auto tiles = dvfs_baseline_tile_levels(qm, w.config, L);
    const auto it = std::find_if(tiles.layers.begin(), tiles.layers.end(), [](const auto& e) { return e.first == kHeadName; });
    ASSERT_NE(it, tiles.layers.end());
    auto sim_levels = it->second.level, claimed = std::vector<int>(head_levels.begin(), head_levels.end());
    std::sort(sim_levels.begin(), sim_levels.end());
    std::sort(claimed.begin(), claimed.end());
    EXPECT_EQ(std::vector<int>(sim_levels.begin(), sim_levels.end()), claimed);  // the same tiles, transposed for the array
    std::uint64_t counted = 0;
    for (const auto& h : it->second.code_histogram)
        for (auto n : h) counted += n;
    EXPECT_EQ(counted, 320u * 64u);
}

// `halo run --calib-int8-inputs`: a LayerwiseSource given the A8 hooks calibrates on the inputs
// the evaluation feeds (every linear's, the head's too, INT8 per token, and the hidden states
// advanced through the hooks): its statistics are LayerwiseCalibration's with those hooks bit for
// bit, and differ from the FP32 inputs' in every block and at the head.
TEST(CalibInt8Inputs, TheSourceSeesTheInputsOfTheA8Evaluation) {
    Tiny t;
    const auto w = t.tied();
    const auto hooks = quant::activation_hooks_for("int8_per_token", true);
    quant::LayerwiseSource fp(w, t.samples, 1), a8(w, t.samples, 1, &hooks);
    model::LayerwiseCalibration ref(w, t.samples, 1, &hooks);
    const model::StatsRequest req{.gram = true, .channel_stats = true};
    for (int l = 0; l < static_cast<int>(w.layers.size()); ++l) {
        const auto sf = fp.capture(l, req), sa = a8.capture(l, req), sr = ref.capture(l, req);
        for (std::size_t k = 0; k < 7; ++k) {
            EXPECT_EQ(sa[k].gram.data, sr[k].gram.data) << l << " " << k;
            EXPECT_EQ(sa[k].abs_max, sr[k].abs_max) << l << " " << k;
            EXPECT_NE(sa[k].gram.data, sf[k].gram.data) << l << " " << k;
        }
        fp.advance(l), a8.advance(l), ref.advance(l);
    }
    const auto hf = fp.capture_head(req), ha = a8.capture_head(req), hr = ref.capture_head(req);
    EXPECT_EQ(ha.gram.data, hr.gram.data);
    EXPECT_NE(ha.gram.data, hf.gram.data);
    EXPECT_EQ(a8.tokens(), fp.tokens());
}

}  // namespace
}  // namespace halo::hwq
