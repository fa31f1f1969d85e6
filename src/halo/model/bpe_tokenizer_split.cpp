// The GPT-2 pre-tokenizer regex, written out by hand (std::regex has no \p{..} classes and is
// slow). Each alternative is tried in the regex's order at the current position; the first
// that matches wins, as in a backtracking regex engine.
#include <array>
#include <string>

#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/bpe_tokenizer_unicode.hpp"

namespace halo::model {
namespace {

// Names as GGUF's tokenizer.ggml.pre spells them (llama.cpp's convert script writes them).
constexpr std::array<PreTokenizer, 12> kPreTokenizers = {{
    {"gpt2", SplitRegex::gpt2, false, false},
    {"default", SplitRegex::gpt2, false, false},
    {"smollm", SplitRegex::gpt2, true, false},
    {"starcoder", SplitRegex::gpt2, true, false},
    {"refact", SplitRegex::gpt2, true, false},
    {"codeshell", SplitRegex::gpt2, true, false},
    {"command-r", SplitRegex::gpt2, true, false},
    {"llama3", SplitRegex::llama3, false, true},
    {"llama-v3", SplitRegex::llama3, false, true},
    {"llama-bpe", SplitRegex::llama3, false, true},
    {"qwen2", SplitRegex::qwen2, false, false},
    {"deepseek-r1-qwen", SplitRegex::qwen2, false, false},
}};

using unicode::decode_utf8;

// Code points of a piece with their byte offsets (offsets.back() == piece size).
struct Decoded {
    std::vector<char32_t> cps;
    std::vector<std::size_t> offsets;
};

Decoded decode_all(std::string_view s) {
    Decoded d;
    for (std::size_t pos = 0; pos < s.size();) {
        std::size_t len;
        d.cps.push_back(decode_utf8(s, pos, len));
        d.offsets.push_back(pos);
        pos += len;
    }
    d.offsets.push_back(s.size());
    return d;
}

// Length in code points of the regex match at i (always >= 1).
std::size_t match_at(const std::vector<char32_t>& cp, std::size_t i) {
    const std::size_t n = cp.size();
    const auto run = [&](std::size_t from, bool (*cls)(char32_t)) {
        std::size_t j = from;
        while (j < n && cls(cp[j])) ++j;
        return j - from;
    };
    // 's|'t|'re|'ve|'m|'ll|'d
    if (const std::size_t c = unicode::contraction_length(cp, i, false)) return c;
    // ' ?X+' for X in letters, numbers, others: an optional single U+0020 then a run.
    const std::size_t lead = (cp[i] == ' ' && i + 1 < n) ? 1 : 0;
    for (auto cls : {unicode::is_letter, unicode::is_number, unicode::is_other}) {
        // Without the space the class would have to match at cp[i] == ' ', which no class does.
        if (std::size_t len = run(i + lead, cls)) return lead + len;
    }
    // \s+(?!\S) then \s+: a whitespace run, leaving its last character for the next token
    // when a non-space follows (so " word" keeps its space).
    const std::size_t ws = run(i, unicode::is_space);
    if (ws == 0) return 1;  // unreachable: every code point is in one class; kept for safety
    if (i + ws == n || ws == 1) return ws;
    return ws - 1;
}

}  // namespace

const PreTokenizer* find_pre_tokenizer(std::string_view name) {
    for (const auto& p : kPreTokenizers)
        if (p.name == name) return &p;
    return nullptr;
}

std::string pre_tokenizer_names() {
    std::string names;
    for (const auto& p : kPreTokenizers) names += (names.empty() ? "" : ", ") + std::string(p.name);
    return names;
}

std::vector<std::string_view> pre_tokenize(std::string_view text, const PreTokenizer& pre) {
    switch (pre.regex) {
        case SplitRegex::gpt2: return pre_tokenize(text, pre.individual_digits);
        case SplitRegex::llama3: return pre_tokenize_llama3(text, 3);
        case SplitRegex::qwen2: return pre_tokenize_llama3(text, 1);
    }
    return {};
}

std::vector<std::string_view> pre_tokenize(std::string_view text, bool individual_digits) {
    std::vector<std::string_view> out;
    const auto split = [&](std::string_view piece) {
        const Decoded d = decode_all(piece);
        for (std::size_t i = 0; i < d.cps.size();) {
            const std::size_t len = match_at(d.cps, i);
            out.push_back(piece.substr(d.offsets[i], d.offsets[i + len] - d.offsets[i]));
            i += len;
        }
    };
    if (!individual_digits) {
        split(text);
        return out;
    }
    const Decoded d = decode_all(text);
    std::size_t start = 0;  // code-point index where the current non-digit piece began
    for (std::size_t i = 0; i < d.cps.size(); ++i) {
        if (!unicode::is_number(d.cps[i])) continue;
        if (start < i) split(text.substr(d.offsets[start], d.offsets[i] - d.offsets[start]));
        out.push_back(text.substr(d.offsets[i], d.offsets[i + 1] - d.offsets[i]));
        start = i + 1;
    }
    if (start < d.cps.size()) split(text.substr(d.offsets[start]));
    return out;
}

}  // namespace halo::model
