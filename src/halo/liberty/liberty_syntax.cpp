#include "halo/liberty/liberty_syntax.hpp"

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::liberty {

const SyntaxAttribute* SyntaxGroup::find_attribute(std::string_view name) const {
    for (const auto& a : attributes)
        if (a.name == name) return &a;
    return nullptr;
}

namespace {

enum class TokenKind : std::uint8_t { word, string, lparen, rparen, lbrace, rbrace, colon, semicolon, comma, end };

struct Token {
    TokenKind kind = TokenKind::end;
    std::string text;
    std::uint32_t line = 0;
};

const char* token_name(TokenKind k) {
    static constexpr const char* names[] = {"a word", "a string", "'('", "')'", "'{'", "'}'",
                                            "':'", "';'", "','", "end of file"};
    return names[static_cast<int>(k)];
}

// Deepest group nesting accepted: real libraries nest about 6 deep; a hostile file must not
// exhaust the stack of the recursive parser.
constexpr int kMaxDepth = 64;

class Lexer {
public:
    Lexer(std::string_view text, const std::string& file) : text_(text), file_(file) {}

    Token next() {
        skip_blank();
        Token t;
        t.line = line_;
        if (pos_ >= text_.size()) return t;
        char c = text_[pos_];
        switch (c) {
            case '(': ++pos_; t.kind = TokenKind::lparen; return t;
            case ')': ++pos_; t.kind = TokenKind::rparen; return t;
            case '{': ++pos_; t.kind = TokenKind::lbrace; return t;
            case '}': ++pos_; t.kind = TokenKind::rbrace; return t;
            case ':': ++pos_; t.kind = TokenKind::colon; return t;
            case ';': ++pos_; t.kind = TokenKind::semicolon; return t;
            case ',': ++pos_; t.kind = TokenKind::comma; return t;
            case '"': return quoted(t);
            default: break;
        }
        t.kind = TokenKind::word;
        std::size_t start = pos_;
        while (pos_ < text_.size() && is_word_char(text_[pos_])) ++pos_;
        if (pos_ == start)
            throw_bad_input("E1002", file_, line_, "unexpected character", "a word, string or punctuation",
                            fmt::format("byte 0x{:02x}", static_cast<unsigned char>(c)));
        t.text.assign(text_.substr(start, pos_ - start));
        return t;
    }

    std::uint32_t line() const { return line_; }

private:
    static bool is_word_char(char c) {
        switch (c) {
            case '(': case ')': case '{': case '}': case ':': case ';': case ',': case '"':
            case ' ': case '\t': case '\r': case '\n': case '\\': case '\f': case '\v':
                return false;
            default: return static_cast<unsigned char>(c) >= 0x21;
        }
    }

    void skip_blank() {
        while (pos_ < text_.size()) {
            char c = text_[pos_];
            if (c == '\n') { ++line_; ++pos_; }
            else if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') ++pos_;
            else if (c == '\\') ++pos_;  // line continuation: the newline after it is ordinary blank
            else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
                std::uint32_t start_line = line_;
                pos_ += 2;
                for (;;) {
                    if (pos_ + 1 >= text_.size())
                        throw_bad_input("E1001", file_, start_line, "comment is never closed", "*/",
                                        "end of file", "the file may be truncated");
                    if (text_[pos_] == '*' && text_[pos_ + 1] == '/') { pos_ += 2; break; }
                    if (text_[pos_] == '\n') ++line_;
                    ++pos_;
                }
            } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
                while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
            } else break;
        }
    }

    Token quoted(Token t) {
        t.kind = TokenKind::string;
        std::uint32_t start_line = line_;
        ++pos_;
        for (;;) {
            if (pos_ >= text_.size())
                throw_bad_input("E1001", file_, start_line, "string is never closed", "\"", "end of file",
                                "the file may be truncated");
            char c = text_[pos_];
            if (c == '"') { ++pos_; break; }
            if (c == '\\' && pos_ + 1 < text_.size() && (text_[pos_ + 1] == '\n' || text_[pos_ + 1] == '\r')) {
                ++pos_;  // continuation inside a string: drop the backslash and the line break
                if (text_[pos_] == '\r') ++pos_;
                if (pos_ < text_.size() && text_[pos_] == '\n') { ++pos_; ++line_; }
                continue;
            }
            if (c == '\n') ++line_;
            t.text.push_back(c);
            ++pos_;
        }
        return t;
    }

    std::string_view text_;
    const std::string& file_;
    std::size_t pos_ = 0;
    std::uint32_t line_ = 1;
};

class Parser {
public:
    Parser(std::string_view text, const std::string& file) : lexer_(text, file), file_(file) { advance(); }

    SyntaxGroup parse_file() {
        if (tok_.kind != TokenKind::word)
            fail("E1003", "expected a top-level group such as library (name) { ... }", tok_);
        std::string name = tok_.text;
        std::uint32_t line = tok_.line;
        advance();
        if (tok_.kind != TokenKind::lparen) fail("E1003", "expected '(' after " + name, tok_);
        SyntaxGroup g;
        g.type = name;
        g.line = line;
        g.args = parse_values();
        if (tok_.kind != TokenKind::lbrace) fail("E1003", "expected '{' to open group " + name, tok_);
        advance();
        parse_body(g, 1);
        if (tok_.kind == TokenKind::semicolon) advance();
        if (tok_.kind != TokenKind::end) fail("E1004", "text after the end of the top-level group", tok_);
        return g;
    }

private:
    [[noreturn]] void fail(const char* code, const std::string& message, const Token& t) {
        std::string found = token_name(t.kind);
        if (t.kind == TokenKind::word || t.kind == TokenKind::string) found += " \"" + t.text.substr(0, 40) + "\"";
        if (t.kind == TokenKind::end) {
            // Whatever was expected, running out of text means truncation: one code for it.
            throw_bad_input("E1007", file_, t.line, "the file ends early: " + message, "", found,
                            "the file may be truncated or a '}' is missing");
        }
        throw_bad_input(code, file_, t.line, message, "", found, "");
    }

    void advance() { tok_ = lexer_.next(); }

    // After '(' has been seen as the current token: values separated by commas up to ')'.
    std::vector<SyntaxValue> parse_values() {
        advance();  // past '('
        std::vector<SyntaxValue> out;
        bool need_value = true;
        while (tok_.kind != TokenKind::rparen) {
            if (tok_.kind == TokenKind::comma) {
                if (need_value) out.push_back({});  // empty slot: "( , x)"
                need_value = true;
                advance();
                continue;
            }
            if (tok_.kind == TokenKind::word || tok_.kind == TokenKind::string) {
                SyntaxValue v{tok_.text, tok_.kind == TokenKind::string};
                advance();
                // Unquoted words separated by blanks form one value ("A + B").
                while (!v.quoted && tok_.kind == TokenKind::word) {
                    v.text += ' ';
                    v.text += tok_.text;
                    advance();
                }
                out.push_back(std::move(v));
                need_value = false;
                continue;
            }
            fail("E1005", "expected a value, ',' or ')' inside parentheses", tok_);
        }
        advance();  // past ')'
        return out;
    }

    void parse_body(SyntaxGroup& g, int depth) {
        if (depth > kMaxDepth) fail("E1006", fmt::format("groups nested deeper than {}", kMaxDepth), tok_);
        for (;;) {
            if (tok_.kind == TokenKind::rbrace) { advance(); return; }
            if (tok_.kind == TokenKind::semicolon) { advance(); continue; }
            if (tok_.kind == TokenKind::end)
                fail("E1007", fmt::format("group {} (line {}) is never closed", g.type, g.line), tok_);
            if (tok_.kind != TokenKind::word) fail("E1003", "expected an attribute or group name", tok_);
            std::string name = tok_.text;
            std::uint32_t line = tok_.line;
            advance();
            if (tok_.kind == TokenKind::colon) {
                advance();
                SyntaxAttribute a;
                a.name = std::move(name);
                a.line = line;
                if (tok_.kind != TokenKind::word && tok_.kind != TokenKind::string)
                    fail("E1005", "expected a value after '" + a.name + " :'", tok_);
                SyntaxValue v{tok_.text, tok_.kind == TokenKind::string};
                std::uint32_t value_line = tok_.line;
                advance();
                // An unquoted value may span several words on its line ("A + B").
                while (!v.quoted && tok_.kind == TokenKind::word && tok_.line == value_line) {
                    v.text += ' ';
                    v.text += tok_.text;
                    advance();
                }
                a.values.push_back(std::move(v));
                if (tok_.kind == TokenKind::semicolon) advance();
                g.attributes.push_back(std::move(a));
            } else if (tok_.kind == TokenKind::lparen) {
                std::vector<SyntaxValue> values = parse_values();
                if (tok_.kind == TokenKind::lbrace) {
                    advance();
                    SyntaxGroup child;
                    child.type = std::move(name);
                    child.args = std::move(values);
                    child.line = line;
                    parse_body(child, depth + 1);
                    g.groups.push_back(std::move(child));
                } else {
                    SyntaxAttribute a;
                    a.name = std::move(name);
                    a.values = std::move(values);
                    a.complex = true;
                    a.line = line;
                    if (tok_.kind == TokenKind::semicolon) advance();
                    g.attributes.push_back(std::move(a));
                }
            } else {
                fail("E1003", "expected ':' or '(' after '" + name + "'", tok_);
            }
        }
    }

    Lexer lexer_;
    const std::string& file_;
    Token tok_;
};

}  // namespace

SyntaxGroup parse_liberty_syntax(std::string_view text, const std::string& file) {
    Parser p(text, file);
    return p.parse_file();
}

}  // namespace halo::liberty
