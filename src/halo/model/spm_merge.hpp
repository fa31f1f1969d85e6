// The merge step of SentencePiece-style BPE (spm_tokenizer.hpp): starting from the UTF-8
// characters of the normalized text, repeatedly merge the adjacent pair whose concatenation is a
// piece with the highest score, leftmost on ties, until no adjacent pair is a piece.
//
// Two implementations with identical results:
//  - spm_merge_reference: the rule as stated, rescanning every pair after each merge: O(n^2)
//    (4.6 s on 20 kB of text; the plain reference the tests compare against);
//  - spm_merge: symbols in a doubly linked list and candidate pairs in a priority queue ordered by
//    (score desc, left position asc); a popped pair whose symbols changed since it was queued is
//    stale and skipped. Every current pair is always in the queue, so the pair popped is the one the
//    reference would pick: O(n log n). With the table's character bigrams, the text is first cut
//    where no piece can span two neighbouring characters (in practice before every "▁" of a
//    BPE-style vocabulary) and each segment is merged with its own small queue: merges in
//    different segments never interact, so the result is the same, and the queues stay in cache.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace halo::model {

// A piece of the merged text: bytes [begin, begin + size) of the normalized text.
struct SpmPiece {
    std::size_t begin = 0;
    std::size_t size = 0;
    bool operator==(const SpmPiece&) const = default;
};

// Piece text -> token id, looked up by string_view without building a std::string per lookup
// (the merge looks up every adjacent pair: about two lookups per input byte).
struct SpmPieceHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using SpmPieceIds = std::unordered_map<std::string, std::int32_t, SpmPieceHash, std::equal_to<>>;

// Every pair of adjacent UTF-8 characters that occurs inside some piece ("th", "he" of "the").
// Where two neighbouring characters of the text are not such a pair, no piece can ever span
// them, so the merge can treat the two sides independently (see spm_merge).
using SpmCharBigrams = std::unordered_set<std::string, SpmPieceHash, std::equal_to<>>;
SpmCharBigrams spm_char_bigrams(const SpmPieceIds& ids);

struct SpmPieceTable {
    const SpmPieceIds& ids;                                    // piece text -> token id
    const std::vector<float>& scores;                          // by token id; finite
    const SpmCharBigrams* bigrams = nullptr;                   // optional: lets spm_merge cut the text
};

std::vector<SpmPiece> spm_merge_reference(std::string_view text, const SpmPieceTable& table);
std::vector<SpmPiece> spm_merge(std::string_view text, const SpmPieceTable& table);

}  // namespace halo::model
