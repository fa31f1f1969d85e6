// The Unicode classes the byte-level BPE pre-tokenizer needs (\p{L}, \p{N}, \s) as sorted
// code-point range tables (generated, see bpe_tokenizer_unicode.cpp), and a UTF-8 decoder
// that never fails: an invalid byte decodes as itself with length 1 (class "other"), so every
// input byte ends up in exactly one pre-token.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

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

// Neither space, letter nor number ([^\s\p{L}\p{N}]).
inline bool is_other(char32_t c) { return !is_space(c) && !is_letter(c) && !is_number(c); }

// The pre-tokenizers' first alternative, 's|'t|'re|'ve|'m|'ll|'d, at cp[i]: its length in code
// points, 0 for no match. `ascii_case_insensitive`: the (?i:...) form of Llama 3 and Qwen2
// (ASCII letters only, as llama.cpp's adapted regex); GPT-2's is case-sensitive.
inline std::size_t contraction_length(const std::vector<char32_t>& cp, std::size_t i, bool ascii_case_insensitive) {
    const std::size_t n = cp.size();
    if (cp[i] != '\'' || i + 1 >= n) return 0;
    const auto fold = [&](char32_t c) { return ascii_case_insensitive && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; };
    const char32_t a = fold(cp[i + 1]);
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (i + 2 < n) {
        const char32_t b = fold(cp[i + 2]);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    }
    return 0;
}

}  // namespace halo::model::unicode
