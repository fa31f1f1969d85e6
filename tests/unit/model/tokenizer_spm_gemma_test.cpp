// Gemma's SentencePiece specifics: user-defined tokens (newline/space/tab runs, HTML tags)
// split off the raw text before merging, longest first; no space prefix. Checked on a tiny
// vocabulary by hand and, when installed, on the real Gemma 3 270M vocabulary against ids
// recorded from llama.cpp's llama-tokenize (tests/data/model/record_gemma_tokens.py).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/spm_special_split.hpp"
#include "halo/model/spm_tokenizer.hpp"
#include "halo/util/atomic_file.hpp"

namespace halo::model {
namespace {

TEST(SpmUserDefined, LongestFirstLeftToRight) {
    const auto sorted = sort_user_defined({{"\n", 10}, {"\n\n", 11}, {"  ", 12}, {"", 13}, {"<b>", 14}});
    ASSERT_EQ(sorted.size(), 4u);
    EXPECT_EQ(sorted[0].id, 14);  // "<b>" (3 bytes)
    EXPECT_EQ(sorted[1].id, 11);  // "\n\n" before "  " (same length, lower id)
    const auto f = split_user_defined("a\n\n\nb  c<b>", sorted);
    // "\n\n\n" -> "\n\n" then "\n"; "  " whole; "<b>" whole.
    std::vector<std::pair<std::string, std::int32_t>> got;
    for (const auto& x : f) got.emplace_back(std::string(x.text), x.token);
    const std::vector<std::pair<std::string, std::int32_t>> want = {
        {"a", -1}, {"\n\n", 11}, {"\n", 10}, {"b", -1}, {"  ", 12}, {"c", -1}, {"<b>", 14}};
    EXPECT_EQ(got, want);
    EXPECT_TRUE(split_user_defined("", sorted).empty() || split_user_defined("", sorted)[0].text.empty());
}

TEST(SpmUserDefined, TokenizerSplitsThemAndPrefixesEachFragment) {
    SpmVocab v;
    const auto add = [&](std::string t, float score, TokenType type) {
        v.tokens.push_back(std::move(t));
        v.scores.push_back(score);
        v.types.push_back(static_cast<std::int32_t>(type));
    };
    add("<unk>", 0, TokenType::unknown);             // 0
    add("\xE2\x96\x81", -1, TokenType::normal);      // 1 ▁
    add("a", -2, TokenType::normal);                 // 2
    add("\xE2\x96\x81" "a", -0.5, TokenType::normal);// 3 ▁a
    add("\n\n", 0, TokenType::user_defined);         // 4
    add("\n", -5, TokenType::normal);                // 5 (a normal piece: merging could not make "\n\n")
    v.unk_id = 0;
    v.source = "tiny";
    SpmTokenizer with_prefix(v);
    // llama.cpp prefixes every raw fragment (each follows a special token or starts the text).
    EXPECT_EQ(with_prefix.encode("a\n\na", false), (std::vector<std::int32_t>{3, 4, 3}));
    v.add_space_prefix = false;
    SpmTokenizer gemma_like(v);
    EXPECT_EQ(gemma_like.encode("a\n\na a", false), (std::vector<std::int32_t>{2, 4, 2, 3}));
    EXPECT_EQ(gemma_like.decode({2, 4, 2, 3}), "a\n\na a");
}

TEST(SpmGemma3, MatchesLlamaCppIds) {
    const auto model = resolve_model_path("gemma3-270m");
    if (!std::filesystem::exists(model)) GTEST_SKIP() << model << " not installed (scripts/setup.sh data)";
    const auto tok = load_tokenizer(model);
    EXPECT_EQ(tok->vocab_size(), 262144);
    EXPECT_EQ(tok->bos_id(), 2);
    std::ifstream in(std::filesystem::path(HALO_TEST_DATA_DIR) / "model" / "gemma3_tokens.json");
    const auto ref = nlohmann::json::parse(in);
    ASSERT_GE(ref["cases"].size(), 8u);
    for (const auto& c : ref["cases"]) {
        const std::string text = c["text"];
        EXPECT_EQ(tok->encode(text, false), c["ids"].get<std::vector<std::int32_t>>()) << "text: " << text;
    }
    const auto eval = default_eval_text_path();
    if (!std::filesystem::exists(eval)) return;
    const auto ids = tok->encode(read_file(eval), false);
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64 over each id's 4 little-endian bytes
    for (std::int32_t id : ids)
        for (int b = 0; b < 4; ++b) h = (h ^ ((static_cast<std::uint32_t>(id) >> (8 * b)) & 0xff)) * 1099511628211ull;
    EXPECT_EQ(static_cast<std::int64_t>(ids.size()), ref["eval_txt"]["tokens"].get<std::int64_t>());
    EXPECT_EQ(std::to_string(h), ref["eval_txt"]["fnv1a64"].get<std::string>());
}

}  // namespace
}  // namespace halo::model
