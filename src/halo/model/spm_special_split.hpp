// Gemma-style SentencePiece vocabularies carry "user-defined" tokens (token type 4: runs of
// newlines, tabs and spaces, HTML tags) that are matched in the raw text before any merging,
// as llama.cpp (tokenizer_st_partition) and Hugging Face tokenizers (added tokens) do: longest
// token first, each occurrence left to right, in the fragments not already matched. Control
// and unknown tokens are not matched (special-token text is encoded as plain text).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace halo::model {

struct TextFragment {
    std::string_view text;   // raw text to encode (when token < 0)
    std::int32_t token = -1; // a matched user-defined token
};

struct UserDefinedToken {
    std::string text;
    std::int32_t id;
};

// Sorts by length, longest first (ties: lower id first), dropping empty texts.
std::vector<UserDefinedToken> sort_user_defined(std::vector<UserDefinedToken> tokens);

// Splits `text` at every occurrence of the (sorted) user-defined tokens.
std::vector<TextFragment> split_user_defined(std::string_view text, const std::vector<UserDefinedToken>& sorted);

}  // namespace halo::model
