// Byte-level BPE (GPT-2 style), as SmolLM2, Llama 3, Qwen2 and GPT-2 use it.
//
// encode: text -> pre-tokens (a hand-written splitter equal to the regex of the vocabulary's
// pre-tokenizer, see PreTokenizer) -> each pre-token's bytes mapped to printable characters
// (GPT-2's bytes_to_unicode: bytes 0x21-0x7E, 0xA1-0xAC, 0xAE-0xFF map to themselves, the other
// 68 to U+0100...) -> BPE merges, lowest rank first -> token ids. Special tokens in the text
// are not parsed (they are encoded as plain text), like llama.cpp with parse_special=false.
// decode: ids -> token strings -> characters mapped back to bytes; control tokens are skipped.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "halo/model/tokenizer.hpp"

namespace halo::model {

class GgufFile;

// The split regex a pre-tokenizer runs (each written out by hand in bpe_tokenizer_split*.cpp).
enum class SplitRegex {
    gpt2,    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
    llama3,  // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
             // \s*[\r\n]+|\s+(?!\S)|\s+
    qwen2,   // as llama3 with \p{N} (one digit per piece) instead of \p{N}{1,3}
};

// A pre-tokenizer row: the name a vocabulary uses (GGUF tokenizer.ggml.pre) and what it does.
struct PreTokenizer {
    std::string_view name;
    SplitRegex regex;
    // Every \p{N} code point is its own piece before the GPT-2 regex runs (HF Digits with
    // individual_digits=true; llama.cpp's "\p{N}" first expression).
    bool individual_digits;
    // A pre-token that is itself a vocabulary token is emitted whole, without BPE merges (HF's
    // BPE ignore_merges, which Llama 3's tokenizer.json sets; llama.cpp does the same for it).
    bool ignore_merges;
};
const PreTokenizer* find_pre_tokenizer(std::string_view name);
// The rows' names, comma-separated, for messages.
std::string pre_tokenizer_names();

// Splits text the way GPT-2's regex does (after splitting digits apart when
// `individual_digits`). Returns views into `text`.
std::vector<std::string_view> pre_tokenize(std::string_view text, bool individual_digits);
// Splits text with the row's regex.
std::vector<std::string_view> pre_tokenize(std::string_view text, const PreTokenizer& pre);
// The Llama 3 / Qwen2 split (max_digits 3 or 1). Returns views into `text`.
std::vector<std::string_view> pre_tokenize_llama3(std::string_view text, std::size_t max_digits);

// GPT-2's byte <-> character map.
char32_t byte_to_char(std::uint8_t b);

enum class TokenType : std::int32_t { normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

struct BpeVocab {
    std::vector<std::string> tokens;      // id -> token text (byte-mapped characters)
    std::vector<std::int32_t> types;      // id -> TokenType; empty = all normal
    std::vector<std::string> merges;      // "left right", rank = index
    std::int32_t bos_id = -1, eos_id = -1, unk_id = -1;
    std::string pre = "gpt2";             // pre-tokenizer name
    int ignore_merges = -1;               // 0/1 from tokenizer.json's model.ignore_merges; -1 = the row's
    std::string source;                   // file, for messages
};

class BpeTokenizer final : public Tokenizer {
public:
    // Validates: every merge is two known tokens whose concatenation is a token (E5402),
    // the pre-tokenizer is known (E5403), special ids in range (E5401).
    explicit BpeTokenizer(BpeVocab vocab);

    std::vector<std::int32_t> encode(std::string_view text, bool add_bos) const override;
    std::string decode(const std::vector<std::int32_t>& ids) const override;
    int vocab_size() const override { return static_cast<int>(vocab_.tokens.size()); }
    std::int32_t bos_id() const override { return vocab_.bos_id; }
    std::int32_t eos_id() const override { return vocab_.eos_id; }
    std::int32_t token_id(const std::string& token_text) const;  // -1 when absent

private:
    void encode_piece(std::string_view piece, std::vector<std::int32_t>& out) const;

    BpeVocab vocab_;
    const PreTokenizer* pre_ = nullptr;
    bool ignore_merges_ = false;
    std::unordered_map<std::string, std::int32_t> ids_;
    std::unordered_map<std::string, std::int32_t> merge_rank_;  // "left right" -> rank
    std::unordered_map<char32_t, std::uint8_t> char_to_byte_;
};

// From GGUF metadata (tokenizer.ggml.model "gpt2"); E5400 for other models.
std::unique_ptr<BpeTokenizer> bpe_from_gguf(const GgufFile& file);
// From a Hugging Face tokenizer.json (model.type "BPE"); special ids from a sibling
// tokenizer_config.json when present.
std::unique_ptr<BpeTokenizer> bpe_from_tokenizer_json(const std::filesystem::path& path);

}  // namespace halo::model
