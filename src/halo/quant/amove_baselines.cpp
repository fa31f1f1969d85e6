#include "halo/quant/amove_baselines.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace halo::quant {
namespace {

constexpr std::array<float, 8> kAbfloat = {8, 12, 16, 24, 32, 48, 64, 96};

float nearest(std::span<const float> mags, float a) {  // mags ascending, non-negative
    float best = mags[0];
    for (float m : mags)
        if (std::fabs(m - a) < std::fabs(best - a)) best = m;
    return best;
}

float olive_pair(float& x0, float& x1, float s, bool write) {
    const float y0 = x0 / s, y1 = x1 / s;
    float q0, q1;
    if (std::fabs(y0) <= 7.5f && std::fabs(y1) <= 7.5f) {
        q0 = std::clamp(std::nearbyint(y0), -7.0f, 7.0f);
        q1 = std::clamp(std::nearbyint(y1), -7.0f, 7.0f);
    } else {
        const bool first = std::fabs(y0) >= std::fabs(y1);
        const float o = first ? y0 : y1;
        const float qo = std::copysign(nearest(kAbfloat, std::fabs(o)), o);
        q0 = first ? qo : 0.0f;
        q1 = first ? 0.0f : qo;
    }
    const float e = (x0 - q0 * s) * (x0 - q0 * s) + (x1 - q1 * s) * (x1 - q1 * s);
    if (write) x0 = q0 * s, x1 = q1 * s;
    return e;
}

void codebook_row(std::span<float> row, std::span<const float> mags, float scale) {
    for (float& x : row) x = std::copysign(nearest(mags, std::fabs(x) / scale), x) * scale;
}

constexpr std::array<float, 8> kInt4 = {0, 1, 2, 3, 4, 5, 6, 7};
constexpr std::array<float, 8> kFlint4 = {0, 1, 2, 3, 4, 6, 8, 12};
constexpr std::array<float, 8> kPot4 = {0, 1, 2, 4, 8, 16, 32, 64};

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

void olive4_row(std::span<float> row) {
    float amax = 0;
    for (float v : row) amax = std::max(amax, std::fabs(v));
    if (amax == 0) return;
    // The largest value is either a normal int4 (7 s) or lands on an abfloat level a s.
    float best_s = amax / 7, best_e = INFINITY;
    for (float a : {7.0f, 8.0f, 12.0f, 16.0f, 24.0f, 32.0f, 48.0f, 64.0f, 96.0f}) {
        const float s = amax / a;
        float e = 0;
        for (std::size_t k = 0; k + 1 < row.size(); k += 2) e += olive_pair(row[k], row[k + 1], s, false);
        if (e < best_e) best_e = e, best_s = s;
    }
    for (std::size_t k = 0; k + 1 < row.size(); k += 2) olive_pair(row[k], row[k + 1], best_s, true);
    if (row.size() % 2) {
        float dummy = 0;
        olive_pair(row.back(), dummy, best_s, true);
    }
}

void ant4_row(std::span<float> row) {
    float amax = 0;
    for (float v : row) amax = std::max(amax, std::fabs(v));
    if (amax == 0) return;
    std::vector<float> best(row.begin(), row.end()), trial;
    double best_e = INFINITY;
    for (std::span<const float> t : {std::span<const float>(kInt4), std::span<const float>(kFlint4), std::span<const float>(kPot4)}) {
        trial.assign(row.begin(), row.end());
        codebook_row(trial, t, amax / t.back());
        double e = 0;
        for (std::size_t k = 0; k < row.size(); ++k) e += (row[k] - trial[k]) * (row[k] - trial[k]);
        if (e < best_e) best_e = e, best = trial;
    }
    std::copy(best.begin(), best.end(), row.begin());
}

}  // namespace halo::quant
