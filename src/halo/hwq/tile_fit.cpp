#include "halo/hwq/tile_fit.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "halo/quant/scale_format.hpp"

namespace halo::hwq {
namespace {

constexpr int kBins = TileHistogram::kBins;

// Scales are stored as FP16 in the quantized model directory: fit with the stored value so the
// decoded weights are exactly what the fit scored.
float fp16(float s) { return quant::scale_format(quant::ScaleFormat::fp16).round(s); }

using Hist = TileHistogram;

}  // namespace

TileHistogram tile_histogram(std::span<const float> w, std::span<const std::uint8_t> mask) {
    Hist h;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (std::size_t i = 0; i < w.size(); ++i)
        if (mask.empty() || mask[i]) lo = std::min(lo, double(w[i])), hi = std::max(hi, double(w[i]));
    if (!(lo <= hi)) return h;
    h.lo = lo, h.hi = hi;
    const double width = (hi - lo) / kBins;
    std::vector<double> sum(kBins, 0), cnt(kBins, 0);
    for (std::size_t i = 0; i < w.size(); ++i) {
        if (!mask.empty() && !mask[i]) continue;
        int b = width > 0 ? static_cast<int>((w[i] - lo) / width) : 0;
        b = std::clamp(b, 0, kBins - 1);
        sum[b] += w[i];
        cnt[b] += 1;
    }
    for (int b = 0; b < kBins; ++b)
        if (cnt[b] > 0) h.center.push_back(sum[b] / cnt[b]), h.count.push_back(cnt[b]), h.total += cnt[b];
    return h;
}

namespace {

// Squared error and energy of the histogram under (codes, s, z).
void score(const Hist& h, const std::vector<int>& codes, float s, int z, std::span<const int> allowed,
           std::span<const double> energy, TileFit& out) {
    double sse = 0, e = 0;
    for (std::size_t i = 0; i < h.center.size(); ++i) {
        const int c = nearest_code(codes, static_cast<float>(h.center[i] / s + z));
        const double d = h.center[i] - double(s) * (c - z);
        sse += h.count[i] * d * d;
        if (!energy.empty()) {
            const auto it = std::lower_bound(allowed.begin(), allowed.end(), c);
            const double ef = energy[static_cast<std::size_t>(it - allowed.begin())];
            if (std::isfinite(ef)) e += h.count[i] * ef;
        }
    }
    out.sse = sse;
    out.energy_fj = h.total > 0 ? e / h.total : 0;
}

}  // namespace

int nearest_code_ref(std::span<const int> codes, float u) {
    int best = codes[0];
    float bd = std::fabs(u - static_cast<float>(best));
    for (int c : codes) {
        const float d = std::fabs(u - static_cast<float>(c));
        if (d < bd) best = c, bd = d;
    }
    return best;
}

namespace {
// The first code not below u (binary search): nearest_code's and round_to_code's bracket.
std::span<const int>::iterator first_code_not_below(std::span<const int> codes, float u) {
    return std::lower_bound(codes.begin(), codes.end(), u, [](int c, float x) { return static_cast<float>(c) < x; });
}
}  // namespace

int nearest_code(std::span<const int> codes, float u) {
    const auto it = first_code_not_below(codes, u);
    if (it == codes.begin()) return codes.front();
    if (it == codes.end()) return codes.back();
    const int hi = *it, lo = *(it - 1);
    return (u - static_cast<float>(lo)) <= (static_cast<float>(hi) - u) ? lo : hi;
}

namespace {
bool is_even(int c) { return c % 2 == 0; }  // negative odd c: c % 2 == -1
}  // namespace

int round_to_code_ref(std::span<const int> codes, float u) {
    // Outside the codebook's range the end on that side (far out, float differences no longer tell codes apart).
    if (u <= static_cast<float>(codes.front())) return codes.front();
    if (u >= static_cast<float>(codes.back())) return codes.back();
    int best = codes[0];
    float bd = std::fabs(u - static_cast<float>(best));
    for (int c : codes) {
        const float d = std::fabs(u - static_cast<float>(c));
        if (d < bd || (d == bd && is_even(c) && !is_even(best))) best = c, bd = d;
    }
    return best;
}

int round_to_code(std::span<const int> codes, float u) {
    const auto it = first_code_not_below(codes, u);
    if (it == codes.begin()) return codes.front();
    if (it == codes.end()) return codes.back();
    const int hi = *it, lo = *(it - 1);
    const float dl = u - static_cast<float>(lo), dh = static_cast<float>(hi) - u;
    if (dl == dh) return is_even(hi) && !is_even(lo) ? hi : lo;
    return dl < dh ? lo : hi;
}

NearestCodeTable::NearestCodeTable(std::span<const int> codes)
    : codes_(codes), cmin_(codes.front()), lowest_(static_cast<float>(codes.front() - 1)), highest_(static_cast<float>(codes.back())),
      n_(codes.size()), at_or_below_(static_cast<std::size_t>(codes.back() - codes.front() + 2)) {
    std::size_t j = 0;
    for (int v = cmin_ - 1; v <= codes.back(); ++v) {
        while (j < n_ && codes_[j] <= v) ++j;
        at_or_below_[static_cast<std::size_t>(v - cmin_ + 1)] = j;
    }
}

TileFit fit_tile(std::span<const float> w, std::span<const std::uint8_t> mask, std::span<const int> allowed,
                 std::span<const double> energy, const TileFitOptions& o) {
    return fit_histogram(tile_histogram(w, mask), allowed, energy, o);
}

TileFit fit_histogram(const TileHistogram& h, std::span<const int> allowed, std::span<const double> energy,
                      const TileFitOptions& o) {
    TileFit best;
    const int amin = allowed.front(), amax = allowed.back();
    if (h.total == 0 || h.hi == h.lo || amin == amax) {
        // Constant tile (or a single code): one code c; z = c makes 0 exact, z = c - 1 lets the
        // scale carry the value.
        const double v = h.total > 0 ? (h.lo + h.hi) / 2 : 0;
        best.codes = {nearest_code(allowed, static_cast<float>(o.zero_min + o.zero_max) / 2)};
        const int c = best.codes[0];
        best.zero = std::clamp(v == 0 ? c : c - 1, o.zero_min, o.zero_max);
        const int d = c - best.zero;
        best.scale = d != 0 && v != 0 ? fp16(static_cast<float>(v / d)) : 1.0f;
        best.count = h.total;
        score(h, best.codes, best.scale, best.zero, allowed, energy, best);
        return best;
    }
    double emean = 0;
    int en = 0;
    for (double e : energy)
        if (std::isfinite(e)) emean += e, ++en;
    emean = en ? emean / en : 1;
    // 1. Codebook selection.
    std::vector<int> codes(allowed.begin(), allowed.end());
    const std::size_t k = o.max_codes > 0 ? static_cast<std::size_t>(o.max_codes) : codes.size();
    if (codes.size() > k) {
        const double s0 = (h.hi - h.lo) / (amax - amin);
        const double z0 = amin - h.lo / s0;
        std::vector<double> u(h.center.size());
        for (std::size_t i = 0; i < u.size(); ++i) u[i] = h.center[i] / s0 + z0;
        auto snap = [&](double target, double cnt, const std::vector<int>& taken) {
            int bestc = amin;
            double bc = std::numeric_limits<double>::infinity();
            for (std::size_t a = 0; a < allowed.size(); ++a) {
                if (std::find(taken.begin(), taken.end(), allowed[a]) != taken.end()) continue;
                const double e = energy.empty() || !std::isfinite(energy[a]) ? 0 : energy[a] / emean;
                const double c = cnt * (allowed[a] - target) * (allowed[a] - target) + o.energy_weight * cnt * e;
                if (c < bc) bc = c, bestc = allowed[a];
            }
            return bestc;
        };
        // Quantile initialization over the weight mass.
        std::vector<int> cb;
        double acc = 0;
        std::size_t qi = 0;
        for (std::size_t j = 0; j < k; ++j) {
            const double target = (j + 0.5) / k * h.total;
            while (qi + 1 < u.size() && acc + h.count[qi] < target) acc += h.count[qi++];
            cb.push_back(snap(u[qi], 1, cb));
        }
        std::sort(cb.begin(), cb.end());
        for (int it = 0; it < 12; ++it) {
            std::vector<double> sum(cb.size(), 0), cnt(cb.size(), 0);
            for (std::size_t i = 0; i < u.size(); ++i) {
                const int c = nearest_code(cb, static_cast<float>(u[i]));
                const auto j = static_cast<std::size_t>(std::lower_bound(cb.begin(), cb.end(), c) - cb.begin());
                sum[j] += h.count[i] * u[i];
                cnt[j] += h.count[i];
            }
            std::vector<int> next;
            for (std::size_t j = 0; j < cb.size(); ++j) next.push_back(snap(cnt[j] > 0 ? sum[j] / cnt[j] : cb[j], std::max(cnt[j], 1.0), next));
            std::sort(next.begin(), next.end());
            if (next == cb) break;
            cb = std::move(next);
        }
        codes = cb;
    }
    // 2. Scale and zero point: clip grid + least-squares scale refinement.
    best.sse = std::numeric_limits<double>::infinity();
    const int cmin = codes.front(), cmax = codes.back();
    for (double clip = 1.0; clip > 0.55; clip -= 0.05) {
        double lo = h.lo * clip, hi = h.hi * clip;
        float s = fp16(static_cast<float>((hi - lo) / std::max(1, cmax - cmin)));
        if (!(s > 0)) continue;
        int z = std::clamp(static_cast<int>(std::lround(cmin - lo / s)), o.zero_min, o.zero_max);
        for (int refine = 0; refine < 3; ++refine) {
            TileFit f;
            f.codes = codes, f.scale = s, f.zero = z, f.count = h.total;
            score(h, codes, s, z, allowed, energy, f);
            if (f.sse < best.sse) best = f;
            double num = 0, den = 0;
            for (std::size_t i = 0; i < h.center.size(); ++i) {
                const int c = nearest_code(codes, static_cast<float>(h.center[i] / s + z));
                num += h.count[i] * h.center[i] * (c - z);
                den += h.count[i] * double(c - z) * (c - z);
            }
            if (!(den > 0) || !(num > 0)) break;
            s = fp16(static_cast<float>(num / den));
        }
    }
    return best;
}

namespace {

// Exact squared error (plain and weighted by `h`, empty = 1) and mean energy of the dense
// weights under (codes, s, z). Codes by NearestCodeTable (nearest_code bit for bit) and energy per
// code index: refit_exact scores every weight of every tile and level twice (a 7B block: about
// 12,000 tiles x 3 levels x 2 candidates x 16,384 weights).
double score_exact(std::span<const float> w, std::span<const std::uint8_t> mask, std::span<const float> h, const std::vector<int>& codes,
                   float s, int z, std::span<const int> allowed, std::span<const double> energy, TileFit& out) {
    const NearestCodeTable table(codes);
    std::vector<double> code_energy(codes.size(), 0.0);  // 0 where not finite: such codes add nothing
    if (!energy.empty())
        for (std::size_t k = 0; k < codes.size(); ++k) {
            const auto it = std::lower_bound(allowed.begin(), allowed.end(), codes[k]);
            const double ef = energy[static_cast<std::size_t>(it - allowed.begin())];
            code_energy[k] = std::isfinite(ef) ? ef : 0.0;
        }
    double sse = 0, weighted = 0, e = 0, n = 0;
    const float zf = static_cast<float>(z);
    for (std::size_t i = 0; i < w.size(); ++i) {
        if (!mask.empty() && !mask[i]) continue;
        const std::size_t k = table.index(w[i] / s + zf);
        const double d = double(w[i]) - double(s) * (codes[k] - z);
        sse += d * d;
        weighted += (h.empty() ? 1.0 : double(h[i])) * d * d;
        n += 1;
        e += code_energy[k];
    }
    out.sse = sse;
    out.count = n;
    out.energy_fj = n > 0 ? e / n : 0;
    return weighted;
}

}  // namespace

void min_max_scale_zero(std::span<const float> w, std::span<const std::uint8_t> mask, std::span<const int> codes,
                        const TileFitOptions& o, float& scale, int& zero) {
    // quant::fit_group's asymmetric rule in the same float arithmetic, on the code range
    // [cmin, cmax] instead of its stored range [0, 2^b - 1]: for cmin = -128 the zero differs by
    // exactly 128 (cmin - lo / s is exact in float for |lo / s| <= 255).
    float lo = 0, hi = 0;
    for (std::size_t i = 0; i < w.size(); ++i)
        if (mask.empty() || mask[i]) lo = std::min(lo, w[i]), hi = std::max(hi, w[i]);
    const int cmin = codes.front(), cmax = codes.back();
    float s = fp16((hi - lo) / static_cast<float>(cmax - cmin));
    if (!(s > 0)) s = fp16(std::numeric_limits<float>::min());
    if (!(s > 0)) s = 1.0f;
    scale = s;
    zero = static_cast<int>(std::clamp(std::nearbyint(static_cast<float>(cmin) - lo / s), static_cast<float>(o.zero_min),
                                       static_cast<float>(o.zero_max)));
}

bool is_every_int8_code(std::span<const int> codes) {
    return codes.size() == 256 && codes.front() == -128 && codes.back() == 127;  // ascending and distinct: all of them
}

TileFit refit_exact(const TileFit& fit, std::span<const float> w, std::span<const std::uint8_t> mask, std::span<const int> allowed,
                    std::span<const double> energy, const TileFitOptions& o, std::span<const float> h) {
    if (is_every_int8_code(fit.codes)) {  // no clip contest at 8 bits (header): the fit's own grid is not scored
        TileFit mm = fit;
        min_max_scale_zero(w, mask, mm.codes, o, mm.scale, mm.zero);
        score_exact(w, mask, h, mm.codes, mm.scale, mm.zero, allowed, energy, mm);
        if (mm.count > 0) return mm;  // no weight in the tile: the fit as it is, below
    }
    TileFit best = fit;
    const double e_best = score_exact(w, mask, h, best.codes, best.scale, best.zero, allowed, energy, best);
    if (best.codes.size() < 2 || best.count == 0) return best;
    TileFit mm = fit;
    min_max_scale_zero(w, mask, mm.codes, o, mm.scale, mm.zero);
    if (mm.scale == best.scale && mm.zero == best.zero) return best;
    const double e_mm = score_exact(w, mask, h, mm.codes, mm.scale, mm.zero, allowed, energy, mm);
    return e_mm < e_best ? mm : best;
}

}  // namespace halo::hwq
