#include "halo/model/spm_merge.hpp"

#include <queue>

#include "halo/model/bpe_tokenizer_unicode.hpp"

namespace halo::model {
namespace {

// The UTF-8 characters of `text`, the starting symbols of both implementations.
std::vector<SpmPiece> characters(std::string_view text) {
    std::vector<SpmPiece> out;
    for (std::size_t pos = 0; pos < text.size();) {
        std::size_t len = 0;
        unicode::decode_utf8(text, pos, len);
        out.push_back({pos, len});
        pos += len;
    }
    return out;
}

const float* piece_score(std::string_view text, const SpmPieceTable& table) {
    const auto it = table.ids.find(text);
    return it == table.ids.end() ? nullptr : &table.scores[static_cast<std::size_t>(it->second)];
}

}  // namespace

SpmCharBigrams spm_char_bigrams(const SpmPieceIds& ids) {
    SpmCharBigrams out;
    for (const auto& [piece, id] : ids) {
        const auto chars = characters(piece);
        for (std::size_t i = 0; i + 1 < chars.size(); ++i)
            out.emplace(piece.substr(chars[i].begin, chars[i].size + chars[i + 1].size));
    }
    return out;
}

std::vector<SpmPiece> spm_merge_reference(std::string_view text, const SpmPieceTable& table) {
    std::vector<SpmPiece> symbols = characters(text);
    while (symbols.size() > 1) {
        std::size_t best_at = symbols.size();
        float best_score = 0;
        for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
            const float* score = piece_score(text.substr(symbols[i].begin, symbols[i].size + symbols[i + 1].size), table);
            if (!score) continue;
            if (best_at == symbols.size() || *score > best_score) {
                best_at = i;
                best_score = *score;
            }
        }
        if (best_at == symbols.size()) break;
        symbols[best_at].size += symbols[best_at + 1].size;
        symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best_at) + 1);
    }
    return symbols;
}

std::vector<SpmPiece> spm_merge(std::string_view text, const SpmPieceTable& table) {
    struct Symbol {
        SpmPiece piece;
        std::ptrdiff_t prev = -1, next = -1;  // -1: none
    };
    struct Pair {
        float score;
        std::size_t left;      // index of the left symbol (its start position orders ties)
        std::size_t size;      // bytes of left + right when queued: stale when they have changed
        bool operator<(const Pair& o) const {  // priority_queue pops the largest
            if (score != o.score) return score < o.score;
            return left > o.left;
        }
    };
    std::vector<Symbol> symbols;
    for (const auto& c : characters(text)) {
        const auto i = static_cast<std::ptrdiff_t>(symbols.size());
        symbols.push_back({c, i - 1, -1});
        if (i > 0) symbols[static_cast<std::size_t>(i - 1)].next = i;
    }
    std::priority_queue<Pair, std::vector<Pair>> queue;
    const auto try_pair = [&](std::ptrdiff_t left) {
        if (left < 0) return;
        const Symbol& l = symbols[static_cast<std::size_t>(left)];
        if (l.next < 0) return;
        const std::size_t size = l.piece.size + symbols[static_cast<std::size_t>(l.next)].piece.size;
        if (const float* score = piece_score(text.substr(l.piece.begin, size), table))
            queue.push({*score, static_cast<std::size_t>(left), size});
    };
    // Pops the best current pair and merges it, until no queued pair is current.
    const auto drain = [&] {
        while (!queue.empty()) {
            const Pair p = queue.top();
            queue.pop();
            Symbol& l = symbols[p.left];
            // Stale: the left symbol was merged away (size 0) or either side has grown since.
            if (l.piece.size == 0 || l.next < 0) continue;
            Symbol& r = symbols[static_cast<std::size_t>(l.next)];
            if (l.piece.size + r.piece.size != p.size) continue;
            l.piece.size = p.size;
            r.piece.size = 0;
            l.next = r.next;
            if (l.next >= 0) symbols[static_cast<std::size_t>(l.next)].prev = static_cast<std::ptrdiff_t>(p.left);
            try_pair(l.prev);
            try_pair(static_cast<std::ptrdiff_t>(p.left));
        }
    };
    // Segment by segment: a cut between characters i and i+1 where no piece contains both.
    const auto cut_after = [&](std::size_t i) {
        if (!table.bigrams) return false;
        const SpmPiece& a = symbols[i].piece;
        return !table.bigrams->count(text.substr(a.begin, a.size + symbols[i + 1].piece.size));
    };
    for (std::size_t begin = 0; begin < symbols.size();) {
        std::size_t end = begin + 1;  // the segment is [begin, end)
        while (end < symbols.size() && !cut_after(end - 1)) ++end;
        for (std::size_t i = begin; i + 1 < end; ++i) try_pair(static_cast<std::ptrdiff_t>(i));
        drain();
        begin = end;
    }
    std::vector<SpmPiece> out;
    for (std::ptrdiff_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next)
        out.push_back(symbols[static_cast<std::size_t>(i)].piece);
    return out;
}

}  // namespace halo::model
