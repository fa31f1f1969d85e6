#include "halo/mac/booth.hpp"

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::mac {

void add_booth4_partial_products(VerilogBody& body, BitMatrix& matrix, const IntOperands& ops) {
    if (ops.w_bits % 2 != 0)
        throw_internal("E4020", fmt::format("radix-4 Booth needs an even weight width, got {}", ops.w_bits));
    // a as a signed vector: itself, or zero-extended by one bit when unsigned.
    const int a_len = ops.a_signed ? ops.a_bits : ops.a_bits + 1;
    auto a_bit = [&](int j) -> std::string {
        if (j < 0) return "1'b0";
        if (j >= ops.a_bits) return ops.a_signed ? fmt::format("a[{}]", ops.a_bits - 1) : "1'b0";
        return fmt::format("a[{}]", j);
    };
    const int pw = a_len + 1;  // |d_i * a| <= 2 |a| needs one bit more than a
    BitRow neg_row;
    for (int i = 0; i < ops.w_bits / 2; ++i) {
        const std::string b2 = fmt::format("w[{}]", 2 * i + 1);
        const std::string b1 = fmt::format("w[{}]", 2 * i);
        const std::string b0 = i == 0 ? "1'b0" : fmt::format("w[{}]", 2 * i - 1);
        body.line(fmt::format("  // Booth digit {}: w[{}:{}]", i, 2 * i + 1, 2 * i - 1));
        const std::string one = body.wire(fmt::format("{} ^ {}", b1, b0));
        const std::string two = body.wire(fmt::format("({0} & ~{1} & ~{2}) | (~{0} & {1} & {2})", b2, b1, b0));
        const std::string neg = body.wire(fmt::format("{} & ~({} & {})", b2, b1, b0));
        BitRow row;
        for (int j = 0; j < pw; ++j) {
            const std::string bit =
                body.wire(fmt::format("((({} & {}) | ({} & {})) ^ {})", one, a_bit(j), two, a_bit(j - 1), neg));
            matrix.add(row, 2 * i + j, bit, j == pw - 1);
        }
        matrix.add_row(std::move(row));
        matrix.add(neg_row, 2 * i, neg);
    }
    matrix.add_row(std::move(neg_row));
}

void add_and_partial_products(BitMatrix& matrix, const IntOperands& ops) {
    for (int i = 0; i < ops.w_bits; ++i) {
        BitRow row;
        const bool w_sign = i == ops.w_bits - 1;
        for (int j = 0; j < ops.a_bits; ++j) {
            const bool a_sign = ops.a_signed && j == ops.a_bits - 1;
            // w_i a_j has weight -2^(i+j) when exactly one of the two is a sign bit.
            matrix.add(row, i + j, fmt::format("(w[{}] & a[{}])", i, j), w_sign != a_sign);
        }
        matrix.add_row(std::move(row));
    }
}

}  // namespace halo::mac
