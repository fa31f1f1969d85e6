#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "halo/quant/methods.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

float sensitivity(const model::Matrix* fisher, std::span<const float> hdiag, std::int64_t r, std::int64_t c) {
    if (fisher) return fisher->at(r, c);
    if (!hdiag.empty()) return hdiag[static_cast<std::size_t>(c)];
    return 1.0f;
}

// Nearest centroid in a sorted list (ties to the lower one).
std::uint8_t nearest(const std::vector<float>& c, float x) {
    const auto it = std::lower_bound(c.begin(), c.end(), x);
    if (it == c.begin()) return 0;
    if (it == c.end()) return static_cast<std::uint8_t>(c.size() - 1);
    const auto hi = static_cast<std::size_t>(it - c.begin());
    return static_cast<std::uint8_t>((x - c[hi - 1] <= c[hi] - x) ? hi - 1 : hi);
}

}  // namespace

QuantizedTensor quantize_kmeans(const model::Matrix& w, const model::Matrix* fisher, std::span<const float> hdiag,
                                const KmeansOptions& opt) {
    if (opt.bits < 1 || opt.bits > 8)
        throw_bad_value("E6006", "--bits", "k-means codebooks take 1 to 8 bits", "1..8", fmt::format("{}", opt.bits));
    if (fisher && (fisher->rows != w.rows || fisher->cols != w.cols))
        throw_bad_value("E6005", "fisher", "sensitivity shape differs from the weight's", fmt::format("{}x{}", w.rows, w.cols),
                        fmt::format("{}x{}", fisher->rows, fisher->cols));
    const int k = 1 << opt.bits;
    std::vector<float> index_values(static_cast<std::size_t>(k));
    std::iota(index_values.begin(), index_values.end(), 0.0f);
    QuantizedTensor q(make_spec("codebook", Granularity::per_channel(), {}, Codebook(index_values)), w.rows, w.cols);
    q.row_codebook_size = k;
    q.row_codebooks.assign(static_cast<std::size_t>(w.rows * k), 0.0f);

    // A fraction outside [0, 1] (or NaN) would index past the weights below.
    if (!(opt.sparse_fraction >= 0.0f && opt.sparse_fraction <= 1.0f))
        throw_bad_value("E6036", "sparse_fraction", "k-means sparse fraction out of range", "a number in [0, 1]",
                        fmt::format("{}", opt.sparse_fraction));
    // Dense-and-sparse split: the largest |w| go to the FP16 sparse part.
    std::vector<char> is_sparse(w.data.size(), 0);
    const auto n_sparse = static_cast<std::size_t>(std::floor(opt.sparse_fraction * static_cast<double>(w.data.size())));
    if (n_sparse > 0) {
        std::vector<std::size_t> idx(w.data.size());
        std::iota(idx.begin(), idx.end(), 0);
        std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(n_sparse), idx.end(),
                         [&](std::size_t a, std::size_t b) { return std::fabs(w.data[a]) > std::fabs(w.data[b]); });
        for (std::size_t i = 0; i < n_sparse; ++i) is_sparse[idx[i]] = 1;
        q.sparse.row_ptr.assign(static_cast<std::size_t>(w.rows + 1), 0);
        for (std::int64_t r = 0; r < w.rows; ++r) {
            for (std::int64_t c = 0; c < w.cols; ++c)
                if (is_sparse[static_cast<std::size_t>(r * w.cols + c)]) {
                    q.sparse.col.push_back(static_cast<std::int32_t>(c));
                    q.sparse.value.push_back(scale_format(ScaleFormat::fp16).round(w.at(r, c)));
                }
            q.sparse.row_ptr[static_cast<std::size_t>(r + 1)] = static_cast<std::uint32_t>(q.sparse.value.size());
        }
    }

    std::vector<float> xs, ws, sorted;
    for (std::int64_t r = 0; r < w.rows; ++r) {
        xs.clear();
        ws.clear();
        for (std::int64_t c = 0; c < w.cols; ++c) {
            if (is_sparse[static_cast<std::size_t>(r * w.cols + c)]) continue;
            xs.push_back(w.at(r, c));
            ws.push_back(std::max(sensitivity(fisher, hdiag, r, c), 1e-12f));
        }
        std::vector<float> cent(static_cast<std::size_t>(k), 0.0f);
        if (!xs.empty()) {
            sorted = xs;
            std::sort(sorted.begin(), sorted.end());
            for (int i = 0; i < k; ++i)  // quantile initialization
                cent[static_cast<std::size_t>(i)] =
                    sorted[std::min(sorted.size() - 1, static_cast<std::size_t>((i + 0.5) * sorted.size() / k))];
            std::vector<double> num(static_cast<std::size_t>(k)), den(static_cast<std::size_t>(k));
            for (int it = 0; it < opt.iterations; ++it) {
                std::sort(cent.begin(), cent.end());
                std::fill(num.begin(), num.end(), 0.0);
                std::fill(den.begin(), den.end(), 0.0);
                for (std::size_t i = 0; i < xs.size(); ++i) {
                    const auto a = nearest(cent, xs[i]);
                    num[a] += static_cast<double>(ws[i]) * xs[i];
                    den[a] += ws[i];
                }
                bool moved = false;
                for (int i = 0; i < k; ++i)
                    if (den[static_cast<std::size_t>(i)] > 0) {
                        const auto nc = static_cast<float>(num[static_cast<std::size_t>(i)] / den[static_cast<std::size_t>(i)]);
                        moved |= nc != cent[static_cast<std::size_t>(i)];
                        cent[static_cast<std::size_t>(i)] = nc;
                    }
                if (!moved) break;
            }
        }
        for (float& c : cent) c = scale_format(ScaleFormat::fp16).round(c);
        std::sort(cent.begin(), cent.end());
        std::copy(cent.begin(), cent.end(), q.row_codebooks.begin() + r * k);
        for (std::int64_t c = 0; c < w.cols; ++c) q.code(r, c) = nearest(cent, w.at(r, c));
    }
    return q;
}

double weighted_error(const model::Matrix& w, const model::Matrix& q, const model::Matrix* fisher,
                      std::span<const float> hdiag) {
    double s = 0;
    for (std::int64_t r = 0; r < w.rows; ++r)
        for (std::int64_t c = 0; c < w.cols; ++c) {
            const double d = w.at(r, c) - q.at(r, c);
            s += sensitivity(fisher, hdiag, r, c) * d * d;
        }
    return s;
}

std::vector<float> smoothing_factors(std::span<const float> act_abs_max, std::span<const model::Matrix* const> weights,
                                     float alpha) {
    std::vector<float> s(act_abs_max.size(), 1.0f);
    for (std::size_t j = 0; j < s.size(); ++j) {
        float wmax = 0;
        for (const auto* w : weights)
            for (std::int64_t r = 0; r < w->rows; ++r) wmax = std::max(wmax, std::fabs(w->at(r, static_cast<std::int64_t>(j))));
        const float a = std::max(act_abs_max[j], 1e-5f), b = std::max(wmax, 1e-5f);
        s[j] = std::clamp(std::pow(a, alpha) / std::pow(b, 1.0f - alpha), 1e-5f, 1e5f);
    }
    return s;
}

void scale_columns(model::Matrix& w, std::span<const float> s) {
    for (std::int64_t r = 0; r < w.rows; ++r)
        for (std::int64_t c = 0; c < w.cols; ++c) w.at(r, c) *= s[static_cast<std::size_t>(c)];
}

}  // namespace halo::quant
