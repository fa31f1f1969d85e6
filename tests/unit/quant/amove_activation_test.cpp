// Weight-activation mode: activation format names, per-token quantization of linear inputs
// and attention operands inside the forward pass of a tiny model, exactly as the format's
// quantize/dequantize of each hook's input predicts.
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <string_view>

#include "halo/model/forward.hpp"
#include "halo/quant/amove_activation.hpp"
#include "halo/quant/amove_format.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

model::ModelWeights tiny(unsigned seed) {
    model::ModelConfig c;
    c.name = "tiny";
    c.n_layers = 2;
    c.d_model = 32;
    c.n_heads = 4;
    c.n_kv_heads = 2;
    c.head_dim = 8;
    c.d_ff = 64;
    c.vocab_size = 13;
    c.context_length = 64;
    c.rms_norm_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.tied_embeddings = true;
    model::ModelWeights w;
    w.config = c;
    w.token_embedding = testing::random_matrix(c.vocab_size, c.d_model, seed, 1.0f);
    for (int l = 0; l < c.n_layers; ++l) {
        model::LayerWeights lw;
        lw.attn_norm.assign(32, 1.0f);
        lw.ffn_norm.assign(32, 1.0f);
        unsigned s = seed * 100 + static_cast<unsigned>(l) * 10;
        lw[model::LinearKind::attn_q] = testing::random_matrix(32, 32, s + 1, 0.3f);
        lw[model::LinearKind::attn_k] = testing::random_matrix(16, 32, s + 2, 0.3f);
        lw[model::LinearKind::attn_v] = testing::random_matrix(16, 32, s + 3, 0.3f);
        lw[model::LinearKind::attn_output] = testing::random_matrix(32, 32, s + 4, 0.3f);
        lw[model::LinearKind::ffn_gate] = testing::random_matrix(64, 32, s + 5, 0.3f);
        lw[model::LinearKind::ffn_up] = testing::random_matrix(64, 32, s + 6, 0.3f);
        lw[model::LinearKind::ffn_down] = testing::random_matrix(32, 64, s + 7, 0.3f);
        w.layers.push_back(std::move(lw));
    }
    w.output_norm.assign(32, 1.0f);
    return w;
}

TEST(AmoveActivation, PlanNames) {
    const auto agg = parse_activation_plan("amove-aggressive");
    ASSERT_TRUE(agg && agg->attention);
    EXPECT_EQ(agg->linear.spec->format->name, "amove-int4-g128c16-mean");
    EXPECT_EQ(agg->attention->spec->format->name, "amove-int4-g32c4-mean");
    const auto cons = parse_activation_plan("amove-conservative-fp4");
    EXPECT_EQ(cons->linear.spec->format->name, "amove-fp4-g32c4-mean");
    const auto ig = parse_activation_plan("int4@g64+attn");
    EXPECT_EQ(ig->linear.spec->format->name, "int4");
    EXPECT_EQ(ig->linear.spec->granularity, Granularity::per_group(64));
    EXPECT_EQ(ig->attention->spec->granularity, Granularity::per_group(64));
    EXPECT_EQ(parse_activation_plan("mxfp4+attn=amove-int4-g32c4-scale")->attention->spec->format->name, "amove-int4-g32c4-scale");
    EXPECT_FALSE(parse_activation_plan("int8_per_token"));
    EXPECT_EQ(parse_activation_plan("olive4+attn")->attention->row_fn, &olive4_row);
    // Mixed-type weight rows (a value set per group, or OliVe pairs) are refused for activations.
    for (const char* bad : {"int4", "int4@x3", "amove-int4-g32c4+foo", "nope@g4", "bitmod-fp4@g128", "ant4@g64", "olive4@row",
                            "amove-aggressive+attn", "amove-conservative-fp4+attn=int4@g32"}) {
        try {
            parse_activation_plan(bad);
            FAIL() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E6804") << bad;
            // A preset with '+attn' is told that presets set attention, not an unknown 'amove-aggressive-mean'.
            if (std::string_view(bad).starts_with("amove-a") || std::string_view(bad).starts_with("amove-c")) {
                EXPECT_NE(e.diagnostic().message.find("sets the attention operands itself"), std::string::npos) << bad;
            }
        }
    }
}

TEST(AmoveActivation, GenericRowsQuantizeEachGroup) {
    const QuantSpec spec = make_spec("int4", Granularity::per_group(4));
    std::vector<float> x = {7, 3.2f, -1, 0, 3.5f, 0.5f, 0, 0};
    quantize_activation_rows(spec, x.data(), 1, 8);
    EXPECT_EQ(x, (std::vector<float>{7, 3, -1, 0, 3.5f, 0.5f, 0, 0}));
}

// Each hook's output must equal the reference quantize/dequantize of its input; the forward
// pass with the hooks must differ from FP32 and equal a pass whose hooks run the reference.
TEST(AmoveActivation, ForwardPassHooksQuantizeExactlyAsTheFormatPredicts) {
    const model::ModelWeights w = tiny(3);
    const std::vector<std::int32_t> tokens = {1, 4, 2, 8, 5, 7, 11, 3, 9, 0};
    const auto plan = *parse_activation_plan("amove-int4-g16c4+attn=amove-int4-g8c2");
    const model::ForwardHooks fast = activation_plan_hooks(plan);
    const AmoveConfig& lc = *amove_config(*plan.linear.spec->format);
    const AmoveConfig& ac = *amove_config(*plan.attention->spec->format);

    std::mutex mu;
    int checked_linear = 0, checked_attn = 0, changed = 0;
    auto wrap = [&](const model::ActivationHook& h, const AmoveConfig& c, const QuantSpec& spec, bool transpose, int* counter) {
        return model::ActivationHook([&, h, transpose, counter](float* d, std::int64_t rows, std::int64_t cols, int layer) {
            std::vector<float> in(d, d + rows * cols);
            h(d, rows, cols, layer);
            std::vector<float> want = in;
            if (!transpose) {
                amove_qdq_rows_ref(c, spec, want.data(), rows, cols);
            } else {
                std::vector<float> t(in.size());
                for (std::int64_t r = 0; r < rows; ++r)
                    for (std::int64_t k = 0; k < cols; ++k) t[static_cast<std::size_t>(k * rows + r)] = in[static_cast<std::size_t>(r * cols + k)];
                amove_qdq_rows_ref(c, spec, t.data(), cols, rows);
                for (std::int64_t r = 0; r < rows; ++r)
                    for (std::int64_t k = 0; k < cols; ++k) want[static_cast<std::size_t>(r * cols + k)] = t[static_cast<std::size_t>(k * rows + r)];
            }
            std::lock_guard lock(mu);
            EXPECT_EQ(std::vector<float>(d, d + rows * cols), want);
            changed += want != in;
            ++*counter;
        });
    };
    model::ForwardHooks checked;
    for (std::size_t k = 0; k < 7; ++k) checked.linear_input[k] = wrap(fast.linear_input[k], lc, *plan.linear.spec, false, &checked_linear);
    checked.attn_q = wrap(fast.attn_q, ac, *plan.attention->spec, false, &checked_attn);
    checked.attn_k = wrap(fast.attn_k, ac, *plan.attention->spec, false, &checked_attn);
    checked.attn_p = wrap(fast.attn_p, ac, *plan.attention->spec, false, &checked_attn);
    checked.attn_v = wrap(fast.attn_v, ac, *plan.attention->spec, true, &checked_attn);

    const model::Matrix fp = model::forward_logits(w, tokens, {.threads = 1});
    const model::Matrix q = model::forward_logits(w, tokens, {.threads = 1, .hooks = &checked});
    const model::Matrix q2 = model::forward_logits(w, tokens, {.threads = 1, .hooks = &fast});
    EXPECT_EQ(checked_linear, 2 * 7);
    EXPECT_EQ(checked_attn, 2 * 4 * 4);  // layers x query heads x {Q, K, P, V}
    EXPECT_EQ(changed, checked_linear + checked_attn);
    EXPECT_EQ(q.data, q2.data);
    EXPECT_NE(q.data, fp.data);
    // Only the attention operands quantized: a smaller but nonzero change.
    model::ForwardHooks attn_only;
    attn_only.attn_q = fast.attn_q;
    attn_only.attn_k = fast.attn_k;
    attn_only.attn_p = fast.attn_p;
    attn_only.attn_v = fast.attn_v;
    const model::Matrix qa = model::forward_logits(w, tokens, {.threads = 1, .hooks = &attn_only});
    EXPECT_NE(qa.data, fp.data);
    EXPECT_NE(qa.data, q.data);
}

TEST(AmoveActivation, ManifestNamesReachTheHooks) {
    const auto h = activation_hooks_for("amove-conservative");
    EXPECT_TRUE(h.linear_input[0] && h.attn_v);
    const auto l = activation_hooks_for("amove-int4-g32c4");
    EXPECT_TRUE(l.linear_input[6]);
    EXPECT_FALSE(l.any_attention());
    EXPECT_TRUE(activation_hooks_for("int8_per_token").linear_input[0]);
}

}  // namespace
}  // namespace halo::quant
