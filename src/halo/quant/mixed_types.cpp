#include "halo/quant/mixed_types.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "halo/quant/amove_baselines.hpp"
#include "halo/quant/element_type.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

// A symmetric value set {0, +-m...} plus extra values, as a sorted Codebook.
Codebook signed_set(std::span<const float> magnitudes, std::span<const float> extra) {
    std::vector<float> v;
    for (float m : magnitudes) {
        v.push_back(m);
        if (m != 0) v.push_back(-m);
    }
    v.insert(v.end(), extra.begin(), extra.end());
    std::sort(v.begin(), v.end());
    return Codebook(std::move(v));
}

std::vector<Codebook> with_specials(std::span<const float> magnitudes, std::initializer_list<float> specials) {
    std::vector<Codebook> out;
    for (float sv : specials) out.push_back(signed_set(magnitudes, std::span<const float>(&sv, 1)));
    return out;
}

std::span<const Codebook> bitmod_fp4_candidates() {
    // FP4 E2M1 x2 so the values are integers: 0, 1, 2, 3, 4, 6, 8, 12.
    static const std::vector<Codebook> c = [] {
        std::vector<float> mags;
        for (float v : representable_values(element_type(ElementId::e2m1)))
            if (v >= 0) mags.push_back(2 * v);
        return with_specials(mags, {5.0f, -5.0f, 16.0f, -16.0f});
    }();
    return c;
}

std::span<const Codebook> bitmod_fp3_candidates() {
    static const std::vector<Codebook> c = [] {
        std::vector<float> mags;
        for (float v : representable_values(element_type(ElementId::e2m0)))
            if (v >= 0) mags.push_back(v);  // 0, 1, 2, 4
        return with_specials(mags, {3.0f, -3.0f, 6.0f, -6.0f});
    }();
    return c;
}

std::span<const Codebook> ant4_candidates() {
    static const std::vector<Codebook> c = [] {
        std::vector<Codebook> out;
        for (const auto& t : ant4_types()) out.push_back(signed_set(t.magnitudes, {}));
        return out;
    }();
    return c;
}

std::span<const Codebook> no_candidates() { return {}; }

float max_magnitude(const Codebook& cb) { return std::max(std::fabs(cb.min()), std::fabs(cb.max())); }

template <bool kRef>
MixtureChoice choose(const QuantSpec& spec, std::span<const float> x, float tensor_scale, float clip) {
    float amax = 0;
    for (float v : x) amax = std::max(amax, std::fabs(v));
    amax *= clip;
    MixtureChoice best;
    if (amax == 0) return best;  // all zeros: type 0, scale 1, codes of 0
    const auto cands = spec.format->custom->candidates();
    bool first = true;
    for (std::size_t t = 0; t < cands.size(); ++t) {
        const float s = mixture_scale(spec, amax, max_magnitude(cands[t]), tensor_scale);
        double e = 0;
        for (float v : x) {
            const std::uint8_t q = kRef ? cands[t].encode_ref(v / s) : cands[t].encode(v / s);
            const double d = static_cast<double>(v) - static_cast<double>(s * cands[t].value(q));
            e += d * d;
        }
        if (first || e < best.sq_error) best = {static_cast<int>(t), s, e}, first = false;
    }
    return best;
}

// Groups overlapping [c0, c1), visited with their values (all rows of the group).
template <class Fn>
void for_groups(QuantizedTensor& t, const model::Matrix& w, std::int64_t c0, std::int64_t c1, Fn&& fn) {
    std::vector<float> buf;
    for (std::int64_t gc = c0 / t.group_cols(); gc * t.group_cols() < c1; ++gc) {
        const std::int64_t cb = gc * t.group_cols(), ce = std::min(t.cols(), cb + t.group_cols());
        for (std::int64_t gr = 0; gr < t.n_group_rows(); ++gr) {
            const std::int64_t rb = gr * t.group_rows(), re = std::min(t.rows(), rb + t.group_rows());
            buf.clear();
            for (std::int64_t r = rb; r < re; ++r) buf.insert(buf.end(), w.row(r) + cb, w.row(r) + ce);
            fn(gr * t.n_group_cols() + gc, std::span<const float>(buf));
        }
    }
}

void mixture_fit(QuantizedTensor& t, const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip) {
    const auto& spec = t.spec();
    if (spec.format->tensor_scale && c0 == 0) t.tensor_scale = mixture_tensor_scale(spec, w.data);
    for_groups(t, w, c0, c1, [&](std::int64_t g, std::span<const float> x) {
        const auto ch = fit_mixture_group(spec, x, t.tensor_scale, clip);
        t.params(g) = {ch.scale, 0.0f};
        t.group_type[static_cast<std::size_t>(g)] = static_cast<std::uint8_t>(ch.type);
    });
}

const Codebook& group_candidate(const QuantizedTensor& t, std::int64_t g) {
    return t.spec().format->custom->candidates()[t.group_type[static_cast<std::size_t>(g)]];
}

float mixture_round(QuantizedTensor& t, std::int64_t r, std::int64_t c, float w) {
    const std::int64_t g = t.group_index(r, c);
    const auto& cb = group_candidate(t, g);
    const float s = t.params(g).scale;
    const std::uint8_t q = cb.encode(w / s);
    t.code(r, c) = q;
    return s * cb.value(q);
}

float mixture_decode(const QuantizedTensor& t, std::int64_t r, std::int64_t c) {
    const std::int64_t g = t.group_index(r, c);
    const auto& cb = group_candidate(t, g);
    const std::uint8_t q = std::min<std::uint8_t>(t.code(r, c), static_cast<std::uint8_t>(cb.size() - 1));
    return t.params(g).scale * cb.value(q);
}

std::optional<CodeFault> mixture_bad_code(const QuantizedTensor& t) {
    // A value set may have fewer codes than the code width holds (ant4: 15 of 16).
    for (std::int64_t r = 0; r < t.rows(); ++r)
        for (std::int64_t c = 0; c < t.cols(); ++c) {
            const std::size_t size = group_candidate(t, t.group_index(r, c)).size();
            if (t.code(r, c) >= size)
                return CodeFault{r, c, fmt::format("code {} is outside its group's value set of {}", t.code(r, c), size)};
        }
    return std::nullopt;
}

void olive_fit(QuantizedTensor& t, const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip) {
    (void)clip;  // the pair rule searches its own scale
    if (c0 != 0 || c1 != t.cols())
        throw_bad_value("E6030", "olive4", "olive4 fits whole rows at once", "columns 0..cols",
                        fmt::format("columns {}..{}", c0, c1), "use --method rtn");
    if (t.cols() % 2 != 0)
        throw_bad_value("E6030", "olive4", "olive4 pairs values along the input dimension, which must be even",
                        "an even number of input columns", fmt::format("{}", t.cols()));
    for (std::int64_t r = 0; r < t.rows(); ++r) {
        const std::span<const float> row(w.row(r), static_cast<std::size_t>(w.cols));
        const float s = olive4_row_scale(row);
        t.params(r) = {s, 0.0f};
        for (std::int64_t c = 0; c < t.cols(); c += 2) {
            const auto p = olive4_encode_pair(row[static_cast<std::size_t>(c)] / s, row[static_cast<std::size_t>(c + 1)] / s);
            t.code(r, c) = p.c0;
            t.code(r, c + 1) = p.c1;
        }
    }
}

float olive_decode(const QuantizedTensor& t, std::int64_t r, std::int64_t c) {
    const std::int64_t c0 = c & ~std::int64_t{1};
    float v0 = 0, v1 = 0;
    olive4_decode_pair({t.code(r, c0), c0 + 1 < t.cols() ? t.code(r, c0 + 1) : std::uint8_t{0}}, v0, v1);
    return t.params(r).scale * (c == c0 ? v0 : v1);
}

std::optional<CodeFault> olive_bad_code(const QuantizedTensor& t) {
    if (t.cols() % 2 != 0) return CodeFault{0, t.cols() - 1, "an odd number of columns cannot hold OliVe pairs"};
    for (std::int64_t r = 0; r < t.rows(); ++r)
        for (std::int64_t c = 0; c < t.cols(); c += 2)
            if (t.code(r, c) == kOliveVictim && t.code(r, c + 1) == kOliveVictim)
                return CodeFault{r, c, "a pair of two victim markers (never written)"};
    return std::nullopt;
}

// The codes were fixed by olive_fit from whole rows (RTN passes the same weights again).
float olive_round(QuantizedTensor& t, std::int64_t r, std::int64_t c, float) { return olive_decode(t, r, c); }

}  // namespace

const CustomCodes kBitmodFp4Codes{"mixture", 4, 2, 128, true, bitmod_fp4_candidates, mixture_fit, mixture_round, mixture_decode,
                                  mixture_bad_code};
const CustomCodes kBitmodFp3Codes{"mixture", 3, 2, 128, true, bitmod_fp3_candidates, mixture_fit, mixture_round, mixture_decode,
                                  mixture_bad_code};
const CustomCodes kAnt4Codes{"mixture", 4, 2, 0, true, ant4_candidates, mixture_fit, mixture_round, mixture_decode, mixture_bad_code};
const CustomCodes kOlive4Codes{"olive", 4, 0, 0, false, no_candidates, olive_fit, olive_round, olive_decode, olive_bad_code};

void check_error_feedback(const QuantSpec& spec, std::string_view method) {
    if (!spec.format->custom || spec.format->custom->error_feedback) return;
    throw_bad_value("E6030", "--method", fmt::format("method {} cannot round format {}", method, spec.format->name),
                    "--method rtn (or smoothquant)", fmt::format("--method {} --format {}", method, spec.format->name),
                    fmt::format("{} fixes its codes from whole rows; error feedback column by column does not apply",
                                spec.format->name));
}

float mixture_scale(const QuantSpec& spec, float amax, float vmax, float tensor_scale) {
    return scale_under_tensor_scale(scale_format(spec.scale), amax, vmax, spec.format->tensor_scale ? tensor_scale : 1.0f);
}

MixtureChoice fit_mixture_group(const QuantSpec& spec, std::span<const float> x, float tensor_scale, float clip) {
    return choose<false>(spec, x, tensor_scale, clip);
}
MixtureChoice fit_mixture_group_ref(const QuantSpec& spec, std::span<const float> x, float tensor_scale, float clip) {
    return choose<true>(spec, x, tensor_scale, clip);
}

float mixture_tensor_scale(const QuantSpec& spec, std::span<const float> all) {
    // The smallest candidate range, so no group's E4M3 scale overflows whichever type it picks.
    float vmin = INFINITY;
    for (const auto& cb : spec.format->custom->candidates()) vmin = std::min(vmin, max_magnitude(cb));
    return tensor_scale_for(all, vmin);
}

}  // namespace halo::quant
