#include "halo/timing/dynamic_cell_function.hpp"

#include <cctype>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::timing {

std::uint64_t truth_mask(int input_count) {
    return input_count >= 6 ? ~std::uint64_t{0} : (std::uint64_t{1} << (1u << input_count)) - 1;
}

namespace {

// Truth table of "input j" over n inputs.
std::uint64_t variable_truth(int j, int n) {
    std::uint64_t t = 0;
    for (unsigned m = 0; m < (1u << n); ++m)
        if ((m >> j) & 1u) t |= std::uint64_t{1} << m;
    return t;
}

class FunctionParser {
public:
    FunctionParser(std::string_view text, std::span<const std::string> names, std::string_view place)
        : text_(text), names_(names), place_(place), mask_(truth_mask(static_cast<int>(names.size()))) {}

    std::uint64_t parse() {
        std::uint64_t t = parse_or();
        skip_space();
        if (pos_ != text_.size()) fail("unexpected character", "an operator or the end", std::string(1, text_[pos_]));
        return t & mask_;
    }

private:
    [[noreturn]] void fail(const std::string& what, const std::string& expected, const std::string& found) const {
        throw_bad_value("E3510", std::string(place_),
                        fmt::format("cannot read cell function \"{}\" at offset {}: {}", text_, pos_, what), expected,
                        found, "the Liberty function grammar: names, 0, 1, ( ), !, ', ^, & * or space, + |");
    }
    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    }
    bool starts_primary() {
        skip_space();
        if (pos_ >= text_.size()) return false;
        char c = text_[pos_];
        return c == '(' || c == '!' || std::isalnum(static_cast<unsigned char>(c)) || c == '_';
    }
    std::uint64_t parse_or() {
        std::uint64_t t = parse_and();
        for (;;) {
            skip_space();
            if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '|')) {
                ++pos_;
                t |= parse_and();
            } else {
                return t;
            }
        }
    }
    std::uint64_t parse_and() {
        std::uint64_t t = parse_xor();
        for (;;) {
            skip_space();
            if (pos_ < text_.size() && (text_[pos_] == '&' || text_[pos_] == '*')) {
                ++pos_;
                t &= parse_xor();
            } else if (starts_primary()) {  // juxtaposition means and
                t &= parse_xor();
            } else {
                return t;
            }
        }
    }
    std::uint64_t parse_xor() {
        std::uint64_t t = parse_unary();
        for (;;) {
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '^') {
                ++pos_;
                t ^= parse_unary();
            } else {
                return t;
            }
        }
    }
    std::uint64_t parse_unary() {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '!') {
            ++pos_;
            return ~parse_unary() & mask_;
        }
        std::uint64_t t = parse_primary();
        for (;;) {
            skip_space();
            if (pos_ < text_.size() && text_[pos_] == '\'') {
                ++pos_;
                t = ~t & mask_;
            } else {
                return t;
            }
        }
    }
    std::uint64_t parse_primary() {
        skip_space();
        if (pos_ >= text_.size()) fail("the expression ends early", "a name, 0, 1 or (", "the end");
        char c = text_[pos_];
        if (c == '(') {
            ++pos_;
            std::uint64_t t = parse_or();
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != ')') fail("unbalanced parenthesis", ")", pos_ < text_.size() ? std::string(1, text_[pos_]) : "the end");
            ++pos_;
            return t;
        }
        std::size_t start = pos_;
        while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                                       text_[pos_] == '[' || text_[pos_] == ']' || text_[pos_] == '.'))
            ++pos_;
        if (start == pos_) fail("unexpected character", "a name, 0, 1 or (", std::string(1, c));
        std::string_view name = text_.substr(start, pos_ - start);
        if (name == "0") return 0;
        if (name == "1") return mask_;
        for (std::size_t j = 0; j < names_.size(); ++j)
            if (names_[j] == name) return variable_truth(static_cast<int>(j), static_cast<int>(names_.size()));
        std::string known;
        for (const auto& n : names_) known += (known.empty() ? "" : ", ") + n;
        throw_bad_value("E3511", std::string(place_),
                        fmt::format("cell function \"{}\" names pin \"{}\" that is not a connected input", text_, name),
                        "one of: " + known, std::string(name),
                        "the netlist leaves an input pin of this cell unconnected, or the library is not the one the netlist was mapped to");
    }

    std::string_view text_;
    std::span<const std::string> names_;
    std::string_view place_;
    std::uint64_t mask_;
    std::size_t pos_ = 0;
};

bool is_implicant(std::uint64_t truth, int n, Cube c) {
    for (unsigned m = 0; m < (1u << n); ++m)
        if ((m & c.care) == c.value && !((truth >> m) & 1u)) return false;
    return true;
}

std::vector<Cube> prime_implicants(std::uint64_t truth, int n) {
    std::vector<Cube> primes;
    for (unsigned care = 0; care < (1u << n); ++care) {
        for (unsigned value = 0; value < (1u << n); ++value) {
            if ((value & ~care) != 0) continue;
            Cube c{static_cast<std::uint8_t>(care), static_cast<std::uint8_t>(value)};
            if (!is_implicant(truth, n, c)) continue;
            bool prime = true;
            for (int j = 0; j < n && prime; ++j) {
                if (!((care >> j) & 1u)) continue;
                Cube wider{static_cast<std::uint8_t>(care & ~(1u << j)), static_cast<std::uint8_t>(value & ~(1u << j))};
                if (is_implicant(truth, n, wider)) prime = false;
            }
            if (prime) primes.push_back(c);
        }
    }
    return primes;
}

}  // namespace

std::uint64_t compile_cell_function(std::string_view expression, std::span<const std::string> input_names,
                                    std::string_view place) {
    if (input_names.size() > static_cast<std::size_t>(kMaxGateInputs))
        throw_bad_value("E3512", std::string(place), "cell has too many inputs for dynamic timing",
                        fmt::format("at most {}", kMaxGateInputs), std::to_string(input_names.size()),
                        "map the design to cells with at most 6 inputs");
    return FunctionParser(expression, input_names, place).parse();
}

std::uint64_t restrict_truth(std::uint64_t truth, int input_count, int input, bool value) {
    std::uint64_t out = 0;
    unsigned low_mask = (1u << input) - 1;
    for (unsigned m = 0; m < (1u << (input_count - 1)); ++m) {
        unsigned full = (m & low_mask) | ((m & ~low_mask) << 1) | (value ? (1u << input) : 0u);
        if ((truth >> full) & 1u) out |= std::uint64_t{1} << m;
    }
    return out;
}

bool truth_depends_on(std::uint64_t truth, int input_count, int input) {
    return restrict_truth(truth, input_count, input, false) != restrict_truth(truth, input_count, input, true);
}

GateLogic analyze_gate(std::uint64_t truth, int n) {
    GateLogic g;
    g.input_count = n;
    g.truth = truth & truth_mask(n);
    g.primes_one = prime_implicants(g.truth, n);
    g.primes_zero = prime_implicants(~g.truth & truth_mask(n), n);
    for (int j = 0; j < n; ++j) {
        std::uint64_t f0 = restrict_truth(g.truth, n, j, false), f1 = restrict_truth(g.truth, n, j, true);
        bool rises_only = (f0 & ~f1) == 0, falls_only = (f1 & ~f0) == 0;
        g.unateness.push_back(rises_only && falls_only ? Unateness::independent
                              : rises_only            ? Unateness::positive
                              : falls_only            ? Unateness::negative
                                                      : Unateness::binate);
    }
    return g;
}

}  // namespace halo::timing
