#include "halo/quant/amove_baselines.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "halo/quant/scale_format.hpp"

namespace halo::quant {
namespace {

constexpr std::array<float, 7> kAbfloat = {8, 12, 16, 24, 32, 48, 64};

// Index of the nearest magnitude (ascending, non-negative); a tie keeps the smaller one.
std::size_t nearest_index(std::span<const float> mags, float a) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < mags.size(); ++i)
        if (std::fabs(mags[i] - a) < std::fabs(mags[best] - a)) best = i;
    return best;
}
float nearest(std::span<const float> mags, float a) { return mags[nearest_index(mags, a)]; }

std::uint8_t int4_code(float y) {
    const int q = static_cast<int>(std::clamp(std::nearbyint(y), -7.0f, 7.0f));
    return static_cast<std::uint8_t>(q & 0xF);
}
float int4_value(std::uint8_t c) { return static_cast<float>((c & 0x8) ? static_cast<int>(c) - 16 : static_cast<int>(c)); }
std::uint8_t abfloat_code(float y) {
    const auto k = static_cast<std::uint8_t>(nearest_index(kAbfloat, std::fabs(y)) + 1);
    return static_cast<std::uint8_t>((std::signbit(y) ? 0x8 : 0x0) | k);
}
float abfloat_value(std::uint8_t c) {
    const int k = c & 0x7;
    const float m = k == 0 ? 0.0f : kAbfloat[static_cast<std::size_t>(k - 1)];
    return (c & 0x8) ? -m : m;
}

// Squared error of one pair at scale s.
float pair_error(float x0, float x1, float s) {
    float v0, v1;
    olive4_decode_pair(olive4_encode_pair(x0 / s, x1 / s), v0, v1);
    return (x0 - v0 * s) * (x0 - v0 * s) + (x1 - v1 * s) * (x1 - v1 * s);
}

void codebook_row(std::span<float> row, std::span<const float> mags, float scale) {
    for (float& x : row) x = std::copysign(nearest(mags, std::fabs(x) / scale), x) * scale;
}

constexpr std::array<float, 8> kInt4 = {0, 1, 2, 3, 4, 5, 6, 7};
constexpr std::array<float, 8> kFlint4 = {0, 1, 2, 3, 4, 6, 8, 12};
constexpr std::array<float, 8> kPot4 = {0, 1, 2, 4, 8, 16, 32, 64};
constexpr std::array<AntType, 3> kAnt = {{{"int4", kInt4}, {"flint4", kFlint4}, {"pot4", kPot4}}};

constexpr std::array<BaselineType, 2> kTypes = {{
    {"olive4", olive4_row, 4.0},
    {"ant4", ant4_row, 4.0},
}};

}  // namespace

std::span<const BaselineType> baseline_types() { return kTypes; }
const BaselineType* find_baseline_type(std::string_view name) {
    for (const auto& t : kTypes)
        if (t.name == name) return &t;
    return nullptr;
}

std::span<const float> olive_abfloat_levels() { return kAbfloat; }
std::span<const AntType> ant4_types() { return kAnt; }

OlivePair olive4_encode_pair(float y0, float y1) {
    if (std::fabs(y0) <= 7.5f && std::fabs(y1) <= 7.5f) return {int4_code(y0), int4_code(y1)};
    if (std::fabs(y0) >= std::fabs(y1)) return {abfloat_code(y0), kOliveVictim};
    return {kOliveVictim, abfloat_code(y1)};
}

void olive4_decode_pair(OlivePair p, float& v0, float& v1) {
    if (p.c1 == kOliveVictim && p.c0 != kOliveVictim) {
        v0 = abfloat_value(p.c0), v1 = 0.0f;
    } else if (p.c0 == kOliveVictim && p.c1 != kOliveVictim) {
        v0 = 0.0f, v1 = abfloat_value(p.c1);
    } else if (p.c0 == kOliveVictim) {  // never written: both slots victims
        v0 = v1 = 0.0f;
    } else {
        v0 = int4_value(p.c0), v1 = int4_value(p.c1);
    }
}

float olive4_row_scale(std::span<const float> row) {
    float amax = 0;
    for (float v : row) amax = std::max(amax, std::fabs(v));
    if (amax == 0) return 1.0f;
    // The largest value is either a normal int4 (7 s) or lands on an abfloat level a s. When no
    // candidate's error is finite (a NaN in the row, or squares past FLT_MAX) the first one (7 s)
    // is kept: a zero scale turned the row into x / 0, zeros and NaNs whose sign differs between
    // CPU and GPU (0 / 0), and wiped out the row's finite values.
    float best_s = 0, best_e = INFINITY;
    for (float a : {7.0f, 8.0f, 12.0f, 16.0f, 24.0f, 32.0f, 48.0f, 64.0f}) {
        float s = fp16_value(fp16_bits(amax / a));
        if (!(s > 0)) s = fp16_value(1);  // smallest FP16 subnormal
        if (best_s == 0) best_s = s;
        float e = 0;
        for (std::size_t k = 0; k < row.size(); k += 2) e += pair_error(row[k], k + 1 < row.size() ? row[k + 1] : 0.0f, s);
        if (e < best_e) best_e = e, best_s = s;
    }
    return best_s;
}

void olive4_row(std::span<float> row) {
    const float s = olive4_row_scale(row);
    for (std::size_t k = 0; k < row.size(); k += 2) {
        const bool pair = k + 1 < row.size();
        float v0, v1;
        olive4_decode_pair(olive4_encode_pair(row[k] / s, pair ? row[k + 1] / s : 0.0f), v0, v1);
        row[k] = v0 * s;
        if (pair) row[k + 1] = v1 * s;
    }
}

void ant4_row(std::span<float> row) {
    float amax = 0;
    for (float v : row) amax = std::max(amax, std::fabs(v));
    if (amax == 0) return;
    std::vector<float> best(row.begin(), row.end()), trial;
    double best_e = INFINITY;
    for (const auto& t : kAnt) {
        trial.assign(row.begin(), row.end());
        codebook_row(trial, t.magnitudes, amax / t.magnitudes.back());
        double e = 0;
        for (std::size_t k = 0; k < row.size(); ++k) e += (row[k] - trial[k]) * (row[k] - trial[k]);
        if (e < best_e) best_e = e, best = trial;
    }
    std::copy(best.begin(), best.end(), row.begin());
}

}  // namespace halo::quant
