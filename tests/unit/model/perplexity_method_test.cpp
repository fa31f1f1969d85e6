// Perplexity: answers computable by hand (uniform logits -> vocab size; a model that always
// knows the next token -> 1) and the chunking conventions of both methods (which tokens are
// scored, how many, what each window sees).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "forward_tiny_model.hpp"
#include "halo/model/perplexity.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

std::vector<std::int32_t> iota_tokens(int n, int vocab) {
    std::vector<std::int32_t> t(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) t[static_cast<std::size_t>(i)] = i % vocab;
    return t;
}

TEST(PerplexityMethod, ZeroHeadModelGivesVocabSize) {
    // An all-zero LM head makes every logit 0: uniform over the vocabulary, so ppl = vocab.
    ModelWeights w = testing::tiny_model(testing::tiny_config());
    w.output = Matrix(w.config.vocab_size, w.config.d_model);
    const auto tokens = iota_tokens(40, w.config.vocab_size);
    for (const auto method : {PerplexityMethod::llamacpp, PerplexityMethod::hf}) {
        const PerplexityResult r = perplexity(w, tokens, {.method = method, .ctx = 16});
        EXPECT_NEAR(r.perplexity, 11.0, 1e-9);
        EXPECT_NEAR(r.nll_sum, std::log(11.0) * static_cast<double>(r.tokens_scored), 1e-9);
    }
}

// A stand-in model that puts logit 0 on the true next token of a known stream and -inf-ish
// elsewhere, recording the windows it is given.
struct Oracle {
    int vocab;
    std::vector<std::vector<std::int32_t>> windows;
    std::vector<std::int64_t> first_rows;  // the first logits row each call asked for
    Matrix operator()(std::span<const std::int32_t> w, std::int64_t first_row = 0) {
        windows.emplace_back(w.begin(), w.end());
        first_rows.push_back(first_row);
        Matrix m(static_cast<std::int64_t>(w.size()), vocab);
        for (std::size_t t = 0; t < w.size(); ++t) {
            for (int v = 0; v < vocab; ++v) m.at(static_cast<std::int64_t>(t), v) = -50.0f;
            // The stream is i % vocab, so the next token is (w[t] + 1) % vocab (BOS excepted).
            m.at(static_cast<std::int64_t>(t), (w[t] + 1) % vocab) = 0.0f;
        }
        return m;
    }
};

TEST(PerplexityMethod, LlamaCppChunkConvention) {
    Oracle oracle{10, {}};
    const auto tokens = iota_tokens(70, 10);  // 70 tokens, ctx 16 -> 4 chunks, 6-token tail dropped
    const LogitsFn fn = [&](std::span<const std::int32_t> w, std::int64_t first) { return oracle(w, first); };
    const PerplexityResult r = perplexity(fn, tokens, {.method = PerplexityMethod::llamacpp, .ctx = 16});
    EXPECT_EQ(r.chunks, 4);
    EXPECT_EQ(r.tokens_scored, 4 * (16 - 1 - 8));  // ctx - 1 - ctx/2 per chunk
    EXPECT_EQ(r.tokens_evaluated, 64);
    EXPECT_NEAR(r.perplexity, 1.0, 1e-12);
    ASSERT_EQ(oracle.windows.size(), 4u);
    EXPECT_EQ(oracle.windows[1].front(), 16 % 10);  // non-overlapping: chunk 1 starts at token 16
    EXPECT_EQ(r.stride, 0);
    EXPECT_EQ(oracle.first_rows, (std::vector<std::int64_t>{8, 8, 8, 8}));  // logits needed from ctx/2

    // max_chunks limits the chunks.
    const PerplexityResult two = perplexity(fn, tokens, {.ctx = 16, .max_chunks = 2});
    EXPECT_EQ(two.chunks, 2);
    EXPECT_EQ(two.tokens_scored, 14);
}

TEST(PerplexityMethod, LlamaCppBosReplacesEachChunkStart) {
    Oracle oracle{10, {}};
    const auto tokens = iota_tokens(40, 10);
    const LogitsFn fn = [&](std::span<const std::int32_t> w, std::int64_t first) { return oracle(w, first); };
    // With BOS = 9 the stream is [9, 0, 1, ...]: 41 tokens -> 2 chunks of 20, each starting with 9.
    const PerplexityResult r = perplexity(fn, tokens, {.ctx = 20, .bos = 9});
    ASSERT_EQ(oracle.windows.size(), 2u);
    EXPECT_EQ(oracle.windows[0][0], 9);
    EXPECT_EQ(oracle.windows[0][1], 0);
    EXPECT_EQ(oracle.windows[1][0], 9);   // stream[20] (text token 19) replaced by BOS
    EXPECT_EQ(oracle.windows[1][1], 20 % 10);  // stream[21] = text token 20
    EXPECT_EQ(r.tokens_scored, 2 * 9);
}

TEST(PerplexityMethod, HfSlidingWindowScoresEveryTokenOnce) {
    Oracle oracle{10, {}};
    const auto tokens = iota_tokens(50, 10);
    const LogitsFn fn = [&](std::span<const std::int32_t> w, std::int64_t first) { return oracle(w, first); };
    const PerplexityResult r =
        perplexity(fn, tokens, {.method = PerplexityMethod::hf, .ctx = 16, .stride = 8});
    // Windows begin at 0, 8, 16, 24, 32 (the one at 32 ends at 48 < 50), 40 (ends at 50).
    EXPECT_EQ(r.chunks, 6);
    EXPECT_EQ(r.tokens_scored, 49);  // N - 1: the first window all but its first, then 8, 8, 8, 8, 2
    EXPECT_EQ(r.stride, 8);
    EXPECT_EQ(oracle.windows.back().size(), 10u);
    EXPECT_EQ(oracle.first_rows, (std::vector<std::int64_t>{0, 7, 7, 7, 7, 7}));  // last: targets 48, 49
    EXPECT_NEAR(r.perplexity, 1.0, 1e-12);

    // Default stride is ctx/2; max_chunks caps the windows.
    const PerplexityResult capped = perplexity(fn, tokens, {.method = PerplexityMethod::hf, .ctx = 16, .max_chunks = 2});
    EXPECT_EQ(capped.stride, 8);
    EXPECT_EQ(capped.chunks, 2);
    EXPECT_EQ(capped.tokens_scored, 15 + 8);
}

TEST(PerplexityMethod, ShortOrEmptyTextNamesTheFile) {
    const LogitsFn fn = [](std::span<const std::int32_t> w, std::int64_t) { return Matrix(static_cast<std::int64_t>(w.size()), 4); };
    for (const auto& tokens : {std::vector<std::int32_t>{}, iota_tokens(10, 4)}) {
        try {
            perplexity(fn, tokens, {.ctx = 16, .text_name = "data/text/eval.txt"});
            FAIL();
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E5520");
            EXPECT_EQ(e.exit_code(), 2);
            EXPECT_THAT(e.what(), ::testing::HasSubstr("data/text/eval.txt"));
            EXPECT_THAT(e.what(), ::testing::HasSubstr("at least 16 tokens"));
        }
    }
    EXPECT_THROW(parse_method("wikitext"), Error);
    EXPECT_EQ(parse_method("hf"), PerplexityMethod::hf);
}

}  // namespace
}  // namespace halo::model
