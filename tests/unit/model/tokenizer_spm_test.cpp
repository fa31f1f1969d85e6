// SentencePiece-style BPE on a tiny vocabulary built in code, with hand-derived merges.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "gguf_test_util.hpp"
#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/spm_tokenizer.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::ScratchDir;

// ids: 0 <unk>, 1 <s>, 2 </s>, 3..258 <0x00>..<0xFF>, then pieces with scores.
SpmVocab tiny_spm() {
    SpmVocab v;
    const auto add = [&](std::string t, float score, TokenType type) {
        v.tokens.push_back(std::move(t));
        v.scores.push_back(score);
        v.types.push_back(static_cast<std::int32_t>(type));
    };
    add("<unk>", 0, TokenType::unknown);
    add("<s>", 0, TokenType::control);
    add("</s>", 0, TokenType::control);
    for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b), 0, TokenType::byte);
    add("\xE2\x96\x81", -1.0f, TokenType::normal);           // 259 ▁
    add("a", -2.0f, TokenType::normal);                      // 260
    add("b", -3.0f, TokenType::normal);                      // 261
    add("\xE2\x96\x81" "a", -0.5f, TokenType::normal);       // 262 ▁a
    add("ab", -1.0f, TokenType::normal);                     // 263
    add("\xE2\x96\x81" "ab", -2.0f, TokenType::normal);      // 264 ▁ab
    v.bos_id = 1;
    v.eos_id = 2;
    v.unk_id = 0;
    v.source = "tiny-spm";
    return v;
}

TEST(SpmTiny, MergesByScoreLeftmostFirst) {
    SpmTokenizer tok(tiny_spm());
    // "▁ab▁ab": ▁a (-0.5) at 0, then ▁a at 2, then ▁ab (-2.0) leftmost, then the other ▁ab.
    // ("ab" -1.0 loses to "▁a" -0.5 because the ▁a merges happen first and consume the a's.)
    EXPECT_EQ(tok.encode("ab ab", true), (std::vector<std::int32_t>{1, 264, 264}));
    // "▁ba": ▁ b a: no "▁b", "ba" not a token -> ▁ b a.
    EXPECT_EQ(tok.encode("ba", false), (std::vector<std::int32_t>{259, 261, 260}));
    // Characters without a piece fall back to byte tokens: c = 0x63, é = C3 A9.
    EXPECT_EQ(tok.encode("c", false), (std::vector<std::int32_t>{259, 3 + 0x63}));
    EXPECT_EQ(tok.encode("é", false), (std::vector<std::int32_t>{259, 3 + 0xC3, 3 + 0xA9}));
}

TEST(SpmTiny, DecodeInvertsEncode) {
    SpmTokenizer tok(tiny_spm());
    for (std::string s : {"ab ab", "ba c", "naïve é ∑", "a  b"}) EXPECT_EQ(tok.decode(tok.encode(s, true)), s) << s;
}

TEST(SpmTiny, WithoutSpacePrefix) {
    auto v = tiny_spm();
    v.add_space_prefix = false;
    SpmTokenizer tok(v);
    EXPECT_EQ(tok.encode("ab", false), (std::vector<std::int32_t>{263}));
    EXPECT_EQ(tok.decode({263}), "ab");
}

TEST(SpmTiny, FromGgufAndValidation) {
    ScratchDir dir;
    const SpmVocab v = tiny_spm();
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.add_string_array("tokenizer.ggml.tokens", v.tokens);
    w.add_f32_array("tokenizer.ggml.scores", v.scores);
    w.add_i32_array("tokenizer.ggml.token_type", v.types);
    w.add_u32("tokenizer.ggml.bos_token_id", 1);
    w.add_u32("tokenizer.ggml.eos_token_id", 2);
    w.write(dir / "spm.gguf");
    const auto tok = load_tokenizer(dir / "spm.gguf");
    EXPECT_EQ(tok->vocab_size(), 265);
    EXPECT_EQ(tok->encode("ab ab", true), (std::vector<std::int32_t>{1, 264, 264}));

    auto bad = tiny_spm();
    bad.scores.pop_back();
    expect_error([&] { SpmTokenizer t(bad); }, "E5401", {"score count", "found 264"});
}

}  // namespace
}  // namespace halo::model
