#include "halo/quant/element_type.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace halo::quant {
namespace {

constexpr ElementType make_int(ElementId id, std::string_view name, int bits, bool is_signed, float step = 1.0f) {
    return {id, name, bits, ElementKind::integer, is_signed, 0, 0, 0, SpecialCodes::none, step};
}
constexpr ElementType make_fp(ElementId id, std::string_view name, int e, int m, SpecialCodes s, int bias = -1) {
    return {id, name, 1 + e + m, ElementKind::minifloat, true, e, m, bias >= 0 ? bias : (1 << (e - 1)) - 1, s, 0.0f};
}

// Indexed by ElementId; the static_asserts keep the order honest.
constexpr std::array<ElementType, 22> kTable = {{
    make_int(ElementId::int2, "int2", 2, true),
    make_int(ElementId::int3, "int3", 3, true),
    make_int(ElementId::int4, "int4", 4, true),
    make_int(ElementId::int5, "int5", 5, true),
    make_int(ElementId::int6, "int6", 6, true),
    make_int(ElementId::int7, "int7", 7, true),
    make_int(ElementId::int8, "int8", 8, true),
    make_int(ElementId::uint2, "uint2", 2, false),
    make_int(ElementId::uint3, "uint3", 3, false),
    make_int(ElementId::uint4, "uint4", 4, false),
    make_int(ElementId::uint5, "uint5", 5, false),
    make_int(ElementId::uint6, "uint6", 6, false),
    make_int(ElementId::uint7, "uint7", 7, false),
    make_int(ElementId::uint8, "uint8", 8, false),
    make_fp(ElementId::e4m3, "e4m3", 4, 3, SpecialCodes::nan_only),
    make_fp(ElementId::e5m2, "e5m2", 5, 2, SpecialCodes::ieee),
    make_fp(ElementId::e3m2, "e3m2", 3, 2, SpecialCodes::none),
    make_fp(ElementId::e2m3, "e2m3", 2, 3, SpecialCodes::none),
    make_fp(ElementId::e2m1, "e2m1", 2, 1, SpecialCodes::none),
    make_int(ElementId::mxint8, "mxint8", 8, true, 1.0f / 64.0f),
    make_fp(ElementId::e2m0, "e2m0", 2, 0, SpecialCodes::none),     // bias 1 by the usual 2^(e-1)-1
    make_fp(ElementId::e1m1, "e1m1", 1, 1, SpecialCodes::none, 1),  // bias 1: the rule would give 0
}};
static_assert(kTable[static_cast<int>(ElementId::e4m3)].bits == 8);
static_assert(kTable[static_cast<int>(ElementId::e2m1)].bits == 4);
static_assert(kTable[static_cast<int>(ElementId::e3m2)].bits == 6 && kTable[static_cast<int>(ElementId::e2m3)].bits == 6);
static_assert(kTable[static_cast<int>(ElementId::uint8)].bits == 8 && !kTable[static_cast<int>(ElementId::uint8)].is_signed);
static_assert(kTable[static_cast<int>(ElementId::mxint8)].id == ElementId::mxint8);
static_assert(kTable[static_cast<int>(ElementId::e2m0)].bits == 3 && kTable[static_cast<int>(ElementId::e2m0)].bias == 1);
static_assert(kTable[static_cast<int>(ElementId::e1m1)].bits == 3 && kTable[static_cast<int>(ElementId::e1m1)].bias == 1);

// Decode tables, built once from decode_ref.
struct DecodeTables {
    std::array<std::array<float, 256>, kTable.size()> value{};
    std::array<float, kTable.size()> max_finite{};
    DecodeTables() {
        for (std::size_t i = 0; i < kTable.size(); ++i) {
            float mx = 0;
            for (int c = 0; c < code_count(kTable[i]); ++c) {
                float v = decode_ref(kTable[i], static_cast<std::uint8_t>(c));
                value[i][static_cast<std::size_t>(c)] = v;
                if (std::isfinite(v)) mx = std::max(mx, std::fabs(v));
            }
            max_finite[i] = mx;
        }
    }
};
const DecodeTables& tables() {
    static const DecodeTables t;
    return t;
}

int exp_field_max(const ElementType& t) { return (1 << t.exp_bits) - 1; }

}  // namespace

std::span<const ElementType> element_types() { return kTable; }
const ElementType& element_type(ElementId id) { return kTable[static_cast<std::size_t>(id)]; }
const ElementType* find_element_type(std::string_view name) {
    for (const auto& t : kTable)
        if (t.name == name) return &t;
    return nullptr;
}

int code_count(const ElementType& t) { return 1 << t.bits; }

bool code_is_finite(const ElementType& t, std::uint8_t code) {
    if (t.kind == ElementKind::integer) return true;
    const int mag = code & ((1 << (t.bits - 1)) - 1);
    const int e = mag >> t.man_bits;
    const int m = mag & ((1 << t.man_bits) - 1);
    switch (t.specials) {
        case SpecialCodes::none: return true;
        case SpecialCodes::nan_only: return !(e == exp_field_max(t) && m == (1 << t.man_bits) - 1);
        case SpecialCodes::ieee: return e != exp_field_max(t);
    }
    return true;
}

float decode_ref(const ElementType& t, std::uint8_t code) {
    if (t.kind == ElementKind::integer) {
        int v = code;
        if (t.is_signed && (code & (1 << (t.bits - 1)))) v -= 1 << t.bits;
        return static_cast<float>(v) * t.int_step;
    }
    const bool neg = (code >> (t.bits - 1)) & 1;
    const int mag = code & ((1 << (t.bits - 1)) - 1);
    const int e = mag >> t.man_bits;
    const int m = mag & ((1 << t.man_bits) - 1);
    float v;
    if (!code_is_finite(t, code)) {
        v = (t.specials == SpecialCodes::ieee && m == 0) ? std::numeric_limits<float>::infinity()
                                                         : std::numeric_limits<float>::quiet_NaN();
    } else if (e == 0) {  // subnormal: 0.m * 2^(1-bias)
        v = std::ldexp(static_cast<float>(m), 1 - t.bias - t.man_bits);
    } else {
        v = std::ldexp(static_cast<float>((1 << t.man_bits) + m), e - t.bias - t.man_bits);
    }
    return neg ? -v : v;
}

float decode(const ElementType& t, std::uint8_t code) {
    return tables().value[static_cast<std::size_t>(t.id)][code];
}

float max_finite(const ElementType& t) {
    if (t.kind == ElementKind::integer)
        return static_cast<float>(t.is_signed ? (1 << (t.bits - 1)) - 1 : (1 << t.bits) - 1) * t.int_step;
    return tables().max_finite[static_cast<std::size_t>(t.id)];
}

float min_value(const ElementType& t) {
    if (t.kind == ElementKind::integer) return t.is_signed ? -static_cast<float>(1 << (t.bits - 1)) * t.int_step : 0.0f;
    return -max_finite(t);
}

std::vector<float> representable_values(const ElementType& t) {
    std::vector<float> v;
    for (int c = 0; c < code_count(t); ++c) {
        const auto code = static_cast<std::uint8_t>(c);
        if (!code_is_finite(t, code)) continue;
        float x = decode(t, code);
        if (x == 0.0f) x = 0.0f;  // fold -0
        v.push_back(x);
    }
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

std::uint8_t encode_ref(const ElementType& t, float x) {
    // Minifloats are sign-magnitude: search the non-negative codes for |x|, then set the sign.
    const bool sign_mag = t.kind == ElementKind::minifloat;
    const float target = sign_mag ? std::fabs(x) : x;
    const int n = sign_mag ? code_count(t) / 2 : code_count(t);
    int best = -1;
    double best_d = 0;
    for (int c = 0; c < n; ++c) {
        const auto code = static_cast<std::uint8_t>(c);
        if (!code_is_finite(t, code)) continue;
        const double d = std::fabs(static_cast<double>(decode(t, code)) - target);
        if (best < 0 || d < best_d || (d == best_d && (c % 2 == 0) && (best % 2 != 0))) {
            best = c;
            best_d = d;
        }
    }
    auto code = static_cast<std::uint8_t>(best);
    if (sign_mag && std::signbit(x) && best != 0) code |= static_cast<std::uint8_t>(1 << (t.bits - 1));
    return code;
}

std::uint8_t encode(const ElementType& t, float x) {
    if (t.kind == ElementKind::integer) {
        const float lo = min_value(t) / t.int_step, hi = max_finite(t) / t.int_step;
        const float q = std::nearbyint(std::clamp(x / t.int_step, lo, hi));  // default mode: ties to even
        const int v = static_cast<int>(q);
        return static_cast<std::uint8_t>(v & ((1 << t.bits) - 1));
    }
    const float a = std::fabs(x);
    const int max_code = [&] {  // largest finite non-negative code
        const int top = (1 << (t.bits - 1)) - 1;
        switch (t.specials) {
            case SpecialCodes::none: return top;
            case SpecialCodes::nan_only: return top - 1;
            case SpecialCodes::ieee: return (exp_field_max(t) << t.man_bits) - 1;
        }
        return top;
    }();
    int code;
    if (a >= max_finite(t)) {
        code = max_code;
    } else {
        int e2 = 0;
        std::frexp(a, &e2);      // a = f * 2^e2, f in [0.5, 1)
        int e = e2 - 1;          // a in [2^e, 2^(e+1))
        const int emin = 1 - t.bias;
        if (a == 0.0f || e < emin) e = emin;  // subnormal range shares the min-normal step
        const float step = std::ldexp(1.0f, e - t.man_bits);
        // Codes of non-negative values are monotone and contiguous: a carry out of the
        // mantissa moves to the next exponent by itself.
        // (With e == emin this is m for subnormals and the first binade alike.)
        const int base = ((e + t.bias) << t.man_bits) - (1 << t.man_bits);
        const float y = a / step;  // exact: a/step < 2^(man+1)
        const int m_lo = static_cast<int>(std::floor(y));
        const float frac = y - static_cast<float>(m_lo);
        // Ties go to the even code; with mantissa bits that is the even m (base is even), with
        // none (E2M0) the parity of the code itself decides.
        const int m = frac > 0.5f ? m_lo + 1 : frac < 0.5f ? m_lo : ((base + m_lo) % 2 == 0 ? m_lo : m_lo + 1);
        code = base + m;
        code = std::min(code, max_code);
    }
    if (std::signbit(x) && code != 0) code |= 1 << (t.bits - 1);
    return static_cast<std::uint8_t>(code);
}

}  // namespace halo::quant
