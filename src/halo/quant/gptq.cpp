#include "halo/quant/gptq.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "halo/model/blas.hpp"
#include "halo/quant/gptq_factor.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

namespace halo::quant {
namespace {

// Upper Cholesky factor U of H^-1 (H^-1 = U^T U), row-major: rows i, entries j >= i valid
// (gptq_factor.hpp: the fast kernels, or LAPACK as the reference).
std::vector<float> inverse_hessian_factor(std::vector<float> h, std::int64_t n) {
    int info = 0;
    if (!inverse_hessian_upper_factor(h, n, info))
        throw_bad_value("E6004", "Hessian", "the calibration Hessian is not positive definite after dampening",
                        "a positive definite X^T X + damp*I", fmt::format("factorization info {}", info),
                        "use more calibration tokens or a larger --damp");
    return h;
}

}  // namespace

GptqResult gptq(model::Matrix& w, const model::Matrix& gram, ColumnRounder& rounder, const GptqOptions& opt) {
    const std::int64_t rows = w.rows, n = w.cols;
    if (gram.rows != n || gram.cols != n)
        throw_bad_value("E6005", "gram", "calibration Gram does not match the weight's input dimension",
                        fmt::format("{}x{}", n, n), fmt::format("{}x{}", gram.rows, gram.cols));

    std::vector<float> h(static_cast<std::size_t>(n * n));
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = 2.0f * gram.data[i];
    for (std::int64_t i = 0; i < n; ++i)
        if (h[static_cast<std::size_t>(i * n + i)] == 0) {  // a dead input: nothing to preserve
            h[static_cast<std::size_t>(i * n + i)] = 1;
            for (std::int64_t r = 0; r < rows; ++r) w.at(r, i) = 0;
        }

    std::vector<std::int64_t> perm(static_cast<std::size_t>(n));
    std::iota(perm.begin(), perm.end(), 0);
    const std::int64_t gc = rounder.group_cols();
    if (opt.act_order) {
        std::stable_sort(perm.begin(), perm.end(), [&](std::int64_t a, std::int64_t b) {
            return h[static_cast<std::size_t>(a * n + a)] > h[static_cast<std::size_t>(b * n + b)];
        });
        // Static groups: fitted once from the unquantized weights (see the header).
        if (gc == 0) rounder.fit(w, 0, n);
        else
            for (std::int64_t c = 0; c < n; c += gc) rounder.fit(w, c, std::min(n, c + gc));
    }
    const bool permuted = opt.act_order;
    // Work in the permuted order: W columns and H rows/columns.
    model::Matrix wp = w;
    if (permuted) {
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t j = 0; j < n; ++j) wp.at(r, j) = w.at(r, perm[static_cast<std::size_t>(j)]);
        std::vector<float> hp(h.size());
        for (std::int64_t i = 0; i < n; ++i)
            for (std::int64_t j = 0; j < n; ++j)
                hp[static_cast<std::size_t>(i * n + j)] =
                    h[static_cast<std::size_t>(perm[static_cast<std::size_t>(i)] * n + perm[static_cast<std::size_t>(j)])];
        h.swap(hp);
    }
    double mean_diag = 0;
    for (std::int64_t i = 0; i < n; ++i) mean_diag += h[static_cast<std::size_t>(i * n + i)];
    mean_diag /= static_cast<double>(std::max<std::int64_t>(n, 1));
    for (std::int64_t i = 0; i < n; ++i) h[static_cast<std::size_t>(i * n + i)] += static_cast<float>(opt.damp * mean_diag);
    const std::vector<float> u = inverse_hessian_factor(std::move(h), n);

    if (!permuted && gc == 0) rounder.fit(wp, 0, n);
    GptqResult result;
    std::vector<double> row_loss(static_cast<std::size_t>(rows), 0.0);
    const std::int64_t bs = std::max<std::int64_t>(1, opt.block_size);
    std::vector<float> err;
    for (std::int64_t i1 = 0; i1 < n; i1 += bs) {
        const std::int64_t i2 = std::min(n, i1 + bs), cnt = i2 - i1;
        err.assign(static_cast<std::size_t>(rows * cnt), 0.0f);
        // Segments between group starts: inside one, rows are independent, so run them in parallel.
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
        if (i2 < n)  // lazy update of the columns after the block: W[:, i2:] -= Err * U[i1:i2, i2:]
            // model::gemm, not cblas: the Eigen kernels picked for this CPU (blas.hpp), on the
            // model's threads (set_blas_threads), not OpenBLAS's fallback kernels.
            model::gemm(false, false, rows, n - i2, cnt, -1.0f, err.data(), cnt, u.data() + i1 * n + i2, n, 1.0f,
                        wp.data.data() + i2, n);
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

QuantizedTensor quantize_gptq(const model::Matrix& w, const model::Matrix& gram, const QuantSpec& spec,
                              const GptqOptions& options) {
    check_error_feedback(spec, "gptq");
    QuantizedTensor q(spec, w.rows, w.cols);
    TensorRounder rounder(q);
    model::Matrix work = w;
    gptq(work, gram, rounder, options);
    return q;
}

}  // namespace halo::quant
