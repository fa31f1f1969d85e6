#include <algorithm>

#include "halo/model/bpe_tokenizer_unicode.hpp"

namespace halo::model::unicode {
namespace {
bool in(std::span<const CodeRange> ranges, char32_t cp) {
    const auto it = std::upper_bound(ranges.begin(), ranges.end(), cp,
                                     [](char32_t c, const CodeRange& r) { return c < r.first; });
    return it != ranges.begin() && cp <= std::prev(it)->last;
}
}  // namespace

bool is_letter(char32_t cp) { return cp < 0x80 ? ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') : in(letter_ranges(), cp); }
bool is_number(char32_t cp) { return cp < 0x80 ? (cp >= '0' && cp <= '9') : in(number_ranges(), cp); }
bool is_space(char32_t cp) { return in(space_ranges(), cp); }

char32_t decode_utf8(std::string_view s, std::size_t pos, std::size_t& len) {
    const auto b0 = static_cast<unsigned char>(s[pos]);
    const auto invalid = [&] {
        len = 1;
        return static_cast<char32_t>(0xFFFFFFFF);
    };
    if (b0 < 0x80) {
        len = 1;
        return b0;
    }
    std::size_t n;
    char32_t cp;
    if ((b0 & 0xE0) == 0xC0) { n = 2; cp = b0 & 0x1F; }
    else if ((b0 & 0xF0) == 0xE0) { n = 3; cp = b0 & 0x0F; }
    else if ((b0 & 0xF8) == 0xF0) { n = 4; cp = b0 & 0x07; }
    else return invalid();
    if (pos + n > s.size()) return invalid();
    for (std::size_t i = 1; i < n; ++i) {
        const auto b = static_cast<unsigned char>(s[pos + i]);
        if ((b & 0xC0) != 0x80) return invalid();
        cp = (cp << 6) | (b & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return invalid();
    len = n;
    return cp;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

}  // namespace halo::model::unicode
