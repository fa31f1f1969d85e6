// A cell output's Boolean function as a truth table, and what dynamic timing derives from it:
// the prime implicants of F and of !F (the minimal sets of input values that force the output)
// and the unateness of every input. Truth tables hold up to 6 inputs (bit m of `truth` is F at
// the input assignment m, input j = bit j of m), which covers every combinational cell of the
// OSU libraries. The functions themselves come compiled from the Liberty reader
// (liberty/cell_function.hpp); this file only derives what the timing rules need.
#pragma once

#include <cstdint>
#include <vector>

namespace halo::timing {

constexpr int kDynamicMaxInputs = 6;

// A cube: inputs in `care` are fixed to the matching bit of `value`; the others are free.
struct Cube {
    std::uint8_t care = 0;
    std::uint8_t value = 0;
};

enum class Unateness : std::uint8_t { positive, negative, binate, independent };

struct GateLogic {
    int input_count = 0;
    std::uint64_t truth = 0;
    std::vector<Cube> primes_one;   // prime implicants of F
    std::vector<Cube> primes_zero;  // prime implicants of !F
    std::vector<Unateness> unateness;
};

std::uint64_t truth_mask(int input_count);  // the 2^n valid bits

// Fixes input j to `value`, giving a function of the remaining n-1 inputs (order kept).
std::uint64_t restrict_truth(std::uint64_t truth, int input_count, int input, bool value);

bool truth_depends_on(std::uint64_t truth, int input_count, int input);

GateLogic analyze_gate(std::uint64_t truth, int input_count);

}  // namespace halo::timing
