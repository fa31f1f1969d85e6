#include "halo/hwq/sensitivity.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>
#include <span>
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

constexpr std::size_t kItem = std::size_t{1} << 16;  // values per parallel work item

// A float's bits mapped so that unsigned order is the floats' order (-0 counted as +0, which
// compares equal to it); NaNs have no place in that order.
std::uint32_t ordered_key(float x) {
    if (x == 0.0f) x = 0.0f;
    std::uint32_t u = 0;
    std::memcpy(&u, &x, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

float key_value(std::uint32_t key) {
    const std::uint32_t u = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
    float x = 0;
    std::memcpy(&x, &u, sizeof x);
    return x;
}

// The k-th largest value (1-based) by a radix select on ordered_key: a histogram of the top 16
// bits, then one of the low 16 bits among the values in the bin that holds the k-th; per-worker
// histograms, so the passes split among threads and give the same counts. nullopt on a NaN or
// when k is not in [1, n].
std::optional<float> kth_largest(std::span<const float> v, std::size_t k, unsigned threads) {
    if (k < 1 || k > v.size()) return std::nullopt;
    constexpr std::size_t kBins = 1 << 16;
    const std::size_t n = v.size(), items = (n + kItem - 1) / kItem;
    const unsigned workers = resolve_threads(threads);
    std::vector<std::uint32_t> hist(static_cast<std::size_t>(workers) * kBins);
    std::atomic<bool> nan{false};
    // Bin b of the pass's histogram, from the highest bin down: the one where the count of
    // values at or above it first reaches `rank`, which becomes the rank inside that bin. With
    // 1 <= rank <= the values counted, the lowest bin is reached only if it holds the k-th.
    const auto pick = [&](std::size_t& rank) {
        for (std::size_t b = kBins - 1; b > 0; --b) {
            std::size_t c = 0;
            for (unsigned wk = 0; wk < workers; ++wk) c += hist[wk * kBins + b];
            if (c >= rank) return static_cast<std::uint32_t>(b);
            rank -= c;
        }
        return std::uint32_t{0};
    };
    parallel_for(items, threads, [&](std::size_t it, unsigned wk) {
        std::uint32_t* h = hist.data() + wk * kBins;
        for (std::size_t i = it * kItem; i < std::min(n, (it + 1) * kItem); ++i) {
            if (std::isnan(v[i])) nan = true;
            ++h[ordered_key(v[i]) >> 16];
        }
    });
    if (nan) return std::nullopt;
    std::size_t rank = k;
    const std::uint32_t high = pick(rank);
    std::fill(hist.begin(), hist.end(), 0u);
    parallel_for(items, threads, [&](std::size_t it, unsigned wk) {
        std::uint32_t* h = hist.data() + wk * kBins;
        for (std::size_t i = it * kItem; i < std::min(n, (it + 1) * kItem); ++i) {
            const std::uint32_t key = ordered_key(v[i]);
            if ((key >> 16) == high) ++h[key & 0xffffu];
        }
    });
    const std::uint32_t low = pick(rank);
    return key_value((high << 16) | low);
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

std::vector<double> tile_scores_ref(const model::Matrix& s, const TileGrid& g) {
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

std::vector<double> tile_scores(const model::Matrix& s, const TileGrid& g, unsigned threads) {
    std::vector<double> sum(static_cast<std::size_t>(g.count()), 0);
    const std::int64_t nct = g.n_col_tiles();
    // A row tile's tiles are summed by one worker, rows in order and, inside a row, each tile's
    // columns in order: every tile adds its weights in the reference's order.
    parallel_for(static_cast<std::size_t>(g.n_row_tiles()), threads, [&](std::size_t rt, unsigned) {
        const auto first = g.bounds(static_cast<std::int64_t>(rt) * nct);
        double* tile_sum = sum.data() + rt * static_cast<std::size_t>(nct);
        for (std::int64_t r = first.r0; r < first.r1; ++r) {
            const float* row = s.data.data() + r * g.cols;
            for (std::int64_t ct = 0; ct < nct; ++ct) {
                const std::int64_t c1 = std::min(g.cols, (ct + 1) * g.tile_cols);
                double acc = tile_sum[ct];
                for (std::int64_t c = ct * g.tile_cols; c < c1; ++c) acc += row[c];
                tile_sum[ct] = acc;
            }
        }
    });
    for (std::size_t t = 0; t < sum.size(); ++t) {
        const auto n = static_cast<double>(g.bounds(static_cast<std::int64_t>(t)).weights());  // the reference's count of 1s
        sum[t] = n > 0 ? sum[t] / n : 0;
    }
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

std::vector<std::uint8_t> sparse_mask(const model::Matrix& w, const model::Matrix& s, const SparseSplitOptions& o,
                                      unsigned threads) {
    double mean = 0, sd = 0;
    moments(w, mean, sd);  // one sequential sum: its rounding decides borderline outliers
    const std::size_t n = w.data.size();
    std::vector<std::uint8_t> mask(n, 1);
    const std::size_t items = (n + kItem - 1) / kItem;
    if (sd > 0)
        parallel_for(items, threads, [&](std::size_t it, unsigned) {
            for (std::size_t i = it * kItem; i < std::min(n, (it + 1) * kItem); ++i)
                if (std::fabs(w.data[i] - mean) > o.outlier_sigma * sd) mask[i] = 0;
        });
    const std::size_t k = salient_count(w, o.salient_fraction);
    if (k == 0) return mask;
    // The k-th largest sensitivity, then every weight above it and, among those equal to it, the
    // lowest indices: the same set as the reference's stable sort.
    const std::optional<float> kth = kth_largest(s.data, k, threads);
    if (!kth) return sparse_mask_ref(w, s, o);  // a NaN sensitivity: the reference's order, whatever it makes of it
    std::vector<std::size_t> above_in(items, 0);
    parallel_for(items, threads, [&](std::size_t it, unsigned) {
        std::size_t above = 0;
        for (std::size_t i = it * kItem; i < std::min(n, (it + 1) * kItem); ++i)
            if (s.data[i] > *kth) mask[i] = 0, ++above;
        above_in[it] = above;
    });
    std::size_t above = 0;
    for (auto a : above_in) above += a;
    std::size_t ties = k - above;  // >= 1: kth itself is one of them
    for (std::size_t i = 0; i < n && ties > 0; ++i)
        if (s.data[i] == *kth) mask[i] = 0, --ties;
    return mask;
}

}  // namespace halo::hwq
