// Verilog generator of the floating-point MACs: y = round_nearest_even(acc + w * a), fused (one
// rounding), IEEE gradual underflow, overflow to Inf, canonical NaN (docs/design/mac.md).
//
// Datapath, for N = accumulator precision (24 for FP32, 11 for FP16):
//   1. w and a unpacked (subnormals get exponent 1 and no hidden bit), significands multiplied
//      exactly; the product and acc are normalized (leading one at bit N-1, exponent e).
//   2. X = the operand of larger magnitude, Y the other, d = e_X - e_Y. In a window of 2N+4
//      bits with X's lsb at bit N+4, Y is shifted right by d exactly when d <= N+4; otherwise Y
//      is replaced by the window's lsb (Y is then below a quarter of X's half-ulp, so any
//      positive stand-in below it rounds the same way). X +- Y is therefore exact or
//      rounding-equivalent.
//   3. The sum is shifted so that its ulp (normal: N bits below the leading one; subnormal: the
//      format's fixed minimum) lands at bit 2; bits below form round (bit 1) and sticky.
//   4. Round to nearest even; exponent and significand are packed by addition so a carry out of
//      the significand bumps the exponent (and subnormal -> normal); exponent overflow -> Inf.
#pragma once

#include <string>

#include "halo/mac/mac_table.hpp"

namespace halo::mac {

std::string generate_fp_mac(const MacSpec& spec, MacArch arch);

}  // namespace halo::mac
