// Byte-level BPE: the pre-tokenizer splits, BPE on a tiny vocabulary built in code (so CI
// covers the algorithm without the model), tokenizer.json loading, and the real SmolLM2
// vocabulary against ids recorded with Hugging Face tokenizers (skipped when not installed).
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "gguf_test_util.hpp"
#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/bpe_tokenizer_unicode.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "../require_data.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::ScratchDir;
using Pieces = std::vector<std::string_view>;

TEST(PreTokenize, Gpt2Regex) {
    EXPECT_EQ(pre_tokenize("Hello world", false), (Pieces{"Hello", " world"}));
    EXPECT_EQ(pre_tokenize("it's we'll they're", false), (Pieces{"it", "'s", " we", "'ll", " they", "'re"}));
    EXPECT_EQ(pre_tokenize("a  b", false), (Pieces{"a", " ", " b"}));       // \s+(?!\S) leaves the last space
    EXPECT_EQ(pre_tokenize("a\tb", false), (Pieces{"a", "\t", "b"}));       // a lone tab is not " ?"
    EXPECT_EQ(pre_tokenize("x  ", false), (Pieces{"x", "  "}));             // trailing run kept whole
    EXPECT_EQ(pre_tokenize("a\n\nb", false), (Pieces{"a", "\n", "\n", "b"}));
    EXPECT_EQ(pre_tokenize("x 123 ...!", false), (Pieces{"x", " 123", " ...!"}));
    EXPECT_EQ(pre_tokenize("naïve café", false), (Pieces{"naïve", " café"}));  // \p{L} beyond ASCII
    EXPECT_EQ(pre_tokenize("日本語、中文", false), (Pieces{"日本語", "、", "中文"}));
    EXPECT_EQ(pre_tokenize("'S", false), (Pieces{"'", "S"}));  // contractions are case-sensitive
    EXPECT_EQ(pre_tokenize("", false), Pieces{});
}

TEST(PreTokenize, IndividualDigits) {
    EXPECT_EQ(pre_tokenize("x 123", true), (Pieces{"x", " ", "1", "2", "3"}));
    EXPECT_EQ(pre_tokenize("v2.0", true), (Pieces{"v", "2", ".", "0"}));
    EXPECT_EQ(pre_tokenize("½²", true), (Pieces{"½", "²"}));  // \p{N} includes No
}

TEST(PreTokenize, PiecesCoverTheInputExactlyEvenWhenUtf8IsInvalid) {
    const std::string text = "ok \xff\xfe bad \xe2\x82 end\x80";
    std::string joined;
    for (auto p : pre_tokenize(text, true)) joined += p;
    EXPECT_EQ(joined, text);
}

TEST(ByteMap, Gpt2BytesToUnicode) {
    EXPECT_EQ(byte_to_char('A'), U'A');
    EXPECT_EQ(byte_to_char(' '), U'\u0120');   // Ġ
    EXPECT_EQ(byte_to_char('\n'), U'\u010A');  // Ċ
    EXPECT_EQ(byte_to_char(0), U'\u0100');
    EXPECT_EQ(byte_to_char(0xAD), U'\u0143');  // the last of the 68 moved bytes
    EXPECT_EQ(byte_to_char(0xFF), U'\u00FF');
}

// A vocabulary with all 256 byte tokens and a few merges: "Ġ t", "h e", "Ġt he", "l l", "ll o".
BpeVocab tiny_vocab() {
    BpeVocab v;
    for (int b = 0; b < 256; ++b) {
        std::string s;
        unicode::append_utf8(s, byte_to_char(static_cast<std::uint8_t>(b)));
        v.tokens.push_back(s);
    }
    for (const char* t : {"Ġt", "he", "Ġthe", "ll", "llo", "<|bos|>"}) v.tokens.push_back(t);  // ids 256..261
    v.types.assign(v.tokens.size(), static_cast<std::int32_t>(TokenType::normal));
    v.types.back() = static_cast<std::int32_t>(TokenType::control);
    v.merges = {"Ġ t", "h e", "Ġt he", "l l", "ll o"};
    v.bos_id = 261;
    v.pre = "gpt2";
    v.source = "tiny";
    return v;
}

TEST(BpeTiny, MergesByRank) {
    BpeTokenizer tok(tiny_vocab());
    EXPECT_EQ(tok.vocab_size(), 262);
    // " the": Ġ t h e -> (Ġt) h e -> Ġt (he) -> (Ġthe)
    EXPECT_EQ(tok.encode(" the", false), (std::vector<std::int32_t>{258}));
    // "hello": h e l l o -> (he) l l o -> he (ll) o -> he (llo)
    EXPECT_EQ(tok.encode("hello", false), (std::vector<std::int32_t>{257, 260}));
    // "the": no leading space, "Ġt" cannot apply: t (he)
    EXPECT_EQ(tok.encode("the", true), (std::vector<std::int32_t>{261, 't', 257}));
    // Bytes outside ASCII fall back to byte tokens: é = C3 A9.
    EXPECT_EQ(tok.encode("é", false), (std::vector<std::int32_t>{0xC3, 0xA9}));
}

TEST(BpeTiny, DecodeInvertsEncodeAndSkipsControlTokens) {
    BpeTokenizer tok(tiny_vocab());
    for (std::string s : {"hello the world", "tab\tnew\nline", "naïve ∑ 🙂", "  spaces  "}) {
        auto ids = tok.encode(s, true);
        EXPECT_EQ(ids.front(), 261);
        EXPECT_EQ(tok.decode(ids), s);
    }
}

TEST(BpeTiny, RejectsBadVocabularies) {
    auto v = tiny_vocab();
    v.merges.push_back("x zz");
    expect_error([&] { BpeTokenizer t(v); }, "E5402", {"merge 5", "not in the vocabulary", "\"x zz\""});
    v = tiny_vocab();
    v.merges.push_back("nospace");
    expect_error([&] { BpeTokenizer t(v); }, "E5402", {"malformed merge"});
    v = tiny_vocab();
    v.pre = "qwen9";
    expect_error([&] { BpeTokenizer t(v); }, "E5403", {"unknown pre-tokenizer \"qwen9\""});
    v = tiny_vocab();
    v.bos_id = 9999;
    expect_error([&] { BpeTokenizer t(v); }, "E5401", {"special token id out of range", "found 9999"});
}

TEST(BpeTiny, FromGgufAndFromTokenizerJson) {
    ScratchDir dir;
    const BpeVocab v = tiny_vocab();
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "gpt2");
    w.add_string("tokenizer.ggml.pre", "smollm");
    w.add_string_array("tokenizer.ggml.tokens", v.tokens);
    w.add_string_array("tokenizer.ggml.merges", v.merges);
    w.add_i32_array("tokenizer.ggml.token_type", v.types);
    w.add_u32("tokenizer.ggml.bos_token_id", 261);
    w.write(dir / "tok.gguf");
    const auto from_gguf = load_tokenizer(dir / "tok.gguf");
    EXPECT_EQ(from_gguf->bos_id(), 261);
    EXPECT_EQ(from_gguf->encode(" the 42", false), (std::vector<std::int32_t>{258, ' ', '4', '2'}));  // byte tokens: id = byte

    nlohmann::json j;
    j["model"]["type"] = "BPE";
    for (std::size_t i = 0; i < 261; ++i) j["model"]["vocab"][v.tokens[i]] = i;
    j["model"]["merges"] = v.merges;
    j["added_tokens"] = {{{"id", 261}, {"content", "<|bos|>"}, {"special", true}}};
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", {{{"type", "Digits"}, {"individual_digits", true}},
                                             {{"type", "ByteLevel"}, {"add_prefix_space", false}}}}};
    write_file_atomic(dir / "tokenizer.json", j.dump());
    write_file_atomic(dir / "tokenizer_config.json", R"({"bos_token": "<|bos|>", "eos_token": null})");
    const auto from_json = load_tokenizer(dir.path());
    EXPECT_EQ(from_json->bos_id(), 261);
    EXPECT_EQ(from_json->vocab_size(), 262);
    for (std::string s : {" the 42", "hello, the\nworld", "x  y"})
        EXPECT_EQ(from_json->encode(s, true), from_gguf->encode(s, true)) << s;
    EXPECT_EQ(from_json->decode(from_json->encode("hello the", true)), "hello the");
}

TEST(BpeTiny, OtherTokenizerModelsAreRejectedWithAReason) {
    ScratchDir dir;
    GgufWriter w;
    w.add_string("tokenizer.ggml.model", "llama");
    w.write(dir / "spm.gguf");
    expect_error([&] { (void)bpe_from_gguf(GgufFile(dir / "spm.gguf")); }, "E5400", {"gpt2", "found llama", "SentencePiece"});
    GgufWriter none;
    none.add_string("tokenizer.ggml.model", "rwkv");
    none.write(dir / "rwkv.gguf");
    expect_error([&] { (void)load_tokenizer(dir / "rwkv.gguf"); }, "E5400", {"found rwkv"});
}

// ---- the real model -----------------------------------------------------------------------

TEST(BpeSmolLM2, MatchesRecordedReferenceIds) {
    const auto model = default_model_path();
    HALO_SKIP_UNLESS_INSTALLED(model);
    const auto tok = load_tokenizer(model);
    EXPECT_EQ(tok->vocab_size(), 49152);
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);
    std::ifstream in(std::filesystem::path(HALO_TEST_DATA_DIR) / "model" / "smollm2_tokens.json");
    const auto ref = nlohmann::json::parse(in);
    EXPECT_EQ(ref["pre"], "smollm");
    ASSERT_GE(ref["cases"].size(), 10u);
    for (const auto& c : ref["cases"]) {
        const std::string text = c["text"];
        const auto want = c["ids"].get<std::vector<std::int32_t>>();
        EXPECT_EQ(tok->encode(text, false), want) << "text: " << text;
        EXPECT_EQ(tok->decode(want), text);
    }
}

}  // namespace
}  // namespace halo::model
