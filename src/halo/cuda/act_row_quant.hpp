// Activation quantizers of the format table, per token row, written once for the host and the
// GPU (`eval --device cuda --act-format`): the row and group functions below are compiled by
// nvcc into libhalo_cuda.so's kernel (act_row_kernel.cu, built with --fmad=false) and by the host
// compiler into the tests, which check them bit for bit against the CPU reference (quant::
// ActivationOperand::apply: quantize_activation_rows, amove_qdq_rows, olive4_row, ant4_row).
//
// Every operation follows its CPU counterpart one for one, in the same order (fit_group,
// round_scale, encode/decode of quant/element_type.cpp and scale_format.cpp, fit_amove_group,
// the baselines' row rules), so that the results are the CPU's bits. Where the CPU relies on
// what the x86 compiler makes of undefined conversions (a NaN or out-of-range float cast to int
// gives INT_MIN there: cvttss2si), the helpers below do the same, so that NaN and inf inputs take
// the CPU's path too; glibc's frexpf (exponent 0 for 0, inf and NaN) likewise.
//
// What stays different: the sign and payload of a NaN that an invalid operation creates (inf/inf,
// 0*inf): x86 makes the negative default NaN, the GPU a positive one. Only rows that hold an inf
// can create one, and only the nvfp4, Amove and olive4 rules read such a NaN's sign (minifloat
// encode). Documented in tests/unit/cuda/cuda_activation_test.cpp.
//
// Per row: one tensor-level quantity (NVFP4's FP32 scale, Amove's row scale), a maximum of |x|,
// then independent groups; a row of the baselines (olive4, ant4) is one group.
#pragma once

#include <cfloat>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#define HALO_HD __host__ __device__
#else
#define HALO_HD
#endif

namespace halo::cuda {

// An element type of quant::element_types(), with what its encode needs and its decode table.
struct ActElement {
    bool minifloat = false;
    bool is_signed = true;
    std::uint8_t specials = 0;  // quant::SpecialCodes: 0 none, 1 nan_only, 2 ieee
    int bits = 0, exp_bits = 0, man_bits = 0, bias = 0;
    float int_step = 1.0f;
    float max_finite = 0, min_value = 0;  // quant::max_finite / min_value
    float values[256] = {};               // quant::decode
};

enum class ActScale : std::uint8_t { fp32, fp16, e8m0, e4m3 };  // quant::ScaleFormat's order
// The row rules: absmax (symmetric or asymmetric, any scale format), the MX floor rule, NVFP4,
// the raw rows (scale 1), Amove's two-level scales, and the two baselines.
enum class ActFamily : std::uint8_t { absmax, mx_floor, nvfp4, raw, amove, olive4, ant4 };
enum class ActAmoveRule : std::uint8_t { scale_mse, recon_mse, mean };  // quant::ResidualRule's order

// One operand's quantizer (cuda_backend_api.hpp's ActivationQuant carries one for the linears'
// inputs and one for the attention matmuls). Built from a quant::ActivationOperand by
// act_row_format (cuda_model.cpp); the floats are the QuantSpec's, computed by the CPU's code.
struct ActRowFormat {
    ActFamily family = ActFamily::absmax;
    ActElement element;  // the values (absmax, mx_floor, nvfp4, raw, amove)
    ActElement e4m3;     // E4M3 scales (NVFP4 block scales, Amove's S and R by default)
    ActScale scale = ActScale::fp16;
    bool asymmetric = false;
    std::int64_t group = 0;  // columns per scale group; 0: the whole row
    float vmin = 0, vmax = 0, max_abs = 0, sym_range = 0;
    float tensor_denominator = 0;  // NVFP4: max_finite(e4m3) * max_abs
    int mx_emax = 0;               // MX: floor(log2(max_finite(element)))
    // Amove (amove_format.hpp)
    int am_group = 0, am_cluster = 0, am_code_bits = 0;
    ActScale am_base = ActScale::e4m3, am_residual = ActScale::e4m3;
    ActAmoveRule am_rule = ActAmoveRule::mean;
    float grid_lo = 0, grid_hi = 0, grid_step = 0;
};

// ---- the CPU's primitive operations --------------------------------------------------------

HALO_HD inline float act_max(float a, float b) { return a < b ? b : a; }  // std::max
HALO_HD inline float act_min(float a, float b) { return b < a ? b : a; }  // std::min
HALO_HD inline float act_clamp(float v, float lo, float hi) { return v < lo ? lo : (hi < v ? hi : v); }  // std::clamp
#if defined(__CUDA_ARCH__)
HALO_HD inline bool act_signbit(float x) { return signbit(x); }
HALO_HD inline bool act_isinf(float x) { return isinf(x); }
#else
inline bool act_signbit(float x) { return std::signbit(x); }
inline bool act_isinf(float x) { return std::isinf(x); }
#endif
HALO_HD inline int act_clamp_int(int v, int lo, int hi) { return v < lo ? lo : (hi < v ? hi : v); }
// static_cast<int> as x86 does it: NaN and values outside int's range give INT_MIN.
HALO_HD inline int x86_int(float v) { return (v > -2147483904.0f && v < 2147483648.0f) ? static_cast<int>(v) : INT_MIN; }
HALO_HD inline int x86_int(double v) { return (v > -2147483649.0 && v < 2147483648.0) ? static_cast<int>(v) : INT_MIN; }
HALO_HD inline int wrap_sub(int a, int b) {  // a - b as the CPU's machine code computes it (two's complement)
    return static_cast<int>(static_cast<std::uint32_t>(a) - static_cast<std::uint32_t>(b));
}
HALO_HD inline std::uint32_t float_bits(float x) {
    std::uint32_t b;
    std::memcpy(&b, &x, sizeof b);
    return b;
}
HALO_HD inline float bits_float(std::uint32_t b) {
    float x;
    std::memcpy(&x, &b, sizeof x);
    return x;
}
// glibc's frexpf exponent: x = f * 2^e with f in [0.5, 1); 0 for 0, inf and NaN.
HALO_HD inline int frexp_exponent(float x) {
    const std::uint32_t b = float_bits(x);
    const int field = static_cast<int>((b >> 23) & 0xFFu);
    if (field == 0xFF) return 0;
    if (field != 0) return field - 126;
    std::uint32_t m = b & 0x7FFFFFu;
    if (m == 0) return 0;
    int length = 0;
    for (; m != 0; m >>= 1) ++length;
    return length - 149;  // a subnormal is m * 2^-149
}
// floor(log2((double)x)) cast to int, for x > 0 (finite: exact; inf: the cast's INT_MIN).
HALO_HD inline int floor_log2(float x) { return act_isinf(x) ? INT_MIN : frexp_exponent(x) - 1; }

// ---- element types (quant/element_type.cpp's encode and decode) ----------------------------

HALO_HD inline std::uint8_t encode_integer(const ActElement& t, float x) {
    const float lo = t.min_value / t.int_step, hi = t.max_finite / t.int_step;
    const float q = rintf(act_clamp(x / t.int_step, lo, hi));  // ties to even, as std::nearbyint
    return static_cast<std::uint8_t>(x86_int(q) & ((1 << t.bits) - 1));
}

HALO_HD inline std::uint8_t encode_minifloat(const ActElement& t, float x) {
    const float a = fabsf(x);
    const int top = (1 << (t.bits - 1)) - 1;
    const int max_code = t.specials == 0 ? top : t.specials == 1 ? top - 1 : (((1 << t.exp_bits) - 1) << t.man_bits) - 1;
    int code;
    if (a >= t.max_finite) {
        code = max_code;
    } else {
        int e = frexp_exponent(a) - 1;
        const int emin = 1 - t.bias;
        if (a == 0.0f || e < emin) e = emin;
        const float step = ldexpf(1.0f, e - t.man_bits);
        const int base = ((e + t.bias) << t.man_bits) - (1 << t.man_bits);
        const float y = a / step;
        const int m_lo = x86_int(floorf(y));
        const float frac = y - static_cast<float>(m_lo);
        const int m = frac > 0.5f ? m_lo + 1 : frac < 0.5f ? m_lo : ((base + m_lo) % 2 == 0 ? m_lo : m_lo + 1);
        code = base + m;
        code = code < max_code ? code : max_code;
    }
    if (act_signbit(x) && code != 0) code |= 1 << (t.bits - 1);
    return static_cast<std::uint8_t>(code);
}

HALO_HD inline std::uint8_t encode_element(const ActElement& t, float x) {
    return t.minifloat ? encode_minifloat(t, x) : encode_integer(t, x);
}
HALO_HD inline float element_value(const ActElement& t, std::uint8_t code) { return t.values[code]; }

// ---- scale formats (quant/scale_format.cpp) ------------------------------------------------

HALO_HD inline std::uint32_t fp16_code(float x) {
    x = act_clamp(x, -65504.0f, 65504.0f);
#if defined(__CUDA_ARCH__)
    return __half_as_ushort(__float2half_rn(x));
#else
    const auto h = static_cast<_Float16>(x);
    std::uint16_t b;
    std::memcpy(&b, &h, sizeof b);
    return b;
#endif
}
HALO_HD inline float fp16_decode(std::uint32_t b) {
#if defined(__CUDA_ARCH__)
    return __half2float(__ushort_as_half(static_cast<unsigned short>(b)));
#else
    const auto u = static_cast<std::uint16_t>(b);
    _Float16 h;
    std::memcpy(&h, &u, sizeof h);
    return static_cast<float>(h);
#endif
}
// A free-standing E8M0 scale rounds up to a power of two: ceil(log2 x) + 127, clamped to 0..254.
HALO_HD inline std::uint32_t e8m0_code(float x) {
    if (!(x > 0)) return 0;
    int e;
    if (act_isinf(x)) {
        e = INT_MIN;  // ceil(log2(inf)) cast to int
    } else {
        const int k = frexp_exponent(x) - 1;
        e = ldexpf(1.0f, k) == x ? k : k + 1;
    }
    return static_cast<std::uint32_t>(act_clamp_int(e + 127, 0, 254));  // INT_MIN + 127 does not wrap
}
HALO_HD inline float e8m0_decode(std::uint32_t b) { return b == 255 ? NAN : ldexpf(1.0f, static_cast<int>(b) - 127); }

HALO_HD inline std::uint32_t scale_encode(ActScale f, const ActElement& e4m3, float x) {
    switch (f) {
        case ActScale::fp32: return float_bits(x);
        case ActScale::fp16: return fp16_code(x);
        case ActScale::e8m0: return e8m0_code(x);
        case ActScale::e4m3: return encode_minifloat(e4m3, x);
    }
    return 0;
}
HALO_HD inline float scale_decode(ActScale f, const ActElement& e4m3, std::uint32_t code) {
    switch (f) {
        case ActScale::fp32: return bits_float(code);
        case ActScale::fp16: return fp16_decode(code);
        case ActScale::e8m0: return e8m0_decode(code);
        case ActScale::e4m3: return element_value(e4m3, static_cast<std::uint8_t>(code));
    }
    return 0;
}
HALO_HD inline float scale_round(ActScale f, const ActElement& e4m3, float x) {
    return f == ActScale::fp32 ? x : scale_decode(f, e4m3, scale_encode(f, e4m3, x));
}

// ---- act_int_symmetric (cuda_kernels.cu): a signed integer row with FP16 scales -------------

// The group's scale from its max |x| (quant::fit_group + round_scale: FP16 saturates at 65504, a
// scale that rounds to 0 becomes 1, a group of zeros keeps 1).
HALO_HD inline float int_symmetric_scale(float amax, int bits) {
    if (amax == 0.0f) return 1.0f;
    const float s = fp16_decode(fp16_code(amax / static_cast<float>((1 << (bits - 1)) - 1)));
    return s > 0.0f ? s : 1.0f;
}
// One value: encode (clamp, then round: a NaN's code is 0, x86's (int)NaN masked), decode (the
// code's value, so a negative value that rounds to zero comes back +0), times the scale.
HALO_HD inline float int_symmetric_value(float x, float s, int bits) {
    const float top = static_cast<float>((1 << (bits - 1)) - 1), bottom = -static_cast<float>(1 << (bits - 1));
    const float q = rintf(act_clamp(x / s + 0.0f, bottom, top));
    const float v = q == q ? q + 0.0f : 0.0f;  // -0 + 0 = +0
    return s * (v - 0.0f);
}

// ---- a strided row ---------------------------------------------------------------------------

// Element c of a row: p[c * stride] (V's rows are its columns: the attention groups tokens).
struct ActRow {
    float* p;
    std::int64_t stride;
    HALO_HD float& operator[](std::int64_t c) const { return p[c * stride]; }
};

// The row-level quantity before the groups: NVFP4's tensor scale, Amove's tensor scale (which
// may underflow to 0 for tiny rows, as on the CPU), 1 otherwise. `row_amax` is the
// largest |x| of the row, NaNs left out (the CPU's std::max from 0).
HALO_HD inline float act_row_scale(const ActRowFormat& f, float row_amax) {
    if (f.family == ActFamily::nvfp4) {
        const float t = row_amax / f.tensor_denominator;  // quant::tensor_scale_for
        return t > 0 ? t : 1.0f;
    }
    if (f.family == ActFamily::amove) {
        const float dmax = row_amax / f.sym_range;  // max_i (m_i / qmax) = (max_i m_i) / qmax: division is monotone
        if (f.am_base != ActScale::e4m3 || !(dmax > 0)) return 1.0f;  // quant::amove_tensor_scale
        return dmax / f.e4m3.max_finite;
    }
    return 1.0f;
}

// ---- the absmax, MX, NVFP4 and raw rows (quant::fit_group, quantize_value, dequantize_value) --

HALO_HD inline float act_round_scale(const ActRowFormat& f, float s) {
    float r = scale_round(f.scale, f.e4m3, s);
    if (!(r > 0)) r = scale_round(f.scale, f.e4m3, FLT_MIN);
    if (!(r > 0)) r = 1.0f;
    return r;
}

HALO_HD inline void act_table_group(const ActRowFormat& f, ActRow x, std::int64_t b, std::int64_t e, float tensor_scale) {
    float scale = 1.0f, zero = 0.0f;
    if (f.family != ActFamily::raw) {
        float lo = 0, hi = 0;
        for (std::int64_t k = b; k < e; ++k) {
            lo = act_min(lo, x[k]);
            hi = act_max(hi, x[k]);
        }
        const float amax = act_max(-lo, hi);
        // amax 0: scale 1, zero 0, and the values still go through encode/decode (-0 becomes +0).
        if (amax != 0 && f.family == ActFamily::mx_floor) {
            scale = ldexpf(1.0f, act_clamp_int(wrap_sub(floor_log2(amax), f.mx_emax), -127, 127));
        } else if (amax != 0 && f.family == ActFamily::nvfp4) {
            const float s = scale_round(ActScale::e4m3, f.e4m3, amax / f.max_abs / tensor_scale);
            scale = (s > 0 ? s : element_value(f.e4m3, 1)) * tensor_scale;
        } else if (amax != 0 && !f.asymmetric) {
            scale = act_round_scale(f, amax / f.sym_range);
        } else if (amax != 0) {
            scale = act_round_scale(f, (hi - lo) / (f.vmax - f.vmin));
            zero = act_clamp(rintf(f.vmin - lo / scale), f.vmin, f.vmax);
        }
    }
    for (std::int64_t k = b; k < e; ++k)
        x[k] = scale * (element_value(f.element, encode_element(f.element, x[k] / scale + zero)) - zero);
}

// ---- Amove (quant/amove_format.cpp: fit_amove_group with t, then amove_qdq_group) -------------

// d_i of cluster [cb, ce): max|x| / qmax.
HALO_HD inline float amove_ideal(const ActRowFormat& f, ActRow x, std::int64_t cb, std::int64_t ce) {
    float m = 0;
    for (std::int64_t k = cb; k < ce; ++k) m = act_max(m, fabsf(x[k]));
    return 1.0f * m / f.sym_range;
}
HALO_HD inline int amove_top_code(const ActRowFormat& f, float base, float residual) {
    int top = (1 << f.am_code_bits) - 1;
    while (top > 0 && !(base - residual * static_cast<float>(top) > 0)) --top;
    return top;
}
HALO_HD inline std::uint8_t amove_code(float d, float base, float residual, int top) {  // quant::residual_codes
    if (!(residual > 0) || !(base > 0)) return 0;
    return static_cast<std::uint8_t>(x86_int(act_clamp(rintf((base - d) / residual), 0.0f, static_cast<float>(top))) & 0xFF);
}
HALO_HD inline float amove_cluster_scale(float base, float residual, std::uint8_t e) {
    const float v = base - residual * static_cast<float>(e);
    return base > 0 && v > 0 ? v : 1.0f;
}
// Quantize-dequantize x[b, e) with cluster scales from (base, residual); into `out` when given
// (the recon_mse search), else in place. Returns sum (x - y)^2 in double.
HALO_HD inline double amove_apply(const ActRowFormat& f, ActRow x, std::int64_t b, std::int64_t e, float base, float residual,
                                  bool write) {
    const int top = amove_top_code(f, base, residual);
    double err = 0;
    for (std::int64_t cb = b; cb < e; cb += f.am_cluster) {
        const std::int64_t ce = cb + f.am_cluster < e ? cb + f.am_cluster : e;
        const float sc = amove_cluster_scale(base, residual, amove_code(amove_ideal(f, x, cb, ce), base, residual, top));
        for (std::int64_t k = cb; k < ce; ++k) {
            const float y = sc * element_value(f.element, encode_element(f.element, x[k] / sc));
            if (write) x[k] = y;
            else err += (static_cast<double>(x[k]) - y) * (static_cast<double>(x[k]) - y);
        }
    }
    return err;
}

HALO_HD inline void act_amove_group(const ActRowFormat& f, ActRow x, std::int64_t b, std::int64_t e, float t) {
    const ActElement& e4 = f.e4m3;
    float dmax = 0;
    std::int64_t clusters = 0;
    for (std::int64_t cb = b; cb < e; cb += f.am_cluster, ++clusters) {
        const float d = amove_ideal(f, x, cb, cb + f.am_cluster < e ? cb + f.am_cluster : e);
        dmax = clusters == 0 ? d : act_max(dmax, d);
    }
    if (!(dmax > 0)) {  // every cluster at the decoded zero codes
        const float base = scale_decode(f.am_base, e4, scale_encode(f.am_base, e4, 0.0f)) * t;
        const float residual = scale_decode(f.am_residual, e4, scale_encode(f.am_residual, e4, 0.0f)) * t;
        const float sc = amove_cluster_scale(base, residual, 0);
        for (std::int64_t k = b; k < e; ++k) x[k] = sc * element_value(f.element, encode_element(f.element, x[k] / sc));
        return;
    }
    std::uint32_t s_code = scale_encode(f.am_base, e4, dmax / t);
    if (!(scale_decode(f.am_base, e4, s_code) > 0)) s_code = scale_encode(f.am_base, e4, FLT_MIN);
    const float base = scale_decode(f.am_base, e4, s_code) * t;
    const auto candidate = [&](float r_norm) { return scale_encode(f.am_residual, e4, act_max(0.0f, r_norm) * base / t); };
    const auto residual_of = [&](std::uint32_t rc) { return scale_decode(f.am_residual, e4, rc) * t; };
    const auto scale_err = [&](float residual) {
        const int top = amove_top_code(f, base, residual);
        double err = 0;
        for (std::int64_t cb = b; cb < e; cb += f.am_cluster) {
            const float d = amove_ideal(f, x, cb, cb + f.am_cluster < e ? cb + f.am_cluster : e);
            const double s = base - residual * static_cast<float>(amove_code(d, base, residual, top));
            err += (d - s) * (d - s);
        }
        return err;
    };
    std::uint32_t best_rc = scale_encode(f.am_residual, e4, 0.0f);
    if (f.am_rule == ActAmoveRule::mean) {
        double gap = 0;
        for (std::int64_t cb = b; cb < e; cb += f.am_cluster)
            gap += fabsf(amove_ideal(f, x, cb, cb + f.am_cluster < e ? cb + f.am_cluster : e) - dmax);
        best_rc = candidate(static_cast<float>(gap / static_cast<double>(clusters) / (1 << f.am_code_bits)) / base);
    } else {
        const bool by_scale = f.am_rule == ActAmoveRule::scale_mse;
        double best = by_scale ? scale_err(0.0f) : amove_apply(f, x, b, e, base, residual_of(best_rc), false);
        std::uint32_t last = best_rc;
        const int steps = x86_int(floorf((f.grid_hi - f.grid_lo) / f.grid_step + 0.5f));
        for (int k = 0; k <= steps; ++k) {
            const float r = f.grid_lo + f.grid_step * static_cast<float>(k);
            if (!(r > 0)) continue;
            const std::uint32_t rc = candidate(r);
            if (rc == last) continue;
            last = rc;
            const double err = by_scale ? scale_err(residual_of(rc)) : amove_apply(f, x, b, e, base, residual_of(rc), false);
            if (err < best) best = err, best_rc = rc;
        }
    }
    amove_apply(f, x, b, e, base, residual_of(best_rc), true);
}

// ---- the baselines (quant/amove_baselines.cpp), one row each ---------------------------------

HALO_HD inline float olive_abfloat(int k) {  // k = 1..7
    constexpr float levels[7] = {8, 12, 16, 24, 32, 48, 64};
    return levels[k - 1];
}
HALO_HD inline std::uint8_t olive_int4_code(float y) {
    return static_cast<std::uint8_t>(x86_int(act_clamp(rintf(y), -7.0f, 7.0f)) & 0xF);
}
HALO_HD inline float olive_int4_value(std::uint8_t c) { return static_cast<float>((c & 0x8) ? static_cast<int>(c) - 16 : static_cast<int>(c)); }
HALO_HD inline std::uint8_t olive_abfloat_code(float y) {
    const float a = fabsf(y);
    int best = 0;
    for (int i = 1; i < 7; ++i)
        if (fabsf(olive_abfloat(i + 1) - a) < fabsf(olive_abfloat(best + 1) - a)) best = i;
    return static_cast<std::uint8_t>((act_signbit(y) ? 0x8 : 0x0) | (best + 1));
}
HALO_HD inline float olive_abfloat_value(std::uint8_t c) {
    const int k = c & 0x7;
    const float m = k == 0 ? 0.0f : olive_abfloat(k);
    return (c & 0x8) ? -m : m;
}
// quant::olive4_encode_pair then olive4_decode_pair: the pair's values in units of s.
HALO_HD inline void olive_pair(float y0, float y1, float& v0, float& v1) {
    constexpr std::uint8_t victim = 0x8;
    std::uint8_t c0, c1;
    if (fabsf(y0) <= 7.5f && fabsf(y1) <= 7.5f) c0 = olive_int4_code(y0), c1 = olive_int4_code(y1);
    else if (fabsf(y0) >= fabsf(y1)) c0 = olive_abfloat_code(y0), c1 = victim;
    else c0 = victim, c1 = olive_abfloat_code(y1);
    if (c1 == victim && c0 != victim) v0 = olive_abfloat_value(c0), v1 = 0.0f;
    else if (c0 == victim && c1 != victim) v0 = 0.0f, v1 = olive_abfloat_value(c1);
    else if (c0 == victim) v0 = v1 = 0.0f;
    else v0 = olive_int4_value(c0), v1 = olive_int4_value(c1);
}
HALO_HD inline void act_olive4_row(ActRow x, std::int64_t n, float amax) {
    float s = 1.0f;  // quant::olive4_row_scale
    if (amax != 0) {
        constexpr float tops[8] = {7, 8, 12, 16, 24, 32, 48, 64};
        float best_s = 0, best_e = INFINITY;
        for (float a : tops) {
            float cand = fp16_decode(fp16_code(amax / a));
            if (!(cand > 0)) cand = fp16_decode(1);
            if (best_s == 0) best_s = cand;  // no finite error: the first candidate, as the CPU
            float err = 0;
            for (std::int64_t k = 0; k < n; k += 2) {
                const float x0 = x[k], x1 = k + 1 < n ? x[k + 1] : 0.0f;
                float v0, v1;
                olive_pair(x0 / cand, x1 / cand, v0, v1);
                err += (x0 - v0 * cand) * (x0 - v0 * cand) + (x1 - v1 * cand) * (x1 - v1 * cand);
            }
            if (err < best_e) best_e = err, best_s = cand;
        }
        s = best_s;
    }
    for (std::int64_t k = 0; k < n; k += 2) {
        const bool pair = k + 1 < n;
        float v0, v1;
        olive_pair(x[k] / s, pair ? x[k + 1] / s : 0.0f, v0, v1);
        x[k] = v0 * s;
        if (pair) x[k + 1] = v1 * s;
    }
}

HALO_HD inline float ant_magnitude(int type, int i) {  // int4, flint4, pot4: quant::ant4_types()
    constexpr float m[3][8] = {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 1, 2, 3, 4, 6, 8, 12}, {0, 1, 2, 4, 8, 16, 32, 64}};
    return m[type][i];
}
HALO_HD inline float ant_value(int type, float x, float scale) {  // codebook_row's one value
    const float a = fabsf(x) / scale;
    int best = 0;
    for (int i = 1; i < 8; ++i)
        if (fabsf(ant_magnitude(type, i) - a) < fabsf(ant_magnitude(type, best) - a)) best = i;
    return copysignf(ant_magnitude(type, best), x) * scale;
}
HALO_HD inline void act_ant4_row(ActRow x, std::int64_t n, float amax) {
    if (amax == 0) return;
    int best_type = -1;  // -1: no type beat +inf, the row stays (the CPU's `best` starts as the row)
    double best_e = INFINITY;
    for (int type = 0; type < 3; ++type) {
        const float scale = amax / ant_magnitude(type, 7);
        double err = 0;
        for (std::int64_t k = 0; k < n; ++k) {
            const float y = ant_value(type, x[k], scale);
            err += (x[k] - y) * (x[k] - y);
        }
        if (err < best_e) best_e = err, best_type = type;
    }
    if (best_type < 0) return;
    const float scale = amax / ant_magnitude(best_type, 7);
    for (std::int64_t k = 0; k < n; ++k) x[k] = ant_value(best_type, x[k], scale);
}

// ---- the row -----------------------------------------------------------------------------------

HALO_HD inline std::int64_t act_group_cols(const ActRowFormat& f, std::int64_t cols) {
    if (f.family == ActFamily::olive4 || f.family == ActFamily::ant4) return cols;
    const std::int64_t g = f.family == ActFamily::amove ? f.am_group : f.group;
    return g > 0 && g < cols ? g : cols;
}
// Group `g` of a row whose largest |x| (NaNs left out) is row_amax.
HALO_HD inline void act_quantize_group(const ActRowFormat& f, ActRow x, std::int64_t cols, std::int64_t g, float row_amax) {
    const std::int64_t per = act_group_cols(f, cols), b = g * per, e = b + per < cols ? b + per : cols;
    switch (f.family) {
        case ActFamily::olive4: return act_olive4_row(x, cols, row_amax);
        case ActFamily::ant4: return act_ant4_row(x, cols, row_amax);
        case ActFamily::amove: {
            if (row_amax / f.sym_range == 0) return;  // amove_qdq_rows leaves a row of zeros (or NaNs) as it is
            return act_amove_group(f, x, b, e, act_row_scale(f, row_amax));
        }
        default: return act_table_group(f, x, b, e, act_row_scale(f, row_amax));
    }
}
HALO_HD inline float act_row_amax(ActRow x, std::int64_t cols) {
    float m = 0;
    for (std::int64_t c = 0; c < cols; ++c) m = act_max(m, fabsf(x[c]));
    return m;
}
// The whole row on one thread: what the host-side tests run.
HALO_HD inline void act_quantize_row(const ActRowFormat& f, ActRow x, std::int64_t cols) {
    const float amax = act_row_amax(x, cols);
    const std::int64_t per = act_group_cols(f, cols);
    for (std::int64_t g = 0; g * per < cols; ++g) act_quantize_group(f, x, cols, g, amax);
}

}  // namespace halo::cuda
