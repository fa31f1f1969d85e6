#include "halo/model/spm_tokenizer.hpp"

#include <cmath>

#include <fmt/format.h>

#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/bpe_tokenizer_unicode.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/spm_merge.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {
constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space
}

SpmTokenizer::SpmTokenizer(SpmVocab vocab) : vocab_(std::move(vocab)) {
    const auto n = static_cast<std::int32_t>(vocab_.tokens.size());
    if (vocab_.scores.size() != vocab_.tokens.size())
        throw_bad_value("E5401", vocab_.source, "token score count differs from token count",
                        std::to_string(vocab_.tokens.size()), std::to_string(vocab_.scores.size()));
    if (!vocab_.types.empty() && vocab_.types.size() != vocab_.tokens.size())
        throw_bad_value("E5401", vocab_.source, "token type count differs from token count",
                        std::to_string(vocab_.tokens.size()), std::to_string(vocab_.types.size()));
    for (auto id : {vocab_.bos_id, vocab_.eos_id, vocab_.unk_id})
        if (id < -1 || id >= n)
            throw_bad_value("E5401", vocab_.source, "special token id out of range", fmt::format("-1..{}", n - 1),
                            std::to_string(id));
    // The merge order compares scores: a NaN would make the order meaningless.
    for (std::size_t i = 0; i < vocab_.scores.size(); ++i)
        if (!std::isfinite(vocab_.scores[i]))
            throw_bad_value("E5406", vocab_.source, fmt::format("score of token {} is not finite", i), "a finite score",
                            fmt::format("{}", vocab_.scores[i]));
    for (std::int32_t i = 0; i < n; ++i) ids_.emplace(vocab_.tokens[static_cast<std::size_t>(i)], i);
    bigrams_ = spm_char_bigrams(ids_);
    for (int b = 0; b < 256; ++b) {
        const auto it = ids_.find(fmt::format("<0x{:02X}>", b));
        byte_ids_[b] = it == ids_.end() ? -1 : it->second;
    }
    std::vector<UserDefinedToken> user_defined;
    for (std::size_t i = 0; i < vocab_.types.size(); ++i)
        if (vocab_.types[i] == static_cast<std::int32_t>(TokenType::user_defined))
            user_defined.push_back({vocab_.tokens[i], static_cast<std::int32_t>(i)});
    user_defined_ = sort_user_defined(std::move(user_defined));
}

std::vector<std::int32_t> SpmTokenizer::encode(std::string_view text, bool add_bos) const {
    std::vector<std::int32_t> out;
    if (add_bos && vocab_.bos_id >= 0) out.push_back(vocab_.bos_id);
    if (user_defined_.empty()) {
        encode_fragment(text, out);
        return out;
    }
    // Every raw fragment follows a matched token or starts the text, so each gets the space
    // prefix (when the vocabulary asks for one), as in llama.cpp's SPM path.
    for (const auto& f : split_user_defined(text, user_defined_)) {
        if (f.token >= 0) out.push_back(f.token);
        else encode_fragment(f.text, out);
    }
    return out;
}

void SpmTokenizer::encode_fragment(std::string_view text, std::vector<std::int32_t>& out) const {
    if (text.empty()) return;
    std::string norm = vocab_.add_space_prefix ? std::string(kSpace) : std::string();
    for (char c : text) {
        if (c == ' ') norm += kSpace;
        else norm.push_back(c);
    }
    // Best-scoring mergeable pair first, leftmost on ties, until none is a token (spm_merge.hpp).
    std::vector<std::string_view> symbols;
    for (const SpmPiece& p : spm_merge(norm, SpmPieceTable{ids_, vocab_.scores, &bigrams_}))
        symbols.push_back(std::string_view(norm).substr(p.begin, p.size));
    for (const auto& s : symbols) {
        if (const auto it = ids_.find(s); it != ids_.end()) {
            out.push_back(it->second);
            continue;
        }
        for (unsigned char b : s) {  // merged symbols are always tokens: only characters get here
            if (byte_ids_[b] >= 0) out.push_back(byte_ids_[b]);
            else if (vocab_.unk_id >= 0) out.push_back(vocab_.unk_id);
            else
                throw_bad_value("E5404", vocab_.source, "character has no token, no byte token and no unknown token",
                                "a vocabulary with byte fallback", "\"" + std::string(s) + "\"");
        }
    }
}

std::string SpmTokenizer::decode(const std::vector<std::int32_t>& ids) const {
    std::string out;
    for (auto id : ids) {
        if (id < 0 || id >= vocab_size()) continue;
        const auto type = vocab_.types.empty() ? static_cast<std::int32_t>(TokenType::normal)
                                               : vocab_.types[static_cast<std::size_t>(id)];
        if (type == static_cast<std::int32_t>(TokenType::control)) continue;
        const std::string& t = vocab_.tokens[static_cast<std::size_t>(id)];
        if (type == static_cast<std::int32_t>(TokenType::byte) && t.size() == 6) {
            out.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
            continue;
        }
        for (std::size_t pos = 0; pos < t.size();) {
            if (t.compare(pos, kSpace.size(), kSpace) == 0) {
                out.push_back(' ');
                pos += kSpace.size();
            } else {
                out.push_back(t[pos++]);
            }
        }
    }
    if (vocab_.add_space_prefix && !out.empty() && out.front() == ' ') out.erase(0, 1);
    return out;
}

std::unique_ptr<SpmTokenizer> spm_from_gguf(const GgufFile& f) {
    SpmVocab v;
    v.source = f.path().string();
    const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
    const GgufValue* scores = f.find("tokenizer.ggml.scores");
    if (!tokens || tokens->element_type != GgufType::string || !tokens->is_array())
        throw_bad_value("E5401", v.source + ": tokenizer.ggml.tokens", "tokenizer array is missing or not strings",
                        "array of string", tokens ? std::string(gguf_type_name(tokens->type)) : "none");
    if (!scores || !scores->is_array() || scores->element_type != GgufType::f32)
        throw_bad_value("E5401", v.source + ": tokenizer.ggml.scores", "SentencePiece scores are missing",
                        "array of f32", scores ? std::string(gguf_type_name(scores->type)) : "none");
    v.tokens = tokens->strings;
    for (double s : scores->floats) v.scores.push_back(static_cast<float>(s));
    if (const GgufValue* types = f.find("tokenizer.ggml.token_type"); types && types->is_array())
        for (auto t : types->ints) v.types.push_back(static_cast<std::int32_t>(t));
    v.bos_id = static_cast<std::int32_t>(f.get_int("tokenizer.ggml.bos_token_id").value_or(-1));
    v.eos_id = static_cast<std::int32_t>(f.get_int("tokenizer.ggml.eos_token_id").value_or(-1));
    v.unk_id = static_cast<std::int32_t>(f.get_int("tokenizer.ggml.unknown_token_id").value_or(-1));
    v.add_space_prefix = f.get_bool("tokenizer.ggml.add_space_prefix").value_or(true);
    return std::make_unique<SpmTokenizer>(std::move(v));
}

}  // namespace halo::model
