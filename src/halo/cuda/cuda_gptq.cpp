#include "halo/cuda/cuda_gptq.hpp"

#include <algorithm>
#include <numeric>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

namespace halo::cuda {

quant::GptqResult gptq_on_device(GptqEngine& engine, model::Matrix& w, const model::Matrix& gram, quant::ColumnRounder& rounder,
                                 const quant::GptqOptions& opt) {
    const std::int64_t rows = w.rows, n = w.cols;
    if (gram.rows != n || gram.cols != n)
        throw_bad_value("E8123", "gram", "calibration Gram does not match the weight's input dimension", fmt::format("{}x{}", n, n),
                        fmt::format("{}x{}", gram.rows, gram.cols));
    const auto at = [n](std::int64_t i, std::int64_t j) { return static_cast<std::size_t>(i * n + j); };
    std::vector<float> h(static_cast<std::size_t>(n * n));
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = 2.0f * gram.data[i];
    for (std::int64_t i = 0; i < n; ++i)
        if (h[at(i, i)] == 0) {  // a dead input: nothing to preserve
            h[at(i, i)] = 1;
            for (std::int64_t r = 0; r < rows; ++r) w.at(r, i) = 0;
        }
    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    const std::int64_t gc = rounder.group_cols();
    const bool permuted = opt.act_order;
    if (permuted) {
        std::stable_sort(perm.begin(), perm.end(), [&](std::int64_t a, std::int64_t b) { return h[at(a, a)] > h[at(b, b)]; });
        if (gc == 0) rounder.fit(w, 0, n);
        else
            for (std::int64_t c = 0; c < n; c += gc) rounder.fit(w, c, std::min(n, c + gc));
    }
    model::Matrix wp = w;
    if (permuted) {
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t j = 0; j < n; ++j) wp.at(r, j) = w.at(r, perm[static_cast<std::size_t>(j)]);
        std::vector<float> hp(h.size());
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t j = 0; j < n; ++j) hp[at(i, j)] = h[at(perm[static_cast<std::size_t>(i)], perm[static_cast<std::size_t>(j)])];
        h.swap(hp);
    }
    double mean_diag = 0;
    for (std::int64_t i = 0; i < n; ++i) mean_diag += h[at(i, i)];
    mean_diag /= static_cast<double>(std::max<std::int64_t>(n, 1));
    for (std::int64_t i = 0; i < n; ++i) h[at(i, i)] += static_cast<float>(opt.damp * mean_diag);
    const std::vector<float> u = engine.inverse_hessian_factor(h, n);
    h = {};
    engine.upload_weights(wp);

    if (!permuted && gc == 0) rounder.fit(wp, 0, n);
    quant::GptqResult result;
    std::vector<double> row_loss(static_cast<std::size_t>(rows), 0.0);
    const std::int64_t bs = std::max<std::int64_t>(1, opt.block_size);
    std::vector<float> err;
    for (std::int64_t i1 = 0; i1 < n; i1 += bs) {
        const std::int64_t i2 = std::min(n, i1 + bs), cnt = i2 - i1;
        // The columns this block reads, as the lazy updates so far left them: its own, and the
        // whole of a group whose parameters are fitted inside it.
        std::int64_t fetch_end = i2;
        if (!permuted && gc > 0)
            for (std::int64_t s = (i1 + gc - 1) / gc * gc; s < i2; s += gc) fetch_end = std::max(fetch_end, std::min(n, s + gc));
        engine.download_columns(i1, fetch_end, wp.data.data(), n);
        err.assign(static_cast<std::size_t>(rows * cnt), 0.0f);
        std::int64_t s1 = i1;
        while (s1 < i2) {
            if (!permuted && gc > 0 && s1 % gc == 0) rounder.fit(wp, s1, std::min(n, s1 + gc));
            std::int64_t s2 = i2;
            if (!permuted && gc > 0) s2 = std::min(i2, (s1 / gc + 1) * gc);
            const std::int64_t chunk = 16;
            parallel_for(static_cast<std::size_t>((rows + chunk - 1) / chunk), opt.threads, [&](std::size_t ci, unsigned) {
                const std::int64_t rb = static_cast<std::int64_t>(ci) * chunk, re = std::min(rows, rb + chunk);
                for (std::int64_t r = rb; r < re; ++r) {
                    float* wr = wp.row(r);
                    float* er = err.data() + r * cnt;
                    double loss = 0;
                    for (std::int64_t i = s1; i < s2; ++i) {
                        const float* ui = u.data() + i * n;
                        const float d = ui[i];
                        const float x = wr[i];
                        const float q = rounder.round(r, perm[static_cast<std::size_t>(i)], x);
                        wr[i] = q;
                        const float e = (x - q) / d;
                        er[i - i1] = e;
                        loss += static_cast<double>(x - q) * (x - q) / (static_cast<double>(d) * d) / 2;
                        for (std::int64_t j = i + 1; j < i2; ++j) wr[j] -= e * ui[j];
                    }
                    row_loss[static_cast<std::size_t>(r)] += loss;
                }
            });
            s1 = s2;
        }
        engine.lazy_update(err.data(), i1, i2);
    }
    for (double l : row_loss) result.loss += l;
    if (permuted) {
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t j = 0; j < n; ++j) w.at(r, perm[static_cast<std::size_t>(j)]) = wp.at(r, j);
    } else {
        w = std::move(wp);
    }
    return result;
}

}  // namespace halo::cuda
