// Boolean functions of Liberty output pins, compiled for evaluation.
//
// Grammar (Liberty `function` strings; precedence from loosest to tightest binding):
//   or    := and  ( ('|' | '+') and )*
//   and   := xor  ( ('&' | '*') xor  |  xor )*      -- juxtaposition "A B" is AND
//   xor   := unary ( '^' unary )*
//   unary := '!' unary | primary "'"*               -- A' is !A
//   primary := pin-name | '0' | '1' | '(' or ')'
//
// A CellFunction is a postfix program over the cell's pin indices plus, when it depends on at
// most 6 pins, its truth table. Three evaluations:
//   eval      64 input patterns at once, one bit per pattern (bit-parallel simulation);
//   eval3     0/1/X with exact X-propagation: the output is known iff it is the same for every
//             completion of the X inputs (not the pessimistic gate-by-gate rule);
//   sensitize whether toggling one input can toggle the output, given the others' 0/1/X values,
//             and in which direction (unateness) under those constants.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::liberty {

enum class Ternary : std::uint8_t { zero = 0, one = 1, x = 2 };

// How an output responds to a rising input, over all completions of the X inputs.
enum class Unateness : std::uint8_t {
    none,       // the input cannot change the output (blocked by the other inputs)
    positive,   // rising input can only raise the output
    negative,   // rising input can only lower the output
    non_unate,  // either, depending on the X inputs (or a XOR-like dependence)
};

struct Sensitization {
    bool can_toggle = false;
    Unateness unateness = Unateness::none;
};

class CellFunction {
public:
    // Compiles `text`; pin names are resolved against `pin_names` (index = cell pin index).
    // Throws halo::Error E1301 (syntax) or E1302 (unknown pin) naming `place` and the text.
    static CellFunction compile(std::string_view text, std::span<const std::string> pin_names,
                                const std::string& place);

    // Bit-parallel evaluation: input_words[p] holds 64 patterns of pin p (index = cell pin index;
    // pins the function does not read may hold anything).
    std::uint64_t eval(std::span<const std::uint64_t> input_words) const;

    // Exact ternary evaluation; values indexed by cell pin index.
    Ternary eval3(std::span<const Ternary> values) const;

    // Can toggling `pin` toggle the output, the other pins held at `values` (values[pin] ignored)?
    Sensitization sensitize(int pin, std::span<const Ternary> values) const;
    bool sensitizes(int pin, std::span<const Ternary> values) const { return sensitize(pin, values).can_toggle; }

    // Pins the function reads, ascending. Truth-table variable i is support()[i].
    const std::vector<int>& support() const { return support_; }
    // Bit m = output for the assignment where support()[i] = bit i of m, replicated to 64 bits.
    // Present when support().size() <= 6.
    std::optional<std::uint64_t> truth_table() const {
        return has_table_ ? std::optional<std::uint64_t>(table_) : std::nullopt;
    }
    const std::string& text() const { return text_; }

    // The slow reference: interprets the program one pattern at a time (for tests).
    bool eval_reference(const std::vector<bool>& values) const;

private:
    enum class Op : std::uint8_t { pin, const0, const1, not_, and_, or_, xor_ };
    struct Instr {
        Op op;
        int pin;
    };
    friend class FunctionParser;

    std::string text_;
    std::vector<Instr> program_;
    std::vector<int> support_;
    int max_stack_ = 0;
    bool has_table_ = false;
    std::uint64_t table_ = 0;
};

// The compiled functions of one cell, index = cell pin index (empty for inputs and for
// outputs without a usable function, e.g. flip-flop outputs that name internal state).
struct CellLogic {
    std::vector<std::optional<CellFunction>> functions;

    const CellFunction* function(int pin) const {
        if (pin < 0 || static_cast<std::size_t>(pin) >= functions.size() || !functions[pin]) return nullptr;
        return &*functions[pin];
    }
};

}  // namespace halo::liberty
