// SentencePiece-style BPE as llama.cpp runs it for GGUF vocabularies with
// tokenizer.ggml.model = "llama" (Llama 1/2, Mistral, TinyLlama): spaces become U+2581 "▁"
// (plus one in front when add_space_prefix), the text is split into UTF-8 characters, and the
// adjacent pair whose concatenation is a token with the highest score is merged (leftmost on
// ties) until no pair is a token. Characters without a token fall back to the byte tokens
// "<0xXX>", else to unk. decode reverses it: "▁" -> " ", byte tokens -> bytes, control tokens
// dropped, and the prefix space removed. User-defined tokens (Gemma) are split off the raw
// text first (spm_special_split.hpp).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "halo/model/spm_merge.hpp"
#include "halo/model/spm_special_split.hpp"
#include "halo/model/tokenizer.hpp"

namespace halo::model {

class GgufFile;

struct SpmVocab {
    std::vector<std::string> tokens;
    std::vector<float> scores;          // higher merges first
    std::vector<std::int32_t> types;    // TokenType values; empty = all normal
    std::int32_t bos_id = -1, eos_id = -1, unk_id = -1;
    bool add_space_prefix = true;
    std::string source;
};

class SpmTokenizer final : public Tokenizer {
public:
    explicit SpmTokenizer(SpmVocab vocab);  // E5401 when the arrays disagree or ids are out of range
    std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const override;
    std::string decode(const std::vector<std::int32_t>& ids) const override;
    int vocab_size() const override { return static_cast<int>(vocab_.tokens.size()); }
    std::int32_t bos_id() const override { return vocab_.bos_id; }
    std::int32_t eos_id() const override { return vocab_.eos_id; }

private:
    // The SentencePiece merge of one fragment of raw text (no user-defined tokens in it).
    void encode_fragment(std::string_view text, std::vector<std::int32_t>& out) const;

    SpmVocab vocab_;
    std::vector<UserDefinedToken> user_defined_;  // longest first (spm_special_split.hpp)
    SpmPieceIds ids_;
    SpmCharBigrams bigrams_;  // lets the merge work segment by segment (spm_merge.hpp)
    std::int32_t byte_ids_[256];
};

std::unique_ptr<SpmTokenizer> spm_from_gguf(const GgufFile& file);

}  // namespace halo::model
