// Element types: the numbers one code of a quantized tensor can stand for, before any scale.
// One row per type in element_types() (ggml type_traits style): name, bits, kind, and the
// parameters its decode and encode follow. Every type here has at most 256 codes, so decode is
// a table lookup; encode has a plain reference (exhaustive nearest search) and a fast
// arithmetic path, tested to agree.
//
// Rounding rule (both paths): round to the nearest representable value; a tie goes to the even
// code (IEEE round-half-to-even on the mantissa, or on the integer); beyond the largest finite
// value an input saturates to it (OCP MX v1.0 conversion with saturation). NaN inputs are
// refused upstream (quantizers check weights first), so encode never sees one.
//
// Minifloats follow OCP (OFP8 and MX v1.0): E4M3 has no infinities and one NaN pattern per sign
// (S.1111.111), max 448; E5M2 is IEEE-like (max 57344, exponent 11111 = Inf/NaN); FP6 E3M2
// (max 28), FP6 E2M3 (max 7.5) and FP4 E2M1 (max 6) have no Inf/NaN codes.
// FP3 (MXFP3 elements, no Inf/NaN): E2M0 with bias 1 is {0, +-1, +-2, +-4} (a power of two or
// zero), E1M1 with bias 1 is {0, +-0.5, +-1, +-1.5}. With no mantissa bits (E2M0) a tie such
// as 3 (between 2 and 4) goes to the even CODE (2 = code 010), the same rule as everywhere.
// MXINT8's element is 8-bit two's complement with an implicit scale 2^-6 (values -2 .. 127/64).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace halo::quant {

enum class ElementKind : std::uint8_t { integer, minifloat };
// How a minifloat spends its top exponent: none (all finite: FP6, FP4), nan_only (E4M3: only
// S.1111.111 is NaN), ieee (E5M2: exponent all ones = Inf/NaN).
enum class SpecialCodes : std::uint8_t { none, nan_only, ieee };

enum class ElementId : std::uint8_t {
    int2, int3, int4, int5, int6, int7, int8,          // two's complement, value = code
    uint2, uint3, uint4, uint5, uint6, uint7, uint8,   // unsigned, for asymmetric (zero point)
    e4m3, e5m2, e3m2, e2m3, e2m1,                      // OCP minifloats
    mxint8,                                            // int8 * 2^-6
    e2m0, e1m1,                                        // FP3 (MXFP3)
};

struct ElementType {
    ElementId id;
    std::string_view name;
    int bits;
    ElementKind kind;
    bool is_signed;
    int exp_bits;            // minifloat only
    int man_bits;            // minifloat only
    int bias;                // minifloat only
    SpecialCodes specials;   // minifloat only
    float int_step;          // integer only: value = code * int_step
};

// The table, indexed by ElementId.
std::span<const ElementType> element_types();
const ElementType& element_type(ElementId id);
// By name ("int4", "e2m1", ...); nullptr when unknown.
const ElementType* find_element_type(std::string_view name);

// Number of codes (2^bits) and whether a code is a finite value.
int code_count(const ElementType& t);
bool code_is_finite(const ElementType& t, std::uint8_t code);
// Decoded value of a code (NaN for NaN codes, +-Inf for E5M2's infinities). Table lookup.
float decode(const ElementType& t, std::uint8_t code);
// Computed from the bit fields, without the table; the table is built from this.
float decode_ref(const ElementType& t, std::uint8_t code);
// Largest finite magnitude, and smallest / largest finite values.
float max_finite(const ElementType& t);
float min_value(const ElementType& t);
// The set of finite representable values, sorted ascending, -0 folded into 0.
std::vector<float> representable_values(const ElementType& t);

// Nearest code (rounding rule above). encode_ref scans every code; encode is arithmetic.
std::uint8_t encode_ref(const ElementType& t, float x);
std::uint8_t encode(const ElementType& t, float x);
// decode(encode(x)) without the code.
inline float round_to(const ElementType& t, float x) { return decode(t, encode(t, x)); }

}  // namespace halo::quant
