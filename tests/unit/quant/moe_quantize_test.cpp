// Quantizing a mixture-of-experts model (the tiny Mixtral-row model of the model tests): RTN,
// GPTQ, AWQ, k-means and SmoothQuant quantize every expert's gate/up/down as its own linear,
// the calibrated ones from the expert's own statistics; k-means with Fisher sensitivity gets each
// expert's own Fisher diagonal (moe_smoothquant_test.cpp checks SmoothQuant's fold; HALO's row
// is tested in tests/unit/hwq); the calibration tokens routed to each expert are recorded and
// equal a direct count; experts below a threshold are listed; an expert no token reached cannot
// be calibrated (E6160); the quantized directory keeps the experts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "../model/forward_tiny_model.hpp"
#include "../model/gguf_test_util.hpp"  // ScratchDir, expect_error
#include "halo/model/architecture.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/forward.hpp"
#include "halo/quant/expert_quantizer.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

using model::LinearKind;
using model::testing::expect_error;

float max_abs(const std::vector<float>& v) {
    float m = 0;
    for (float x : v) m = std::max(m, std::fabs(x));
    return m;
}
float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    float m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

model::ModelWeights tiny_moe(unsigned seed) {
    model::ModelConfig c = model::testing::tiny_config();
    model::apply_architecture(model::architecture_row("mixtral"), c);
    c.n_experts = 4;
    c.n_experts_used = 2;
    return model::testing::tiny_model(c, seed);
}

std::vector<std::vector<std::int32_t>> samples() {
    std::vector<std::vector<std::int32_t>> s;
    for (int i = 0; i < 4; ++i) {
        std::vector<std::int32_t> t;
        for (int j = 0; j < 16; ++j) t.push_back((i * 7 + j * 3 + j * j) % 11);
        s.push_back(t);
    }
    return s;
}

// Tokens routed to each expert of block 0 (its input does not depend on any quantized weight).
std::vector<std::int64_t> direct_count_block0(const model::ModelWeights& w) {
    std::vector<std::int64_t> n(4, 0);
    for (const auto& s : samples())
        (void)model::testing::reference_logits(w, s, [&](int layer, int, const model::testing::Vec& h) {
            if (layer != 0) return;
            const auto g = model::testing::ref_expert_weights(w.layers[0].router, h, 2, true);
            for (std::size_t e = 0; e < 4; ++e) n[e] += g[e] > 0;
        });
    return n;
}

TEST(MoeQuantize, EveryExpertQuantizedFromItsOwnTokens) {
    const model::ModelWeights original = tiny_moe(7);
    const auto direct = direct_count_block0(original);
    for (const auto method : {Method::rtn, Method::gptq, Method::awq, Method::kmeans, Method::smoothquant}) {
        SCOPED_TRACE(static_cast<int>(method));
        model::ModelWeights w = original;
        QuantizeOptions opt;
        opt.method = method;
        opt.format = method == Method::smoothquant ? "int8" : "int4";
        opt.threads = 1;
        LayerwiseSource src(w, samples(), 1);
        const QuantizedModel qm = quantize_model(w, opt, method == Method::rtn ? nullptr : &src);
        const bool smoothed = method == Method::smoothquant;
        // 4 block linears + 4 experts x 3 per block, each once.
        ASSERT_EQ(qm.linears.size(), 2u * (4 + 12));
        std::set<std::tuple<int, int, int>> seen;
        for (const auto& r : qm.linears) {
            EXPECT_TRUE(seen.insert({r.layer, r.expert, static_cast<int>(r.kind)}).second);
            EXPECT_EQ(r.expert >= 0, model::is_expert_kind(r.kind));
            if (method != Method::rtn && method != Method::smoothquant && r.expert >= 0) {
                EXPECT_GE(r.output_error, 0.0);  // a Gram of the expert's own inputs was there (SmoothQuant takes maxima only)
            }
        }
        for (int l = 0; l < 2; ++l)
            for (int e = 0; e < 4; ++e)
                for (auto k : model::kExpertKinds) {
                    const auto& q = w.layers[static_cast<std::size_t>(l)].experts[static_cast<std::size_t>(e)][k];
                    const auto& o = original.layers[static_cast<std::size_t>(l)].experts[static_cast<std::size_t>(e)][k];
                    EXPECT_NE(q.data, o.data);  // decoded values replaced the weights
                    if (!smoothed) {  // smoothing rescales columns: the decoded values are not o's
                        EXPECT_LE(max_abs_diff(q.data, o.data), 0.5f * max_abs(o.data));
                    }
                }
        // The router stays FP32 (SmoothQuant scales its columns with the shared factor).
        EXPECT_EQ(w.layers[0].router.data == original.layers[0].router.data, !smoothed);
        if (method == Method::rtn) {
            EXPECT_TRUE(qm.expert_tokens.empty());  // no calibration: no counts to report
        } else {
            ASSERT_EQ(qm.expert_tokens.size(), 2u);
            EXPECT_EQ(qm.expert_tokens[0].layer, 0);
            EXPECT_EQ(qm.expert_tokens[0].tokens, direct);
            for (const auto& b : qm.expert_tokens) {
                std::int64_t sum = 0;
                for (auto n : b.tokens) {
                    EXPECT_GT(n, 0);  // every expert calibrated
                    sum += n;
                }
                EXPECT_EQ(sum, 4 * 16 * 2);  // samples x tokens x top-2
            }
        }
        const model::Matrix logits = model::forward_logits(w, samples()[0]);
        for (float v : logits.data) ASSERT_TRUE(std::isfinite(v));
    }
}

TEST(MoeQuantize, CoverageWarningsListExpertsBelowTheThreshold) {
    const std::vector<ExpertTokens> cov = {{0, {40, 3, 16, 0}}, {1, {20, 20, 20, 20}}};
    EXPECT_THAT(expert_coverage_warnings(cov, 16),
                ::testing::ElementsAre("block 0 expert 1: 3 calibration tokens (< 16)", "block 0 expert 3: 0 calibration tokens (< 16)"));
    EXPECT_TRUE(expert_coverage_warnings(cov, 0).empty());
}

TEST(MoeQuantize, AnExpertNoTokenReachedIsRefusedByCalibratedMethods) {
    model::ModelWeights w = tiny_moe(7);
    for (auto& l : w.layers) std::fill(l.router.data.begin(), l.router.data.end(), 0.0f);  // ties: experts 0, 1 always
    QuantizeOptions opt;
    opt.method = Method::gptq;
    opt.threads = 1;
    LayerwiseSource src(w, samples(), 1);
    expect_error([&] { (void)quantize_model(w, opt, &src); }, "E6160",
                                {"blk.0.ffn_*_exps expert 2", "no calibration token", "gptq"});
}

// k-means with Fisher sensitivity: each expert linear is clustered with its own Fisher diagonal
// (the same result as quantize_kmeans called directly with that expert's entry).
TEST(MoeQuantize, KmeansFisherUsesEachExpertsOwnFisherDiagonal) {
    const model::ModelWeights original = tiny_moe(7);
    const model::FisherDiagonal fisher = model::fisher_diagonal(original, samples(), 1);
    model::ModelWeights w = original;
    QuantizeOptions opt;
    opt.method = Method::kmeans;
    opt.format = "int3";
    opt.kmeans_fisher = true;
    opt.threads = 1;
    const QuantizedModel qm = quantize_model(w, opt, nullptr, &fisher);
    ASSERT_EQ(qm.linears.size(), 2u * (4 + 12));
    int experts = 0, differs_from_hessian_free = 0;
    for (const auto& r : qm.linears) {
        if (r.expert < 0) continue;
        ++experts;
        const auto& o = original.layers[static_cast<std::size_t>(r.layer)].experts[static_cast<std::size_t>(r.expert)][r.kind];
        KmeansOptions ko = opt.kmeans;
        ko.bits = 3;
        const QuantizedTensor want = quantize_kmeans(o, &fisher.at(r.layer, r.kind, r.expert), {}, ko);
        EXPECT_EQ(r.tensor.decode().data, want.decode().data) << r.layer << " " << r.expert;
        // Uniform sensitivity would cluster differently: the Fisher entries did matter.
        model::Matrix ones(o.rows, o.cols);
        std::fill(ones.data.begin(), ones.data.end(), 1.0f);
        if (quantize_kmeans(o, &ones, {}, ko).decode().data != want.decode().data) ++differs_from_hessian_free;
    }
    EXPECT_EQ(experts, 24);
    EXPECT_GT(differs_from_hessian_free, 12);
}

TEST(MoeQuantize, TheQuantizedDirectoryKeepsEachExpert) {
    const model::ModelWeights original = tiny_moe(7);
    model::ModelWeights w = original;
    QuantizeOptions opt;
    opt.method = Method::gptq;
    opt.threads = 1;
    LayerwiseSource src(w, samples(), 1);
    const QuantizedModel qm = quantize_model(w, opt, &src);
    model::testing::ScratchDir tmp;
    RunInfo info;
    write_quantized_dir(tmp / "q", qm, opt, info, false);
    const QuantizedDir back = read_quantized_dir(tmp / "q");
    EXPECT_TRUE(std::filesystem::exists(tmp / "q" / "blk.1.ffn_down_exps.3.hqt"));
    EXPECT_EQ(back.manifest.at("expert_tokens").at(1).at("tokens").size(), 4u);
    model::ModelWeights applied = original;
    apply_quantized(applied, back);
    for (int e = 0; e < 4; ++e)
        for (auto k : model::kExpertKinds)
            EXPECT_EQ(applied.layers[1].experts[static_cast<std::size_t>(e)][k].data, w.layers[1].experts[static_cast<std::size_t>(e)][k].data);
    EXPECT_EQ(applied.layers[0][LinearKind::attn_q].data, w.layers[0][LinearKind::attn_q].data);
}

}  // namespace
}  // namespace halo::quant
