#include "halo/timing/dynamic_cell_function.hpp"

namespace halo::timing {

std::uint64_t truth_mask(int input_count) {
    return input_count >= 6 ? ~std::uint64_t{0} : (std::uint64_t{1} << (1u << input_count)) - 1;
}

namespace {

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
