// Radix-4 Booth partial products of w * a with the WEIGHT as the Booth-encoded operand: in a
// weight-stationary MAC the weight is held, so its encoders (one per two weight bits) settle
// once and only the selection muxes see the activation toggle.
//
// Digit i of the signed weight (bits w[2i+1], w[2i], w[2i-1], w[-1] = 0) is
//   d_i = -2 w[2i+1] + w[2i] + w[2i-1]  in {-2, -1, 0, 1, 2},   w = sum_i d_i 4^i.
// Partial product i is d_i * a as a PW-bit two's-complement vector (PW = activation bits + 1,
// + 1 more when a is unsigned): select a or 2a, invert when d_i < 0 and add the `neg_i` bit at
// column 2i (two's complement = one's complement + 1). Sign extension is the ~sign trick of
// BitMatrix::add: no row is extended to the accumulator's width.
#pragma once

#include "halo/mac/generators_bit_matrix.hpp"

namespace halo::mac {

struct IntOperands {
    int w_bits = 8;
    int a_bits = 8;
    bool a_signed = true;
};

// Adds the Booth rows (and the row of neg bits) of w * a to `matrix`; w_bits must be even.
void add_booth4_partial_products(VerilogBody& body, BitMatrix& matrix, const IntOperands& ops);

// Adds the Baugh-Wooley rows w_i & a_j of w * a (sign bits of negative weight) to `matrix`.
void add_and_partial_products(BitMatrix& matrix, const IntOperands& ops);

}  // namespace halo::mac
