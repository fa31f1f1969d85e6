// A realistic SentencePiece vocabulary for tests and the tokenizer benchmark: the default
// model's 49,152 BPE pieces with GPT-2's "Ġ" spelled as SentencePiece's "▁", score = -id
// (earlier pieces merge first, as ranks do in BPE), plus the 256 byte tokens "<0xXX>".
#pragma once

#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "halo/model/gguf_reader.hpp"
#include "halo/model/spm_tokenizer.hpp"

namespace halo::model::testing {

inline SpmVocab spm_vocab_from_bpe_gguf(const std::filesystem::path& gguf) {
    const GgufFile f(gguf);
    SpmVocab v;
    const GgufValue* tokens = f.find("tokenizer.ggml.tokens");
    if (!tokens) return v;
    for (std::size_t i = 0; i < tokens->strings.size(); ++i) {
        const std::string& t = tokens->strings[i];
        std::string out;
        for (std::size_t p = 0; p < t.size(); ++p) {
            if (t.compare(p, 2, "\xC4\xA0") == 0) {
                out += "\xE2\x96\x81";
                ++p;
            } else {
                out.push_back(t[p]);
            }
        }
        v.tokens.push_back(out);
        v.scores.push_back(-static_cast<float>(i));
    }
    for (int b = 0; b < 256; ++b) {
        v.tokens.push_back(fmt::format("<0x{:02X}>", b));
        v.scores.push_back(0.0f);
    }
    v.unk_id = 0;
    v.source = gguf.string();
    return v;
}

}  // namespace halo::model::testing
