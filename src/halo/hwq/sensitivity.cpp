#include "halo/hwq/sensitivity.hpp"

#include <algorithm>
#include <functional>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

namespace halo::hwq {
namespace {

constexpr SensitivityTraits kSources[] = {
    {SensitivitySource::fisher, "fisher", true, "Fisher diagonal: mean squared gradient over calibration samples"},
    {SensitivitySource::hessian, "hessian", false, "w^2 * diag(X^T X) / tokens (OBD saliency, no backward pass)"},
};

void moments(const model::Matrix& w, double& mean, double& sd) {
    double s = 0, s2 = 0;
    for (float x : w.data) s += x, s2 += double(x) * x;
    const double n = static_cast<double>(w.data.size());
    mean = n ? s / n : 0;
    sd = n ? std::sqrt(std::max(0.0, s2 / n - mean * mean)) : 0;
}

std::size_t salient_count(const model::Matrix& w, double fraction) {
    return static_cast<std::size_t>(std::floor(fraction * static_cast<double>(w.data.size())));
}

}  // namespace

std::span<const SensitivityTraits> sensitivity_sources() { return kSources; }
const SensitivityTraits& sensitivity_source(std::string_view name) {
    for (const auto& s : kSources)
        if (s.name == name) return s;
    throw_bad_value("E9011", "--sensitivity", "unknown sensitivity source", "fisher or hessian", std::string(name));
}

model::Matrix hessian_sensitivity(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens, unsigned threads) {
    model::Matrix s(w.rows, w.cols);
    const double inv = tokens > 0 ? 1.0 / static_cast<double>(tokens) : 1.0;
    constexpr std::int64_t kRowsPerItem = 64;
    parallel_for(static_cast<std::size_t>((w.rows + kRowsPerItem - 1) / kRowsPerItem), threads, [&](std::size_t item, unsigned) {
        const std::int64_t r0 = static_cast<std::int64_t>(item) * kRowsPerItem;
        for (std::int64_t r = r0; r < std::min(w.rows, r0 + kRowsPerItem); ++r)
            for (std::int64_t c = 0; c < w.cols; ++c) {
                const double h = gram.rows == w.cols ? gram.at(c, c) * inv : 1.0;
                s.at(r, c) = static_cast<float>(double(w.at(r, c)) * w.at(r, c) * h);
            }
    });
    return s;
}

TileGrid make_grid(std::int64_t rows, std::int64_t cols, std::int64_t tile_rows, std::int64_t tile_cols,
                   std::string_view place) {
    if (tile_rows < 1 || tile_cols < 1 || tile_rows > rows || tile_cols > cols)
        throw_bad_value("E9012", std::string(place), "tile does not fit the matrix",
                        fmt::format("1..{} x 1..{} (outputs x inputs)", rows, cols), fmt::format("{}x{}", tile_rows, tile_cols),
                        "use a smaller --tile");
    return {rows, cols, tile_rows, tile_cols};
}

std::vector<double> tile_scores(const model::Matrix& s, const TileGrid& g) {
    std::vector<double> sum(static_cast<std::size_t>(g.count()), 0), n(sum.size(), 0);
    for (std::int64_t r = 0; r < g.rows; ++r)
        for (std::int64_t c = 0; c < g.cols; ++c) {
            const auto t = static_cast<std::size_t>(g.index(r, c));
            sum[t] += s.at(r, c);
            n[t] += 1;
        }
    for (std::size_t t = 0; t < sum.size(); ++t) sum[t] = n[t] > 0 ? sum[t] / n[t] : 0;
    return sum;
}

std::vector<std::uint8_t> sparse_mask_ref(const model::Matrix& w, const model::Matrix& s, const SparseSplitOptions& o) {
    double mean = 0, sd = 0;
    moments(w, mean, sd);
    std::vector<std::uint8_t> mask(w.data.size(), 1);
    for (std::size_t i = 0; i < w.data.size(); ++i)
        if (sd > 0 && std::fabs(w.data[i] - mean) > o.outlier_sigma * sd) mask[i] = 0;
    // Salient: the k largest sensitivities, ties broken by lower index (a full sort).
    std::vector<std::size_t> idx(w.data.size());
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return s.data[a] > s.data[b]; });
    const std::size_t k = salient_count(w, o.salient_fraction);
    for (std::size_t i = 0; i < k; ++i) mask[idx[i]] = 0;
    return mask;
}

std::vector<std::uint8_t> sparse_mask(const model::Matrix& w, const model::Matrix& s, const SparseSplitOptions& o) {
    double mean = 0, sd = 0;
    moments(w, mean, sd);
    std::vector<std::uint8_t> mask(w.data.size(), 1);
    for (std::size_t i = 0; i < w.data.size(); ++i)
        if (sd > 0 && std::fabs(w.data[i] - mean) > o.outlier_sigma * sd) mask[i] = 0;
    const std::size_t k = salient_count(w, o.salient_fraction);
    if (k == 0) return mask;
    // The k-th largest sensitivity by a selection over the values themselves (contiguous floats:
    // an index selection with an indirect comparator took seconds on a 7B block's 202 M
    // weights), then every weight above it and, among those equal to it, the lowest indices:
    // the same set as the reference's stable sort.
    std::vector<float> v(s.data.begin(), s.data.end());
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k - 1), v.end(), std::greater<float>());
    const float kth = v[k - 1];
    v = {};
    std::size_t above = 0;
    for (float x : s.data) above += x > kth;
    std::size_t ties = k - above;  // >= 1: kth itself is one of them
    for (std::size_t i = 0; i < s.data.size(); ++i) {
        if (s.data[i] > kth) mask[i] = 0;
        else if (ties > 0 && s.data[i] == kth) mask[i] = 0, --ties;
    }
    return mask;
}

}  // namespace halo::hwq
