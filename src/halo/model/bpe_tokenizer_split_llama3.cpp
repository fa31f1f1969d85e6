// The Llama 3 / Qwen2 pre-tokenizer regex, written out by hand like GPT-2's (see
// bpe_tokenizer_split.cpp):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+
// with D = 3 (Llama 3) or 1 (Qwen2). At each position the alternatives are tried in order and
// the first that matches wins, with the backtracking a regex engine would do inside each one.
// Case-insensitivity covers ASCII letters only (as llama.cpp's adapted regex does); Unicode
// case folding (U+017F long s matching 's') is not modelled.
#include <algorithm>

#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/bpe_tokenizer_unicode.hpp"

namespace halo::model {
namespace {

bool is_newline(char32_t c) { return c == '\r' || c == '\n'; }

// Length in code points of the match at i (always >= 1).
std::size_t match_at(const std::vector<char32_t>& cp, std::size_t i, std::size_t max_digits) {
    const std::size_t n = cp.size();
    const auto run = [&](std::size_t from, bool (*cls)(char32_t)) {
        std::size_t j = from;
        while (j < n && cls(cp[j])) ++j;
        return j - from;
    };
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (const std::size_t c = unicode::contraction_length(cp, i, true)) return c;
    // [^\r\n\p{L}\p{N}]?\p{L}+ : a letter run, optionally led by one character that is neither a
    // newline, a letter nor a number (a space, a tab, punctuation: " word", ".word").
    if (unicode::is_letter(cp[i])) return run(i, unicode::is_letter);
    if (!is_newline(cp[i]) && !unicode::is_number(cp[i]) && i + 1 < n && unicode::is_letter(cp[i + 1]))
        return 1 + run(i + 1, unicode::is_letter);
    // \p{N}{1,D}
    if (unicode::is_number(cp[i])) return std::min(run(i, unicode::is_number), max_digits);
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    const std::size_t lead = cp[i] == ' ' ? 1 : 0;
    if (const std::size_t others = run(i + lead, unicode::is_other)) {
        const std::size_t end = i + lead + others;
        return end - i + run(end, is_newline);
    }
    // \s*[\r\n]+ : the whitespace run up to and including its last newline.
    const std::size_t ws = run(i, unicode::is_space);
    for (std::size_t k = i + ws; k > i; --k)
        if (is_newline(cp[k - 1])) return k - i;
    // \s+(?!\S) then \s+: leave the run's last space to the word that follows.
    if (ws == 0) return 1;  // unreachable: every code point is in one class; kept for safety
    if (i + ws == n || ws == 1) return ws;
    return ws - 1;
}

}  // namespace

std::vector<std::string_view> pre_tokenize_llama3(std::string_view text, std::size_t max_digits) {
    std::vector<char32_t> cps;
    std::vector<std::size_t> offsets;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t len;
        cps.push_back(unicode::decode_utf8(text, pos, len));
        offsets.push_back(pos);
        pos += len;
    }
    offsets.push_back(text.size());
    std::vector<std::string_view> out;
    for (std::size_t i = 0; i < cps.size();) {
        const std::size_t len = match_at(cps, i, max_digits);
        out.push_back(text.substr(offsets[i], offsets[i + len] - offsets[i]));
        i += len;
    }
    return out;
}

}  // namespace halo::model
