// Mixture-of-experts (the mixtral row, model/moe.hpp): the forward pass against the plain
// reference of forward_tiny_model.hpp (every expert run densely, weighted by the router), the
// router's top-k, a tiny MoE checkpoint written as Hugging Face safetensors and as llama.cpp's
// GGUF (3-D expert tensors, Q/K permuted) giving the same weights and logits, per-expert
// calibration statistics against a direct count, and bad input naming file and key.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "forward_tiny_model.hpp"
#include "gguf_test_util.hpp"
#include "moe_checkpoint_files.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/backward.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/moe.hpp"
#include "halo/model/safetensors_reader.hpp"
#include "halo/model/streaming_calibration.hpp"
#include "halo/util/atomic_file.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::gguf_of;
using testing::hf_config;
using testing::hf_tensors;
using testing::write_hf;
using testing::reference_logits;
using testing::ScratchDir;
using testing::Vec;

const std::vector<std::int32_t> kTokens = {1, 5, 3, 9, 0, 2, 7, 7, 4, 10, 6, 8, 3, 2, 9, 1};

// 2 blocks, 4 experts, top-2 (Mixtral's routing), d_model 16, d_ff 24 per expert.
ModelConfig moe_config(int experts = 4, int used = 2) {
    ModelConfig c = testing::tiny_config();
    apply_architecture(architecture_row("mixtral"), c);
    c.n_experts = experts;
    c.n_experts_used = used;
    return c;
}

double max_rel_error(const ModelWeights& w) {
    const Matrix got = forward_logits(w, kTokens, {.threads = 1});
    const auto want = reference_logits(w, kTokens);
    double err = 0, scale = 0;
    for (std::size_t t = 0; t < kTokens.size(); ++t)
        for (int v = 0; v < w.config.vocab_size; ++v) {
            err = std::max(err, std::fabs(got.at(static_cast<std::int64_t>(t), v) - want[t][static_cast<std::size_t>(v)]));
            scale = std::max(scale, std::fabs(want[t][static_cast<std::size_t>(v)]));
        }
    return err / scale;
}

// The reference's MLP inputs (FFN-norm outputs) of every block and token.
std::map<int, std::vector<Vec>> ffn_inputs(const ModelWeights& w, const std::vector<std::int32_t>& tokens) {
    std::map<int, std::vector<Vec>> h;
    (void)reference_logits(w, tokens, [&](int layer, int, const Vec& x) { h[layer].push_back(x); });
    return h;
}

TEST(MoeForward, MatchesTheDenseExpertReference) {
    for (const auto& [experts, used, norm] : {std::tuple{4, 2, true}, std::tuple{4, 1, true}, std::tuple{4, 2, false},
                                              std::tuple{3, 3, true}}) {
        SCOPED_TRACE(::testing::Message() << experts << " experts, top-" << used << (norm ? " renormalised" : ""));
        ModelConfig c = moe_config(experts, used);
        c.moe_norm_topk = norm;
        const ModelWeights w = testing::tiny_model(c, 7);
        EXPECT_LT(max_rel_error(w), 1e-4);
    }
    // The tokens do spread over the experts (the check above is not one expert's MLP).
    const ModelWeights w = testing::tiny_model(moe_config(), 7);
    std::set<std::size_t> chosen;
    const auto inputs = ffn_inputs(w, kTokens);
    for (const auto& h : inputs.at(0)) {
        const Vec g = testing::ref_expert_weights(w.layers[0].router, h, 2, true);
        for (std::size_t e = 0; e < g.size(); ++e)
            if (g[e] > 0) chosen.insert(e);
    }
    EXPECT_EQ(chosen.size(), 4u);
}

TEST(MoeRouting, SoftmaxTopKRenormalisedWithTiesToTheLowerIndex) {
    const std::vector<float> logits = {0.5f, 2.0f, -1.0f, 2.0f,   // tie between experts 1 and 3
                                       1.0f, 1.0f, 1.0f, 1.0f};   // all equal
    const ExpertRouting r = route_tokens(logits.data(), 2, 4, 2, true);
    EXPECT_EQ(r.expert, (std::vector<std::int32_t>{1, 3, 0, 1}));
    EXPECT_DOUBLE_EQ(r.weight[0], 0.5);
    EXPECT_DOUBLE_EQ(r.weight[2], 0.5);
    const ExpertRouting raw = route_tokens(logits.data(), 2, 4, 2, false);
    const double z = std::exp(0.5) + 2 * std::exp(2.0) + std::exp(-1.0);
    EXPECT_NEAR(raw.weight[0], std::exp(2.0) / z, 1e-12);
    EXPECT_NEAR(raw.weight[3], 0.25, 1e-12);
    EXPECT_EQ(tokens_per_expert(r, 4), (std::vector<std::int64_t>{1, 2, 0, 1}));
}

// ---- the same tiny model as files ----

TEST(MoeCheckpoint, SafetensorsAndGgufLoadToTheSameWeightsAndLogits) {
    const ModelWeights w = testing::tiny_model(moe_config(), 11);
    ScratchDir dir;
    write_hf(dir / "hf", hf_config(w.config), hf_tensors(w));
    gguf_of(w, 4, 2).write(dir / "tiny.gguf");
    const ModelWeights st = load_model(dir / "hf");
    const ModelWeights gg = load_model(dir / "tiny.gguf");
    for (const auto* m : {&st, &gg}) {
        EXPECT_EQ(m->config.architecture, "mixtral");
        EXPECT_EQ(m->config.n_experts, 4);
        EXPECT_EQ(m->config.n_experts_used, 2);
        EXPECT_TRUE(m->config.moe_norm_topk);
        ASSERT_EQ(m->layers[1].experts.size(), 4u);
        EXPECT_EQ(m->layers[1].router.data, w.layers[1].router.data);
        for (auto k : kExpertKinds) EXPECT_EQ(m->layers[1].experts[3][k].data, w.layers[1].experts[3][k].data);
        EXPECT_EQ(m->layers[0][LinearKind::attn_q].data, w.layers[0][LinearKind::attn_q].data);  // GGUF: unpermuted
        EXPECT_EQ(m->layers[0][LinearKind::ffn_gate].size(), 0u);
    }
    const Matrix a = forward_logits(st, kTokens), b = forward_logits(gg, kTokens), ref = forward_logits(w, kTokens);
    ASSERT_EQ(a.data.size(), b.data.size());
    for (std::size_t i = 0; i < a.data.size(); ++i) {
        ASSERT_EQ(a.data[i], b.data[i]) << i;
        ASSERT_EQ(a.data[i], ref.data[i]) << i;
    }
}

TEST(MoeCheckpoint, BadExpertCountsAndMissingExpertsNameFileAndKey) {
    const ModelWeights w = testing::tiny_model(moe_config(), 11);
    ScratchDir dir;
    // GGUF: the count disagrees with the tensors; top-k above the count; a kind missing.
    gguf_of(w, 3, 2).write(dir / "count.gguf");
    expect_error([&] { (void)load_model(dir / "count.gguf"); }, "E5302", {"count.gguf", "blk.0.ffn_gate_inp.weight", "[3 x 16]", "[4 x 16]"});
    gguf_of(w, 4, 5).write(dir / "topk.gguf");
    expect_error([&] { (void)load_model(dir / "topk.gguf"); }, "E5322", {"topk.gguf", "llama.expert_used_count", "1..4", "5"});
    gguf_of(w, 4, 0).write(dir / "zero.gguf");
    expect_error([&] { (void)load_model(dir / "zero.gguf"); }, "E5322", {"zero.gguf", "llama.expert_used_count"});
    gguf_of(w, 4, 2, "blk.1.ffn_down_exps.weight").write(dir / "missing.gguf");
    expect_error([&] { (void)load_model(dir / "missing.gguf"); }, "E5301", {"missing.gguf", "blk.1.ffn_down_exps.weight", "missing"});
    // A 3-D tensor with the wrong expert count (the router right): the tensor is named.
    {
        GgufWriter g = gguf_of(w, 4, 2, "blk.0.ffn_up_exps.weight");
        g.add_f32_tensor("blk.0.ffn_up_exps.weight", {16, 24, 3}, std::vector<float>(16 * 24 * 3, 0.0f));
        g.write(dir / "three.gguf");
        expect_error([&] { (void)load_model(dir / "three.gguf"); }, "E5302", {"blk.0.ffn_up_exps.weight", "[4 x 24 x 16]", "[3 x 24 x 16]"});
    }
    // Safetensors: config.json's count disagrees with the router; top-k above it; an expert missing.
    ModelConfig five = w.config;
    five.n_experts = 5;
    write_hf(dir / "hf5", hf_config(five), hf_tensors(w));
    expect_error([&] { (void)load_model(dir / "hf5"); }, "E5302", {"hf5", "model.layers.0.block_sparse_moe.gate.weight", "[5 x 16]"});
    ModelConfig greedy = w.config;
    greedy.n_experts_used = 6;
    write_hf(dir / "hfk", hf_config(greedy), hf_tensors(w));
    expect_error([&] { (void)load_model(dir / "hfk"); }, "E5323", {"config.json", "num_experts_per_tok", "6"});
    auto tensors = hf_tensors(w);
    std::erase_if(tensors, [](const SafetensorsEntry& e) { return e.name == "model.layers.1.block_sparse_moe.experts.2.w2.weight"; });
    write_hf(dir / "hfm", hf_config(w.config), tensors);
    expect_error([&] { (void)load_model(dir / "hfm"); }, "E5301", {"model.layers.1.block_sparse_moe.experts.2.w2.weight", "missing"});
    write_hf(dir / "hfn", R"({"model_type": "mixtral", "hidden_size": 16, "intermediate_size": 24, "num_hidden_layers": 2,
        "num_attention_heads": 4, "vocab_size": 11, "num_experts_per_tok": 2})", hf_tensors(w));
    expect_error([&] { (void)load_model(dir / "hfn"); }, "E5220", {"config.json", "num_local_experts", "missing"});
    // A GGUF architecture with experts but no MoE row.
    GgufWriter q;
    q.add_string("general.architecture", "qwen2");
    q.add_u32("qwen2.expert_count", 4);
    q.write(dir / "qwen2.gguf");
    expect_error([&] { (void)load_model(dir / "qwen2.gguf"); }, "E5320", {"qwen2.gguf", "qwen2.expert_count"});
}

// Block streaming has no expert path yet; the backward pass has one (moe_backward_test.cpp).
TEST(MoeModel, PathsWithoutExpertsRefuseIt) {
    ModelWeights w = testing::tiny_model(moe_config(), 3);
    w.layers.resize(1);
    expect_error([&] { BlockStreamCalibration cal(w, {kTokens}, 1, 1 << 20, {}); }, "E5324",
                 {"mixtral", "streamed calibration", "4 experts"});
}

// Per-expert statistics: each expert's gate/up inputs are exactly the FFN-norm rows of the
// tokens routed to it (direct count and X^T X from the reference), block 0 and, after advance,
// block 1; the dense linears see every token.
TEST(MoeCalibration, EachExpertSeesOnlyItsRoutedTokens) {
    const ModelWeights w = testing::tiny_model(moe_config(), 7);
    std::vector<std::vector<std::int32_t>> samples = {kTokens, {3, 3, 8, 1, 0, 4, 6, 2, 5, 7}};
    LayerwiseCalibration cal(w, samples, 1);
    for (int l = 0; l < 2; ++l) {
        SCOPED_TRACE(l);
        std::vector<std::int64_t> count(4, 0);
        std::vector<Matrix> gram(4, Matrix(16, 16));
        std::int64_t total = 0;
        for (const auto& s : samples) {
            const auto inputs = ffn_inputs(w, s);
            for (const Vec& h : inputs.at(l)) {
                ++total;
                const Vec g = testing::ref_expert_weights(w.layers[static_cast<std::size_t>(l)].router, h, 2, true);
                for (std::size_t e = 0; e < 4; ++e) {
                    if (g[e] == 0) continue;
                    ++count[e];
                    for (int i = 0; i < 16; ++i)
                        for (int j = 0; j < 16; ++j) gram[e].at(i, j) += static_cast<float>(h[static_cast<std::size_t>(i)] * h[static_cast<std::size_t>(j)]);
                }
            }
        }
        const auto dense = cal.capture(l, {.gram = true, .channel_stats = true});
        const auto experts = cal.take_expert_stats();
        EXPECT_EQ(dense[static_cast<std::size_t>(LinearKind::attn_q)].tokens, total);
        EXPECT_EQ(dense[static_cast<std::size_t>(LinearKind::ffn_gate)].tokens, 0);
        ASSERT_EQ(experts.size(), 4u);
        std::int64_t routed = 0;
        for (std::size_t e = 0; e < 4; ++e) {
            SCOPED_TRACE(e);
            EXPECT_GT(count[e], 0);
            for (std::size_t k = 0; k < 3; ++k) EXPECT_EQ(experts[e][k].tokens, count[e]);
            routed += experts[e][0].tokens;
            const Matrix& got = experts[e][ExpertWeights::slot(LinearKind::ffn_up)].gram;
            ASSERT_EQ(got.rows, 16);
            for (std::size_t i = 0; i < got.data.size(); ++i) EXPECT_NEAR(got.data[i], gram[e].data[i], 1e-3 * (1 + std::fabs(gram[e].data[i])));
            EXPECT_EQ(experts[e][ExpertWeights::slot(LinearKind::ffn_down)].gram.rows, 24);
            EXPECT_EQ(experts[e][0].abs_mean.size(), 16u);
        }
        EXPECT_EQ(routed, 2 * total);  // top-2
        cal.advance(l);
    }
}

}  // namespace
}  // namespace halo::model
