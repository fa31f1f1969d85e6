#include <cblas.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "halo/quant/device_backend.hpp"
#include "halo/quant/methods.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

// Per-row output error of Q against W: diag((W-Q) G (W-Q)^T), one GEMM.
std::vector<double> row_errors(const model::Matrix& w, const model::Matrix& q, const model::Matrix& gram) {
    const int rows = static_cast<int>(w.rows), cols = static_cast<int>(w.cols);
    std::vector<float> d(w.data.size()), dg(w.data.size());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = w.data[i] - q.data[i];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, cols, cols, 1.0f, d.data(), cols, gram.data.data(), cols,
                0.0f, dg.data(), cols);
    std::vector<double> out(static_cast<std::size_t>(rows), 0.0);
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c)
            out[static_cast<std::size_t>(r)] += static_cast<double>(d[static_cast<std::size_t>(r) * cols + c]) * dg[static_cast<std::size_t>(r) * cols + c];
    return out;
}

QuantizedTensor scaled_rtn(const model::Matrix& w, const std::vector<float>& s, const QuantSpec& spec, float clip,
                           unsigned threads) {
    model::Matrix ws = w;
    scale_columns(ws, s);
    QuantizedTensor q = quantize_rtn(ws, spec, clip, threads);
    q.input_scale = s;
    return q;
}

// The search's two objectives for candidate decodes: the total tr((W-Q) G (W-Q)^T) and its
// per-row terms. Here: quant::output_error and row_errors above (the reference). On a device:
// its row errors, the total their sum in row order.
class CandidateErrors {
public:
    CandidateErrors(const model::Matrix& w, const model::Matrix& gram, DeviceBackend* device)
        : w_(w), gram_(gram), device_(device ? device->row_errors(w, gram) : nullptr) {}
    double total(const model::Matrix& q) const {
        if (!device_) return output_error(w_, q, gram_);
        double s = 0;
        for (const double e : device_->of(q)) s += e;
        return s;
    }
    std::vector<double> rows(const model::Matrix& q) const { return device_ ? device_->of(q) : row_errors(w_, q, gram_); }

private:
    const model::Matrix& w_;
    const model::Matrix& gram_;
    std::unique_ptr<RowErrors> device_;
};

}  // namespace

AwqResult quantize_awq(const model::Matrix& w, const model::Matrix& gram, std::span<const float> act_abs_mean,
                       const QuantSpec& spec, const AwqOptions& opt) {
    check_error_feedback(spec, "awq");
    if (static_cast<std::int64_t>(act_abs_mean.size()) != w.cols)
        throw_bad_value("E6005", "awq", "activation statistics do not match the weight's input dimension",
                        fmt::format("{}", w.cols), fmt::format("{}", act_abs_mean.size()));
    const CandidateErrors errors(w, gram, opt.device);
    const unsigned threads = opt.threads;
    AwqResult best;
    std::vector<float> best_s;
    for (int k = 0; k < std::max(1, opt.alpha_grid); ++k) {
        const float alpha = static_cast<float>(k) / static_cast<float>(std::max(1, opt.alpha_grid));
        std::vector<float> s(act_abs_mean.size());
        float smax = 0, smin = 1e30f;
        for (std::size_t j = 0; j < s.size(); ++j) {
            s[j] = std::pow(std::max(act_abs_mean[j], 1e-8f), alpha);
            smax = std::max(smax, s[j]);
            smin = std::min(smin, s[j]);
        }
        const float norm = std::sqrt(smax * smin);
        for (float& v : s) v = scale_format(ScaleFormat::fp16).round(v / norm);
        QuantizedTensor q = scaled_rtn(w, s, spec, 1.0f, threads);
        const double err = errors.total(q.decode(threads));
        if (k == 0) best.rtn_error = err;
        if (k == 0 || err < best.error) {
            best.error = err;
            best.alpha = alpha;
            best.tensor = std::move(q);
            best_s = s;
        }
    }
    // Clip search at the chosen scales, per output row when scale groups are single rows.
    const bool per_row = best.tensor.group_rows() == 1;
    std::vector<double> best_row = errors.rows(best.tensor.decode(threads));
    for (int k = 1; k < opt.clip_steps; ++k) {
        const float clip = 1.0f - (1.0f - opt.clip_min) * static_cast<float>(k) / static_cast<float>(opt.clip_steps - 1);
        QuantizedTensor q = scaled_rtn(w, best_s, spec, clip, threads);
        const auto errs = errors.rows(q.decode(threads));
        if (per_row) {
            const std::int64_t ng = best.tensor.n_group_cols();
            for (std::int64_t r = 0; r < w.rows; ++r) {
                if (errs[static_cast<std::size_t>(r)] >= best_row[static_cast<std::size_t>(r)]) continue;
                best_row[static_cast<std::size_t>(r)] = errs[static_cast<std::size_t>(r)];
                for (std::int64_t g = 0; g < ng; ++g) best.tensor.params(r * ng + g) = q.params(r * ng + g);
                std::copy(q.codes().begin() + r * w.cols, q.codes().begin() + (r + 1) * w.cols,
                          best.tensor.codes().begin() + r * w.cols);
            }
        } else {
            double a = 0, b = 0;
            for (std::size_t r = 0; r < errs.size(); ++r) a += errs[r], b += best_row[r];
            if (a < b) {
                best.tensor = std::move(q);
                best_row = errs;
            }
        }
    }
    best.error = errors.total(best.tensor.decode(threads));
    return best;
}

}  // namespace halo::quant
