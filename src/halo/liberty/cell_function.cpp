#include "halo/liberty/cell_function.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::liberty {

namespace {

// Bit patterns of truth-table variables 0..5: bit m of kVar[i] is bit i of m.
constexpr std::uint64_t kVar[6] = {0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull,
                                   0xFF00FF00FF00FF00ull, 0xFFFF0000FFFF0000ull, 0xFFFFFFFF00000000ull};

// Expressions nested deeper than this are rejected: the recursive parser must not overflow.
constexpr int kMaxNesting = 200;

}  // namespace

class FunctionParser {
public:
    FunctionParser(std::string_view text, std::span<const std::string> pins, const std::string& place)
        : text_(text), pins_(pins), place_(place) {}

    void run(CellFunction& f) {
        out_ = &f;
        parse_or(0);
        skip_blank();
        if (pos_ != text_.size()) fail("unexpected character", fmt::format("'{}'", text_[pos_]));
    }

private:
    [[noreturn]] void fail(const std::string& message, const std::string& found) {
        throw_bad_value("E1301", place_, fmt::format("function \"{}\": {} at column {}", text_, message, pos_ + 1),
                        "a Liberty boolean expression", found);
    }

    void emit(CellFunction::Op op, int pin = -1) { out_->program_.push_back({op, pin}); }

    void skip_blank() {
        while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    char peek() {
        skip_blank();
        return pos_ < text_.size() ? text_[pos_] : '\0';
    }
    static bool is_name_start(char c) {
        return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '\\';
    }
    static bool is_name_char(char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '[' || c == ']' || c == '.' ||
               c == '\\' || c == '$';
    }
    bool starts_primary(char c) { return is_name_start(c) || c == '(' || c == '!' || c == '0' || c == '1'; }

    void parse_or(int depth) {
        parse_and(depth);
        for (char c = peek(); c == '|' || c == '+'; c = peek()) {
            ++pos_;
            parse_and(depth);
            emit(CellFunction::Op::or_);
        }
    }
    void parse_and(int depth) {
        parse_xor(depth);
        for (;;) {
            char c = peek();
            if (c == '&' || c == '*') {
                ++pos_;
            } else if (!starts_primary(c)) {
                return;
            }
            parse_xor(depth);
            emit(CellFunction::Op::and_);
        }
    }
    void parse_xor(int depth) {
        parse_unary(depth);
        while (peek() == '^') {
            ++pos_;
            parse_unary(depth);
            emit(CellFunction::Op::xor_);
        }
    }
    void parse_unary(int depth) {
        if (depth > kMaxNesting) fail("expression nested too deeply", fmt::format("more than {} levels", kMaxNesting));
        char c = peek();
        if (c == '!') {
            ++pos_;
            parse_unary(depth + 1);
            emit(CellFunction::Op::not_);
            return;
        }
        parse_primary(depth);
        while (peek() == '\'') {
            ++pos_;
            emit(CellFunction::Op::not_);
        }
    }
    void parse_primary(int depth) {
        char c = peek();
        if (c == '(') {
            ++pos_;
            parse_or(depth + 1);
            if (peek() != ')') fail("missing ')'", pos_ < text_.size() ? fmt::format("'{}'", text_[pos_]) : "end of text");
            ++pos_;
            return;
        }
        if (c == '0' || c == '1') {
            ++pos_;
            emit(c == '0' ? CellFunction::Op::const0 : CellFunction::Op::const1);
            return;
        }
        if (!is_name_start(c)) fail("expected a pin name, 0, 1, '!' or '('", c ? fmt::format("'{}'", c) : "end of text");
        std::size_t start = pos_;
        while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
        std::string_view name = text_.substr(start, pos_ - start);
        auto it = std::find(pins_.begin(), pins_.end(), name);
        if (it == pins_.end())
            throw_bad_value("E1302", place_, fmt::format("function \"{}\" names \"{}\", which is not a pin of the cell", text_, name),
                            "a pin name", std::string(name),
                            "internal state names (ff/latch variables) are not pins; sequential outputs are not compiled");
        emit(CellFunction::Op::pin, static_cast<int>(it - pins_.begin()));
    }

    std::string_view text_;
    std::span<const std::string> pins_;
    const std::string& place_;
    std::size_t pos_ = 0;
    CellFunction* out_ = nullptr;
};

CellFunction CellFunction::compile(std::string_view text, std::span<const std::string> pin_names,
                                   const std::string& place) {
    CellFunction f;
    f.text_ = std::string(text);
    FunctionParser(text, pin_names, place).run(f);
    int depth = 0;
    for (const auto& in : f.program_) {
        if (in.op == Op::pin || in.op == Op::const0 || in.op == Op::const1) {
            ++depth;
            if (in.op == Op::pin) f.support_.push_back(in.pin);
        } else if (in.op != Op::not_) {
            --depth;
        }
        f.max_stack_ = std::max(f.max_stack_, depth);
    }
    std::sort(f.support_.begin(), f.support_.end());
    f.support_.erase(std::unique(f.support_.begin(), f.support_.end()), f.support_.end());
    if (f.support_.size() <= 6) {
        std::vector<std::uint64_t> words(pin_names.size(), 0);
        for (std::size_t i = 0; i < f.support_.size(); ++i) words[f.support_[i]] = kVar[i];
        f.table_ = f.eval(words);
        f.has_table_ = true;
    }
    return f;
}

std::uint64_t CellFunction::eval(std::span<const std::uint64_t> input_words) const {
    // Small fixed stack for the common case; deep expressions use the heap.
    std::uint64_t small[32] = {};
    std::vector<std::uint64_t> big;
    std::uint64_t* st = small;
    if (max_stack_ > 32) {
        big.resize(max_stack_);
        st = big.data();
    }
    int sp = 0;
    for (const auto& in : program_) {
        switch (in.op) {
            case Op::pin: st[sp++] = input_words[in.pin]; break;
            case Op::const0: st[sp++] = 0; break;
            case Op::const1: st[sp++] = ~std::uint64_t{0}; break;
            case Op::not_: st[sp - 1] = ~st[sp - 1]; break;
            case Op::and_: --sp; st[sp - 1] &= st[sp]; break;
            case Op::or_: --sp; st[sp - 1] |= st[sp]; break;
            case Op::xor_: --sp; st[sp - 1] ^= st[sp]; break;
        }
    }
    return st[0];
}

bool CellFunction::eval_reference(const std::vector<bool>& values) const {
    std::vector<bool> st;
    for (const auto& in : program_) {
        switch (in.op) {
            case Op::pin: st.push_back(values[in.pin]); break;
            case Op::const0: st.push_back(false); break;
            case Op::const1: st.push_back(true); break;
            case Op::not_: st.back() = !st.back(); break;
            default: {
                bool b = st.back();
                st.pop_back();
                bool a = st.back();
                st.back() = in.op == Op::and_ ? (a && b) : in.op == Op::or_ ? (a || b) : (a != b);
            }
        }
    }
    return st.back();
}

namespace {

// Enumerates the completions of the X pins among `support` (at most 64 per call, in the bits
// of one word) and reports the OR and AND of the outputs over all completions of `f`.
template <typename Visit>
void for_each_completion(const std::vector<int>& support, std::span<const Ternary> values, std::size_t n_pins,
                         Visit&& visit) {
    std::vector<int> xs;
    for (int p : support)
        if (values[p] == Ternary::x) xs.push_back(p);
    std::vector<std::uint64_t> words(n_pins, 0);
    for (int p : support)
        if (values[p] == Ternary::one) words[p] = ~std::uint64_t{0};
    // The first 6 X pins vary inside a word, the rest across calls.
    std::size_t inner = std::min<std::size_t>(xs.size(), 6);
    for (std::size_t i = 0; i < inner; ++i) words[xs[i]] = kVar[i];
    std::uint64_t valid = inner == 6 ? ~std::uint64_t{0} : ((std::uint64_t{1} << (1u << inner)) - 1);
    std::uint64_t outer_count = std::uint64_t{1} << (xs.size() - inner);
    for (std::uint64_t o = 0; o < outer_count; ++o) {
        for (std::size_t j = inner; j < xs.size(); ++j) words[xs[j]] = ((o >> (j - inner)) & 1) ? ~std::uint64_t{0} : 0;
        if (!visit(words, valid)) return;
    }
}

}  // namespace

Ternary CellFunction::eval3(std::span<const Ternary> values) const {
    if (has_table_) {
        std::uint64_t mask = ~std::uint64_t{0};
        for (std::size_t i = 0; i < support_.size(); ++i) {
            Ternary v = values[support_[i]];
            if (v == Ternary::one) mask &= kVar[i];
            else if (v == Ternary::zero) mask &= ~kVar[i];
        }
        std::uint64_t on = table_ & mask;
        if (on == 0) return Ternary::zero;
        if (on == mask) return Ternary::one;
        return Ternary::x;
    }
    bool any_one = false, any_zero = false;
    for_each_completion(support_, values, values.size(), [&](const std::vector<std::uint64_t>& w, std::uint64_t valid) {
        std::uint64_t out = eval(w) & valid;
        any_one |= out != 0;
        any_zero |= out != valid;
        return !(any_one && any_zero);
    });
    if (any_one && any_zero) return Ternary::x;
    return any_one ? Ternary::one : Ternary::zero;
}

Sensitization CellFunction::sensitize(int pin, std::span<const Ternary> values) const {
    auto pos = std::find(support_.begin(), support_.end(), pin);
    if (pos == support_.end()) return {};
    bool rise = false, fall = false;  // output follows / opposes a rising input in some completion
    if (has_table_) {
        auto k = static_cast<std::size_t>(pos - support_.begin());
        std::uint64_t mask = ~kVar[k];  // minterms with the pin at 0
        for (std::size_t i = 0; i < support_.size(); ++i) {
            if (i == k) continue;
            Ternary v = values[support_[i]];
            if (v == Ternary::one) mask &= kVar[i];
            else if (v == Ternary::zero) mask &= ~kVar[i];
        }
        std::uint64_t f0 = table_ & mask;
        std::uint64_t f1 = (table_ >> (1u << k)) & mask;  // same minterm with the pin at 1
        rise = (f1 & ~f0) != 0;
        fall = (f0 & ~f1) != 0;
    } else {
        std::vector<Ternary> v(values.begin(), values.end());
        v[pin] = Ternary::zero;
        std::vector<Ternary> v1 = v;
        v1[pin] = Ternary::one;
        for_each_completion(support_, v, v.size(), [&](std::vector<std::uint64_t>& w, std::uint64_t valid) {
            w[pin] = 0;
            std::uint64_t f0 = eval(w) & valid;
            w[pin] = ~std::uint64_t{0};
            std::uint64_t f1 = eval(w) & valid;
            w[pin] = 0;
            rise |= (f1 & ~f0) != 0;
            fall |= (f0 & ~f1) != 0;
            return !(rise && fall);
        });
    }
    if (rise && fall) return {true, Unateness::non_unate};
    if (rise) return {true, Unateness::positive};
    if (fall) return {true, Unateness::negative};
    return {};
}

}  // namespace halo::liberty
