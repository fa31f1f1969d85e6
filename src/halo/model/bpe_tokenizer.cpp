#include "halo/model/bpe_tokenizer.hpp"

#include <array>
#include <climits>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/model/bpe_tokenizer_unicode.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/spm_tokenizer.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::model {

namespace {
// Printable Latin-1 bytes stand for themselves; the other 68 move to U+0100 + k in byte order
// (GPT-2's bytes_to_unicode), so every byte is a visible character in the vocabulary.
std::array<char32_t, 256> build_byte_chars() {
    const auto printable = [](int x) { return (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || (x >= 0xAE && x <= 0xFF); };
    std::array<char32_t, 256> t{};
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) t[static_cast<std::size_t>(b)] = printable(b) ? static_cast<char32_t>(b) : next++;
    return t;
}
// The pre-tokenizer row whose regex a tokenizer.json Split pattern is ("" when none).
std::string split_pre_tokenizer_of(const std::string& regex) {
    const std::string tail = R"(|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    const std::string head = R"((?i:'s|'t|'re|'ve|'m|'ll|'d))";
    if (regex == head + tail) return "llama3";
    std::string qwen_tail = tail;
    qwen_tail.replace(qwen_tail.find(R"(\p{N}{1,3})"), 10, R"(\p{N})");
    if (regex == head + qwen_tail) return "qwen2";
    return "";
}
}  // namespace

char32_t byte_to_char(std::uint8_t b) {
    static const std::array<char32_t, 256> table = build_byte_chars();
    return table[b];
}

BpeTokenizer::BpeTokenizer(BpeVocab vocab) : vocab_(std::move(vocab)) {
    pre_ = find_pre_tokenizer(vocab_.pre);
    if (!pre_)
        throw_bad_value("E5403", vocab_.source, fmt::format("unknown pre-tokenizer \"{}\"", vocab_.pre),
                        "one of " + pre_tokenizer_names(), vocab_.pre,
                        "the vocabulary needs a pre-tokenizer halo does not implement yet");
    ignore_merges_ = vocab_.ignore_merges < 0 ? pre_->ignore_merges : vocab_.ignore_merges == 1;
    const auto n = static_cast<std::int32_t>(vocab_.tokens.size());
    if (!vocab_.types.empty() && vocab_.types.size() != vocab_.tokens.size())
        throw_bad_value("E5401", vocab_.source, "token type count differs from token count",
                        std::to_string(vocab_.tokens.size()), std::to_string(vocab_.types.size()));
    for (auto id : {vocab_.bos_id, vocab_.eos_id, vocab_.unk_id})
        if (id < -1 || id >= n)
            throw_bad_value("E5401", vocab_.source, "special token id out of range", fmt::format("-1..{}", n - 1),
                            std::to_string(id));
    ids_.reserve(vocab_.tokens.size());
    for (std::int32_t i = 0; i < n; ++i) ids_.emplace(vocab_.tokens[static_cast<std::size_t>(i)], i);  // first id wins
    merge_rank_.reserve(vocab_.merges.size());
    for (std::size_t r = 0; r < vocab_.merges.size(); ++r) {
        const std::string& m = vocab_.merges[r];
        const auto space = m.find(' ');
        if (space == std::string::npos || space == 0 || space + 1 == m.size() || m.find(' ', space + 1) != std::string::npos)
            throw_bad_value("E5402", fmt::format("{}: merge {}", vocab_.source, r), "malformed merge", "\"left right\"",
                            "\"" + m + "\"");
        const std::string joined = m.substr(0, space) + m.substr(space + 1);
        if (!ids_.count(m.substr(0, space)) || !ids_.count(m.substr(space + 1)) || !ids_.count(joined))
            throw_bad_value("E5402", fmt::format("{}: merge {}", vocab_.source, r), "merge refers to a token not in the vocabulary",
                            "both parts and their concatenation in the vocabulary", "\"" + m + "\"");
        merge_rank_.emplace(m, static_cast<std::int32_t>(r));
    }
    for (int b = 0; b < 256; ++b) char_to_byte_[byte_to_char(static_cast<std::uint8_t>(b))] = static_cast<std::uint8_t>(b);
}

std::int32_t BpeTokenizer::token_id(const std::string& token_text) const {
    const auto it = ids_.find(token_text);
    return it == ids_.end() ? -1 : it->second;
}

void BpeTokenizer::encode_piece(std::string_view piece, std::vector<std::int32_t>& out) const {
    std::vector<std::string> symbols;
    for (unsigned char b : piece) {
        std::string s;
        unicode::append_utf8(s, byte_to_char(b));
        symbols.push_back(std::move(s));
    }
    if (ignore_merges_) {
        std::string whole;
        for (const auto& s : symbols) whole += s;
        if (const auto id = token_id(whole); id >= 0) {
            out.push_back(id);
            return;
        }
    }
    // Repeatedly apply the best-ranked merge present, to every non-overlapping occurrence.
    while (symbols.size() > 1) {
        std::int32_t best = INT_MAX;
        std::size_t best_at = 0;
        for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
            const auto it = merge_rank_.find(symbols[i] + ' ' + symbols[i + 1]);
            if (it != merge_rank_.end() && it->second < best) {
                best = it->second;
                best_at = i;
            }
        }
        if (best == INT_MAX) break;
        const std::string left = symbols[best_at], right = symbols[best_at + 1];
        std::vector<std::string> merged;
        merged.reserve(symbols.size());
        for (std::size_t i = 0; i < symbols.size(); ++i) {
            if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
                merged.push_back(left + right);
                ++i;
            } else {
                merged.push_back(std::move(symbols[i]));
            }
        }
        symbols = std::move(merged);
    }
    for (const auto& s : symbols) {
        if (const auto id = token_id(s); id >= 0) {
            out.push_back(id);
            continue;
        }
        // A vocabulary without all 256 byte tokens: fall back to unk (or fail loudly).
        if (vocab_.unk_id < 0)
            throw_bad_value("E5404", vocab_.source, "text piece has no token and the vocabulary has no unknown token",
                            "a byte-level vocabulary with all 256 bytes", "\"" + s + "\"");
        out.push_back(vocab_.unk_id);
    }
}

std::vector<std::int32_t> BpeTokenizer::encode(std::string_view text, bool add_bos) const {
    std::vector<std::int32_t> ids;
    if (add_bos && vocab_.bos_id >= 0) ids.push_back(vocab_.bos_id);
    for (std::string_view piece : pre_tokenize(text, *pre_)) encode_piece(piece, ids);
    return ids;
}

std::string BpeTokenizer::decode(const std::vector<std::int32_t>& ids) const {
    std::string out;
    for (auto id : ids) {
        if (id < 0 || id >= vocab_size()) continue;
        if (!vocab_.types.empty() && vocab_.types[static_cast<std::size_t>(id)] == static_cast<std::int32_t>(TokenType::control))
            continue;
        const std::string& t = vocab_.tokens[static_cast<std::size_t>(id)];
        for (std::size_t pos = 0; pos < t.size();) {
            std::size_t len;
            const char32_t cp = unicode::decode_utf8(t, pos, len);
            const auto it = char_to_byte_.find(cp);
            if (it != char_to_byte_.end()) out.push_back(static_cast<char>(it->second));
            else out.append(t, pos, len);  // an added token written as plain text
            pos += len;
        }
    }
    return out;
}

std::unique_ptr<BpeTokenizer> bpe_from_gguf(const GgufFile& f) {
    const std::string src = f.path().string();
    const std::string model = f.get_string("tokenizer.ggml.model").value_or("");
    if (model != "gpt2")
        throw_bad_value("E5400", src + ": tokenizer.ggml.model", "tokenizer model is not supported", "gpt2 (byte-level BPE)",
                        model.empty() ? "none" : model,
                        model == "llama" ? "SentencePiece vocabularies load through load_tokenizer / spm_from_gguf" : "");
    BpeVocab v;
    v.source = src;
    const auto strings = [&](const char* key) -> std::vector<std::string> {
        const GgufValue* val = f.find(key);
        if (!val || !val->is_array() || val->element_type != GgufType::string)
            throw_bad_value("E5401", src + ": " + key, "tokenizer array is missing or not an array of strings",
                            "array of string", val ? std::string(gguf_type_name(val->type)) : "none");
        return val->strings;
    };
    v.tokens = strings("tokenizer.ggml.tokens");
    v.merges = strings("tokenizer.ggml.merges");
    if (const GgufValue* types = f.find("tokenizer.ggml.token_type"); types && types->is_array())
        for (auto t : types->ints) v.types.push_back(static_cast<std::int32_t>(t));
    v.bos_id = static_cast<std::int32_t>(f.get_int("tokenizer.ggml.bos_token_id").value_or(-1));
    v.eos_id = static_cast<std::int32_t>(f.get_int("tokenizer.ggml.eos_token_id").value_or(-1));
    v.unk_id = static_cast<std::int32_t>(f.get_int("tokenizer.ggml.unknown_token_id").value_or(-1));
    v.pre = f.get_string("tokenizer.ggml.pre").value_or("default");
    return std::make_unique<BpeTokenizer>(std::move(v));
}

std::unique_ptr<BpeTokenizer> bpe_from_tokenizer_json(const std::filesystem::path& path) {
    using nlohmann::json;
    const std::string src = path.string();
    json j;
    try {
        j = json::parse(read_file(path));
    } catch (const json::exception& e) {  // parse_error, and out_of_range for an overflowing number
        throw_bad_value("E5405", src, "tokenizer.json is not valid JSON", "JSON", e.what());
    }
    const auto bad = [&](const std::string& what, const std::string& found) {
        throw_bad_value("E5405", src, what, "a Hugging Face BPE tokenizer.json", found);
    };
    // Types of the values: JsonView (E0020-E0022, naming file and key path).
    const JsonView top(j, src);
    if (!top.has("model") || !top.at("model").has("type") || top.at("model").at("type").string() != "BPE")
        bad("model.type is not BPE", top.has("model") ? top.at("model").string_or("type", "?") : "no model");
    const json& m = j["model"];
    if (!m.contains("vocab") || !m["vocab"].is_object()) bad("model.vocab is not an object", "none");
    BpeVocab v;
    v.source = src;
    for (const auto& [tok, id] : m["vocab"].items()) {
        if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() > (1 << 24))
            bad("vocab id is not a small non-negative integer", id.dump());
        const auto i = id.get<std::size_t>();
        if (i >= v.tokens.size()) v.tokens.resize(i + 1);
        v.tokens[i] = tok;
    }
    std::vector<std::int32_t> types(v.tokens.size(), static_cast<std::int32_t>(TokenType::normal));
    if (top.has("added_tokens"))
        for (const auto& a : top.at("added_tokens").elements()) {
            const auto id = a.at("id").integer(0, 1 << 24);
            if (static_cast<std::size_t>(id) >= v.tokens.size()) {
                v.tokens.resize(static_cast<std::size_t>(id) + 1);
                types.resize(v.tokens.size(), static_cast<std::int32_t>(TokenType::unused));
            }
            v.tokens[static_cast<std::size_t>(id)] = a.string_or("content", "");
            types[static_cast<std::size_t>(id)] =
                static_cast<std::int32_t>(a.boolean_or("special", false) ? TokenType::control : TokenType::user_defined);
        }
    v.types = std::move(types);
    if (m.contains("merges") && m["merges"].is_array())
        for (const auto& merge : m["merges"]) {
            if (merge.is_string()) v.merges.push_back(merge.get<std::string>());
            else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() && merge[1].is_string())
                v.merges.push_back(merge[0].get<std::string>() + " " + merge[1].get<std::string>());
            else bad("merge is neither \"a b\" nor [a, b]", merge.dump());
        }
    if (m.contains("ignore_merges") && m["ignore_merges"].is_boolean()) v.ignore_merges = m["ignore_merges"].get<bool>() ? 1 : 0;
    // Pre-tokenizer: ByteLevel, optionally preceded by Digits(individual_digits=true) or by the
    // Split of Llama 3 / Qwen2 (recognised by its exact pattern; another pattern is refused).
    bool digits = false, byte_level = false;
    std::string split_pre;
    const auto visit = [&](const JsonView& p) {
        const std::string type = p.string_or("type", "");
        if (type == "Digits") digits = p.boolean_or("individual_digits", false);
        if (type == "ByteLevel") byte_level = true;
        if (type == "Split") {
            const std::string regex = p.has("pattern") ? p.at("pattern").string_or("Regex", "") : "";
            split_pre = split_pre_tokenizer_of(regex);
            if (split_pre.empty())
                throw_bad_value("E5407", src + ": pre_tokenizer", "Split pattern is not one halo implements",
                                "the Llama 3 or Qwen2 pattern", "\"" + regex.substr(0, 120) + "\"");
        }
    };
    if (top.has("pre_tokenizer")) {
        const JsonView p = top.at("pre_tokenizer");
        if (p.string_or("type", "") == "Sequence" && p.has("pretokenizers"))
            for (const auto& q : p.at("pretokenizers").elements()) visit(q);
        else visit(p);
    }
    if (!byte_level) bad("pre_tokenizer has no ByteLevel step", j.contains("pre_tokenizer") ? j["pre_tokenizer"].dump().substr(0, 80) : "none");
    v.pre = !split_pre.empty() ? split_pre : digits ? "smollm" : "gpt2";
    const auto config = path.parent_path() / "tokenizer_config.json";
    const auto id_of = [&](const JsonView& t) -> std::int32_t {
        const std::string s = t.raw().is_object() ? t.string_or("content", "") : t.raw().is_null() ? "" : t.string();
        for (std::size_t i = 0; i < v.tokens.size(); ++i)
            if (!s.empty() && v.tokens[i] == s) return static_cast<std::int32_t>(i);
        return -1;
    };
    if (std::filesystem::exists(config)) {
        json c;
        try {
            c = json::parse(read_file(config));
        } catch (const json::exception& e) {
            throw_bad_value("E5408", config.string(), "tokenizer_config.json is not valid JSON", "JSON", e.what());
        }
        const JsonView cv(c, config.string());
        if (cv.has("bos_token")) v.bos_id = id_of(cv.at("bos_token"));
        if (cv.has("eos_token")) v.eos_id = id_of(cv.at("eos_token"));
        if (cv.has("unk_token")) v.unk_id = id_of(cv.at("unk_token"));
    }
    return std::make_unique<BpeTokenizer>(std::move(v));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::filesystem::path& path) {
    if (std::filesystem::is_directory(path)) return bpe_from_tokenizer_json(path / "tokenizer.json");
    if (path.extension() == ".json") return bpe_from_tokenizer_json(path);
    GgufFile file(path);
    if (file.get_string("tokenizer.ggml.model") == "llama") return spm_from_gguf(file);
    return bpe_from_gguf(file);
}

}  // namespace halo::model
