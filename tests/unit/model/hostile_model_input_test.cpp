// Hostile model inputs (issue #17 classes 1, 3, 8, 9): GGUF integers beyond int; config numbers that would turn perplexity
// into NaN (a negative or NaN rms_norm_eps, a zero RoPE base) are refused at load naming the
// file and key; --ctx beyond the model's context length is a flag error; a NaN/Inf perplexity is
// never a result; the SentencePiece merge is the reference's result in O(n log n).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "gguf_test_util.hpp"
#include "spm_from_bpe_vocab.hpp"
#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/input_checks.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/spm_merge.hpp"
#include "halo/model/spm_tokenizer.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::ScratchDir;

// Metadata of a tiny Llama; load_model checks the config before reading any tensor.
GgufWriter tiny_config_gguf(float eps, float rope_base) {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_u32("llama.block_count", 1);
    w.add_u32("llama.embedding_length", 8);
    w.add_u32("llama.feed_forward_length", 12);
    w.add_u32("llama.attention.head_count", 2);
    w.add_u32("llama.context_length", 64);
    w.add_f32("llama.rope.freq_base", rope_base);
    w.add_f32("llama.attention.layer_norm_rms_epsilon", eps);
    w.add_u32("llama.vocab_size", 16);
    return w;
}

std::string hf_config(const std::string& eps, const std::string& rope_theta) {
    return R"({"model_type": "llama", "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1,
        "num_attention_heads": 2, "vocab_size": 16, "rms_norm_eps": )" + eps + R"(, "rope_theta": )" + rope_theta + "}";
}

TEST(HostileConfig, GgufEpsAndRopeBaseOutOfRangeNameFileAndKey) {
    ScratchDir dir;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    tiny_config_gguf(-1e-5f, 10000.0f).write(dir / "neg_eps.gguf");
    expect_error([&] { (void)load_model(dir / "neg_eps.gguf"); }, "E5340",
                 {"neg_eps.gguf", "llama.attention.layer_norm_rms_epsilon", "expected a finite number in (0, 0.1]", "found -1e-05"});
    tiny_config_gguf(nan, 10000.0f).write(dir / "nan_eps.gguf");
    expect_error([&] { (void)load_model(dir / "nan_eps.gguf"); }, "E5340", {"nan_eps.gguf", "layer_norm_rms_epsilon", "found nan"});
    tiny_config_gguf(1e-5f, 0.0f).write(dir / "zero_rope.gguf");
    expect_error([&] { (void)load_model(dir / "zero_rope.gguf"); }, "E5340",
                 {"zero_rope.gguf", "llama.rope.freq_base", "expected a finite RoPE base > 1", "found 0"});
    tiny_config_gguf(1e-5f, std::numeric_limits<float>::infinity()).write(dir / "inf_rope.gguf");
    expect_error([&] { (void)load_model(dir / "inf_rope.gguf"); }, "E5340", {"rope.freq_base", "found inf"});
}

// The tiny Llama's metadata with one integer key written as a 64-bit value of our choosing.
GgufWriter tiny_config_with(const std::string& key, std::int64_t value) {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    const std::pair<const char*, std::uint32_t> fields[] = {{"llama.block_count", 1},           {"llama.embedding_length", 8},
                                                            {"llama.feed_forward_length", 12},  {"llama.attention.head_count", 2},
                                                            {"llama.attention.head_count_kv", 2}, {"llama.context_length", 64},
                                                            {"llama.vocab_size", 16}};
    for (const auto& [k, v] : fields) {
        if (key != k) w.add_u32(k, v);
        else if (value < 0) w.add_i32(k, static_cast<std::int32_t>(value));
        else w.add_u64(k, static_cast<std::uint64_t>(value));
    }
    return w;
}

TEST(HostileConfig, GgufIntegersBeyondIntAreRefusedNotWrapped) {
    ScratchDir dir;
    // 2^32 + 1 layers would wrap to 1 through static_cast<int>.
    tiny_config_with("llama.block_count", (std::int64_t{1} << 32) + 1).write(dir / "wrap.gguf");
    expect_error([&] { (void)load_model(dir / "wrap.gguf"); }, "E5344",
                 {"wrap.gguf", "llama.block_count", "integer field out of range", "expected 0..2147483647", "found 4294967297"});
    tiny_config_with("llama.attention.head_count_kv", -1).write(dir / "neg.gguf");
    expect_error([&] { (void)load_model(dir / "neg.gguf"); }, "E5344", {"llama.attention.head_count_kv", "found -1"});
    tiny_config_with("llama.vocab_size", std::int64_t{1} << 40).write(dir / "vocab.gguf");
    expect_error([&] { (void)load_model(dir / "vocab.gguf"); }, "E5344", {"llama.vocab_size", "found 1099511627776"});
}

TEST(HostileConfig, HfConfigEpsAndRopeBaseOutOfRange) {
    ScratchDir dir;
    write_file_atomic(dir / "config.json", hf_config("-1e-06", "10000.0"));
    expect_error([&] { (void)load_model(dir.path()); }, "E5340", {"config.json", "rms_norm_eps", "found -1e-06"});
    write_file_atomic(dir / "config.json", hf_config("1e-06", "0"));
    expect_error([&] { (void)load_model(dir.path()); }, "E5340", {"config.json", "rope_theta", "found 0"});
}

TEST(HostileConfig, InRangeValuesPass) {
    ModelConfig c;
    c.rms_norm_eps = 1e-6f;
    c.rope_theta = 500.0f;
    EXPECT_NO_THROW(check_config_numbers(c, "x.gguf"));
}

TEST(HostileCtx, CtxBeyondContextLengthIsAFlagError) {
    ModelConfig c;
    c.name = "tiny";
    c.context_length = 2048;
    EXPECT_NO_THROW(check_ctx_fits(c, 2048));
    try {
        check_ctx_fits(c, 1 << 20);
        ADD_FAILURE() << "expected E5341";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5341");
        EXPECT_EQ(e.exit_code(), 1);
        EXPECT_STREQ(e.what(), "error E5341: --ctx: context longer than model tiny was trained for "
                               "(expected at most 2048 tokens (its context length), found 1048576); hint: use a smaller --ctx");
    }
    c.context_length = 0;  // unknown: nothing to check against
    EXPECT_NO_THROW(check_ctx_fits(c, 4096));
}

TEST(HostileResult, NanOrInfPerplexityIsNeverAResult) {
    EXPECT_NO_THROW(check_finite_result(12.5, "perplexity", "m.gguf", "eval.txt"));
    expect_error([] { check_finite_result(std::nan(""), "perplexity", "m.gguf", "eval.txt"); }, "E5342",
                 {"m.gguf", "on eval.txt", "perplexity is not a finite number", "found nan"});
    expect_error([] { check_finite_result(HUGE_VAL, "perplexity", "m.gguf", "eval.txt"); }, "E5342", {"found inf"});
}

// ---- SentencePiece merge: fast == reference ----------------------------------------------

std::string eval_text() { return read_file(default_eval_text_path()); }

TEST(SpmMerge, FastEqualsReferenceOnRealText) {
    if (!std::filesystem::exists(default_model_path())) GTEST_SKIP() << "default model not installed (scripts/setup.sh data)";
    const SpmVocab v = testing::spm_vocab_from_bpe_gguf(default_model_path());
    SpmPieceIds ids;
    for (std::size_t i = 0; i < v.tokens.size(); ++i) ids.emplace(v.tokens[i], static_cast<std::int32_t>(i));
    const SpmCharBigrams bigrams = spm_char_bigrams(ids);
    const SpmPieceTable table{ids, v.scores}, cut_table{ids, v.scores, &bigrams};
    // The text as the tokenizer normalizes it (spaces as "▁"), and once with '_' for spaces
    // (fewer cuts: long segments).
    const std::string raw = eval_text();
    std::string spaced, underscores = raw;
    for (char c : raw) spaced += c == ' ' ? std::string("\xE2\x96\x81") : std::string(1, c);
    for (auto& c : underscores)
        if (c == ' ') c = '_';
    for (const std::string* text : {&spaced, &underscores}) {
        // The reference is quadratic: compare on 40 windows of 1,000 bytes spread over the text,
        // including multi-byte characters cut at the window edge.
        std::size_t pieces = 0;
        for (std::size_t w = 0; w < 40; ++w) {
            const std::string_view window = std::string_view(*text).substr(w * (text->size() / 40), 1000);
            const auto fast = spm_merge(window, table);
            ASSERT_EQ(fast, spm_merge_reference(window, table)) << "window " << w;
            ASSERT_EQ(spm_merge(window, cut_table), fast) << "window " << w << ", cut into segments";
            pieces += fast.size();
        }
        EXPECT_GT(pieces, 40u * 1000 / 8);  // merging happened, and not into one piece per window
        EXPECT_LT(pieces, 40u * 1000 / 2);
    }
}

TEST(SpmMerge, FastEqualsReferenceOnTiesAndRepeats) {
    // Equal scores everywhere: leftmost first decides every merge.
    const std::vector<std::string> pieces = {"a", "b", "aa", "ab", "ba", "aaa", "aba", "abab", "bb"};
    SpmPieceIds ids;
    for (std::size_t i = 0; i < pieces.size(); ++i) ids.emplace(pieces[i], static_cast<std::int32_t>(i));
    for (const std::vector<float>& scores : {std::vector<float>(pieces.size(), 0.0f),
                                             std::vector<float>{0, 0, -1, -1, -2, -3, -1, -5, -2}}) {
        const SpmCharBigrams bigrams = spm_char_bigrams(ids);
        const SpmPieceTable table{ids, scores}, cut_table{ids, scores, &bigrams};
        for (std::string s : {"aaaaaaa", "abababab", "aabbaabbab", "baaab", "a", "", "abcab", "ccab"}) {
            EXPECT_EQ(spm_merge(s, table), spm_merge_reference(s, table)) << s;
            EXPECT_EQ(spm_merge(s, cut_table), spm_merge_reference(s, table)) << s;  // "c" is in no piece: cuts
        }
    }
}

TEST(SpmTokenizer, NanScoreIsRefused) {
    SpmVocab v;
    v.tokens = {"a", "b"};
    v.scores = {0.0f, std::nanf("")};
    v.source = "v.gguf";
    expect_error([&] { SpmTokenizer t(v); }, "E5406", {"v.gguf", "score of token 1 is not finite"});
}

}  // namespace
}  // namespace halo::model
