#include "halo/model/spm_special_split.hpp"

#include <algorithm>

namespace halo::model {

std::vector<UserDefinedToken> sort_user_defined(std::vector<UserDefinedToken> tokens) {
    std::erase_if(tokens, [](const UserDefinedToken& t) { return t.text.empty(); });
    std::stable_sort(tokens.begin(), tokens.end(), [](const UserDefinedToken& a, const UserDefinedToken& b) {
        return a.text.size() != b.text.size() ? a.text.size() > b.text.size() : a.id < b.id;
    });
    return tokens;
}

std::vector<TextFragment> split_user_defined(std::string_view text, const std::vector<UserDefinedToken>& sorted) {
    std::vector<TextFragment> fragments{{text, -1}};
    for (const auto& tok : sorted) {
        std::vector<TextFragment> next;
        next.reserve(fragments.size());
        for (const auto& f : fragments) {
            if (f.token >= 0) {
                next.push_back(f);
                continue;
            }
            std::size_t from = 0;
            for (std::size_t at = f.text.find(tok.text); at != std::string_view::npos; at = f.text.find(tok.text, from)) {
                if (at > from) next.push_back({f.text.substr(from, at - from), -1});
                next.push_back({f.text.substr(at, tok.text.size()), tok.id});
                from = at + tok.text.size();
            }
            if (from < f.text.size()) next.push_back({f.text.substr(from), -1});
        }
        fragments = std::move(next);
    }
    return fragments;
}

}  // namespace halo::model
