// The Llama 3 and Qwen2 byte-level BPE pre-tokenizers against Hugging Face tokenizers: llama.cpp's
// vocabulary-only GGUFs with their test texts (.inp) and the ids HF gave for them (.out), installed
// under data/vocab by scripts/setup_data.sh. Hand-written splits of the two regexes beside them.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "gguf_test_util.hpp"
#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/bpe_tokenizer_unicode.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/util/paths.hpp"
#include "../require_data.hpp"

namespace halo::model {
namespace {

using Pieces = std::vector<std::string_view>;

TEST(PreTokenizeLlama3, RegexAlternativesInOrder) {
    const PreTokenizer& llama3 = *find_pre_tokenizer("llama-bpe");
    EXPECT_EQ(pre_tokenize("Hello world", llama3), (Pieces{"Hello", " world"}));
    EXPECT_EQ(pre_tokenize("it's THEY'RE", llama3), (Pieces{"it", "'s", " THEY", "'RE"}));  // (?i:...)
    EXPECT_EQ(pre_tokenize("1234567", llama3), (Pieces{"123", "456", "7"}));               // \p{N}{1,3}
    EXPECT_EQ(pre_tokenize("x 12", llama3), (Pieces{"x", " ", "12"}));                     // no " ?" before digits
    EXPECT_EQ(pre_tokenize(".word\tword", llama3), (Pieces{".word", "\tword"}));           // [^\r\n\p{L}\p{N}]?\p{L}+
    EXPECT_EQ(pre_tokenize("a ...!\n\nb", llama3), (Pieces{"a", " ...!\n\n", "b"}));      //  ?[^\s\p{L}\p{N}]+[\r\n]*
    EXPECT_EQ(pre_tokenize("a \n \n  b", llama3), (Pieces{"a", " \n \n", " ", " b"}));    // \s*[\r\n]+ then \s+(?!\S)
    EXPECT_EQ(pre_tokenize("x   ", llama3), (Pieces{"x", "   "}));
    const PreTokenizer& qwen2 = *find_pre_tokenizer("qwen2");
    EXPECT_EQ(pre_tokenize("1234", qwen2), (Pieces{"1", "2", "3", "4"}));                  // \p{N}
}

TEST(PreTokenizeLlama3, PiecesCoverTheInputExactlyEvenWhenUtf8IsInvalid) {
    const std::string text = "ok \xff\xfe bad \xe2\x82 end\x80\r\n\r\n 1234 x";
    for (const char* name : {"llama-bpe", "qwen2"}) {
        std::string joined;
        for (auto p : pre_tokenize(text, *find_pre_tokenizer(name))) joined += p;
        EXPECT_EQ(joined, text) << name;
    }
}

// A tokenizer.json whose pre-tokenizer is Split(pattern) then ByteLevel, over a byte vocabulary.
std::filesystem::path write_split_tokenizer(const testing::ScratchDir& dir, const std::string& pattern, bool ignore_merges) {
    nlohmann::json vocab = nlohmann::json::object();
    for (int b = 0; b < 256; ++b) {
        std::string s;
        unicode::append_utf8(s, byte_to_char(static_cast<std::uint8_t>(b)));
        vocab[s] = b;
    }
    vocab["ab"] = 256;
    nlohmann::json j;
    j["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", nlohmann::json::array()}, {"ignore_merges", ignore_merges}};
    j["pre_tokenizer"] = {{"type", "Sequence"},
                          {"pretokenizers", {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}},
                                             {{"type", "ByteLevel"}, {"use_regex", false}}}}};
    const auto path = dir / "tokenizer.json";
    std::ofstream(path) << j.dump();
    return path;
}

TEST(BpeTokenizerJson, SplitPatternsOfLlama3AndQwen2AreRecognisedAndOthersRefused) {
    const testing::ScratchDir dir;
    const std::string llama3 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    // "ab" is a token but no merge makes it: only ignore_merges (Llama 3's setting) emits it whole.
    EXPECT_EQ(load_tokenizer(write_split_tokenizer(dir, llama3, true))->encode("ab 1234", false),
              (std::vector<std::int32_t>{256, ' ', '1', '2', '3', '4'}));
    EXPECT_EQ(load_tokenizer(write_split_tokenizer(dir, llama3, false))->encode("ab", false),
              (std::vector<std::int32_t>{'a', 'b'}));
    std::string qwen2 = llama3;
    qwen2.replace(qwen2.find(R"(\p{N}{1,3})"), 10, R"(\p{N})");
    EXPECT_EQ(load_tokenizer(write_split_tokenizer(dir, qwen2, false))->encode("12", false),
              (std::vector<std::int32_t>{'1', '2'}));
    testing::expect_error([&] { load_tokenizer(write_split_tokenizer(dir, R"(\d+)", false)); }, "E5407",
                          {"tokenizer.json", "Split pattern", "Llama 3 or Qwen2", "\\d+"});
}

struct VocabCase {
    std::string text;
    std::vector<std::int32_t> ids;
};

// llama.cpp's test format: texts separated by "\n__ggml_vocab_test__\n", one line of ids each.
std::vector<VocabCase> read_cases(const std::filesystem::path& inp, const std::filesystem::path& out) {
    std::ifstream fi(inp, std::ios::binary), fo(out);
    const std::string raw((std::istreambuf_iterator<char>(fi)), std::istreambuf_iterator<char>());
    std::vector<std::string> texts;
    const std::string sep = "\n__ggml_vocab_test__\n";
    for (std::size_t pos = 0; pos < raw.size();) {
        const std::size_t next = raw.find(sep, pos);
        texts.push_back(raw.substr(pos, next == std::string::npos ? std::string::npos : next - pos));
        if (next == std::string::npos) break;
        pos = next + sep.size();
    }
    std::vector<VocabCase> cases;
    for (std::string line; std::getline(fo, line);) {
        VocabCase c;
        std::istringstream ids(line);
        for (std::int32_t id; ids >> id;) c.ids.push_back(id);
        cases.push_back(std::move(c));
    }
    EXPECT_EQ(texts.size(), cases.size()) << inp;
    for (std::size_t i = 0; i < std::min(texts.size(), cases.size()); ++i) cases[i].text = texts[i];
    return cases;
}

void expect_matches_hugging_face(const std::string& vocab_name) {
    const auto dir = data_dir() / "vocab";
    const auto gguf = dir / ("ggml-vocab-" + vocab_name + ".gguf");
    HALO_SKIP_UNLESS_INSTALLED(gguf);
    const auto tok = load_tokenizer(gguf);
    const auto cases = read_cases(gguf.string() + ".inp", gguf.string() + ".out");
    ASSERT_GE(cases.size(), 30u);
    std::size_t equal = 0;
    for (const auto& c : cases) {
        const auto ids = tok->encode(c.text, /*add_bos=*/false);
        EXPECT_EQ(ids, c.ids) << vocab_name << " text \"" << c.text << "\"";
        equal += ids == c.ids;
        EXPECT_EQ(tok->decode(ids), c.text) << vocab_name;  // byte-level BPE round-trips
    }
    ::testing::Test::RecordProperty("cases_equal", static_cast<int>(equal));
}

TEST(BpeVocabLlama3, MatchesHuggingFaceIdsOnLlamaCppTestTexts) { expect_matches_hugging_face("llama-bpe"); }
TEST(BpeVocabQwen2, MatchesHuggingFaceIdsOnLlamaCppTestTexts) { expect_matches_hugging_face("qwen2"); }

}  // namespace
}  // namespace halo::model
