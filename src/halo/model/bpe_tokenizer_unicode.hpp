// The Unicode classes the byte-level BPE pre-tokenizer needs (\p{L}, \p{N}, \s) as sorted
// code-point range tables (generated, see bpe_tokenizer_unicode.cpp), and a UTF-8 decoder
// that never fails: an invalid byte decodes as itself with length 1 (class "other"), so every
// input byte ends up in exactly one pre-token.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace halo::model::unicode {

struct CodeRange {
    char32_t first, last;
};
std::span<const CodeRange> letter_ranges();
std::span<const CodeRange> number_ranges();
std::span<const CodeRange> space_ranges();

bool is_letter(char32_t cp);
bool is_number(char32_t cp);
bool is_space(char32_t cp);

// Decodes the code point at s[pos]; sets `len` to its byte length (1 for an invalid byte,
// whose code point is reported as 0xFFFFFFFF: neither letter, number nor space).
char32_t decode_utf8(std::string_view s, std::size_t pos, std::size_t& len);
void append_utf8(std::string& out, char32_t cp);

}  // namespace halo::model::unicode
