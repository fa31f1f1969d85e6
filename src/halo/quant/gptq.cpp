#include "halo/quant/gptq.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "halo/quant/device_backend.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info);
}

namespace halo::quant {
namespace {

// Upper Cholesky factor U of H^-1 (H^-1 = U^T U), row-major: rows i, entries j >= i valid.
// LAPACK is column-major: a lower factor stored column-major reads row-major as its transpose.
std::vector<float> lapack_inverse_hessian_factor(std::vector<float> h, int n) {
    int info = 0;
    const char lower = 'L';
    spotrf_(&lower, &n, h.data(), &n, &info);
    if (info == 0) spotri_(&lower, &n, h.data(), &n, &info);
    if (info == 0) spotrf_(&lower, &n, h.data(), &n, &info);
    if (info != 0)
        throw_bad_value("E6004", "Hessian", "the calibration Hessian is not positive definite after dampening",
                        "a positive definite X^T X + damp*I", fmt::format("LAPACK info {}", info),
                        "use more calibration tokens or a larger --damp");
    return h;
}

// The CPU's algebra: LAPACK for the factor, one SGEMM per block for the lazy update.
class CpuAlgebra final : public GptqAlgebra {
public:
    std::vector<float> inverse_hessian_factor(std::vector<float> h, std::int64_t n) override {
        return lapack_inverse_hessian_factor(std::move(h), static_cast<int>(n));
    }
    void lazy_update(model::Matrix& wp, const std::vector<float>& err, const std::vector<float>& u, std::int64_t i1,
                     std::int64_t i2) override {
        const std::int64_t rows = wp.rows, n = wp.cols, cnt = i2 - i1;
        if (i2 < n)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), static_cast<int>(n - i2),
                        static_cast<int>(cnt), -1.0f, err.data(), static_cast<int>(cnt), u.data() + i1 * n + i2,
                        static_cast<int>(n), 1.0f, wp.data.data() + i2, static_cast<int>(n));
    }
};

}  // namespace

GptqResult gptq(model::Matrix& w, const model::Matrix& gram, ColumnRounder& rounder, const GptqOptions& opt) {
    if (opt.device) return opt.device->gptq(w, gram, rounder, opt);  // the same algorithm, its algebra on the device
    openblas_set_num_threads(static_cast<int>(blas_library_threads(std::max(1u, opt.threads))));  // util/parallel.hpp
    CpuAlgebra cpu;
    return gptq_with(cpu, w, gram, rounder, opt);
}

GptqResult gptq_with(GptqAlgebra& algebra, model::Matrix& w, const model::Matrix& gram, ColumnRounder& rounder,
                     const GptqOptions& opt) {
    const std::int64_t rows = w.rows, n = w.cols;
    std::optional<PhaseTimer> factor_timer(std::in_place, phase_slot(opt.phases, &PhaseSeconds::factor));
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
    const std::vector<float> u = algebra.inverse_hessian_factor(std::move(h), n);
    algebra.begin(wp);
    factor_timer.reset();

    if (!permuted && gc == 0) rounder.fit(wp, 0, n);
    GptqResult result;
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
        std::optional<PhaseTimer> columns_timer(std::in_place, phase_slot(opt.phases, &PhaseSeconds::columns));
        algebra.fetch_columns(wp, i1, fetch_end);
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
        columns_timer.reset();
        PhaseTimer update_timer(phase_slot(opt.phases, &PhaseSeconds::update));
        algebra.lazy_update(wp, err, u, i1, i2);  // the columns after the block: W[:, i2:] -= Err * U[i1:i2, i2:]
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
