#include "halo/quant/quantized_tensor.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "halo/quant/amove_format.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"

namespace halo::quant {

QuantizedTensor::QuantizedTensor(QuantSpec spec, std::int64_t rows, std::int64_t cols)
    : spec_(std::move(spec)), rows_(rows), cols_(cols) {
    const auto& g = spec_.granularity;
    g_rows_ = g.group_rows == 0 ? std::max<std::int64_t>(rows, 1) : std::min(g.group_rows, std::max<std::int64_t>(rows, 1));
    g_cols_ = g.group_cols == 0 ? std::max<std::int64_t>(cols, 1) : std::min(g.group_cols, std::max<std::int64_t>(cols, 1));
    params_.assign(static_cast<std::size_t>(n_group_rows() * n_group_cols()), GroupParams{});
    codes_.assign(static_cast<std::size_t>(rows * cols), 0);
    if (spec_.format->custom && spec_.format->custom->type_bits > 0) group_type.assign(params_.size(), 0);
}

void QuantizedTensor::fit(const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip) {
    if (spec_.format->two_level) return spec_.format->two_level->fit(*this, w, c0, c1, clip);
    if (spec_.format->custom) return spec_.format->custom->fit(*this, w, c0, c1, clip);
    if (spec_.format->tensor_scale && c0 == 0) tensor_scale = fit_tensor_scale(spec_, w.data);
    std::vector<float> buf;
    for (std::int64_t gc = c0 / g_cols_; gc * g_cols_ < c1; ++gc) {
        const std::int64_t cb = gc * g_cols_, ce = std::min(cols_, cb + g_cols_);
        for (std::int64_t gr = 0; gr < n_group_rows(); ++gr) {
            const std::int64_t rb = gr * g_rows_, re = std::min(rows_, rb + g_rows_);
            buf.clear();
            for (std::int64_t r = rb; r < re; ++r) buf.insert(buf.end(), w.row(r) + cb, w.row(r) + ce);
            params_[static_cast<std::size_t>(gr * n_group_cols() + gc)] = fit_group(spec_, buf, tensor_scale, clip);
        }
    }
}

void QuantizedTensor::fit_group_row(const model::Matrix& w, std::int64_t gr, float clip) {
    const std::int64_t rb = gr * g_rows_, re = std::min(rows_, rb + g_rows_);
    std::vector<float> buf;
    for (std::int64_t gc = 0; gc < n_group_cols(); ++gc) {
        const std::int64_t cb = gc * g_cols_, ce = std::min(cols_, cb + g_cols_);
        buf.clear();
        for (std::int64_t r = rb; r < re; ++r) buf.insert(buf.end(), w.row(r) + cb, w.row(r) + ce);
        params_[static_cast<std::size_t>(gr * n_group_cols() + gc)] = fit_group(spec_, buf, tensor_scale, clip);
    }
}

float QuantizedTensor::quantize(std::int64_t r, std::int64_t c, float w) {
    if (spec_.format->custom) return spec_.format->custom->round(*this, r, c, w);
    const auto& p = params_[static_cast<std::size_t>(group_index(r, c))];
    const std::uint8_t q = quantize_value(spec_, p, w);
    codes_[static_cast<std::size_t>(r * cols_ + c)] = q;
    return dequantize_value(spec_, p, q);
}

float QuantizedTensor::decode(std::int64_t r, std::int64_t c) const {
    const std::uint8_t q = code(r, c);
    float v = spec_.format->custom ? spec_.format->custom->decode(*this, r, c)
              : row_codebooks.empty()
                  ? dequantize_value(spec_, params_[static_cast<std::size_t>(group_index(r, c))], q)
                  : row_codebooks[static_cast<std::size_t>(r * row_codebook_size + q)];
    if (!input_scale.empty()) v /= input_scale[static_cast<std::size_t>(c)];
    return v;
}

model::Matrix QuantizedTensor::decode(unsigned threads) const {
    model::Matrix m(rows_, cols_);
    constexpr std::int64_t kRowsPerItem = 64;
    parallel_for(static_cast<std::size_t>((rows_ + kRowsPerItem - 1) / kRowsPerItem), threads,
                 [&](std::size_t item, unsigned) {
                     const std::int64_t r0 = static_cast<std::int64_t>(item) * kRowsPerItem;
                     for (std::int64_t r = r0; r < std::min(rows_, r0 + kRowsPerItem); ++r)
                         for (std::int64_t c = 0; c < cols_; ++c) m.at(r, c) = decode(r, c);
                 });
    if (!sparse.row_ptr.empty())
        for (std::int64_t r = 0; r < rows_; ++r)
            for (auto i = sparse.row_ptr[static_cast<std::size_t>(r)]; i < sparse.row_ptr[static_cast<std::size_t>(r + 1)]; ++i)
                m.at(r, sparse.col[i]) = sparse.value[i];
    return m;
}

BitAccount QuantizedTensor::bits() const {
    BitAccount b;
    const auto n = static_cast<std::uint64_t>(rows_ * cols_);
    b.weights = n;
    if (!row_codebooks.empty()) {
        int kb = 1;
        while ((1 << kb) < row_codebook_size) ++kb;
        b.code_bits = n * static_cast<std::uint64_t>(kb);
        b.codebook_bits = static_cast<std::uint64_t>(rows_ * row_codebook_size) * 16;
    } else {
        b.code_bits = n * static_cast<std::uint64_t>(spec_.element_bits());
        if (!spec_.format->name.ends_with("-raw"))
            b.scale_bits = params_.size() * static_cast<std::uint64_t>(scale_format(spec_.scale).bits + spec_.zero_bits()) +
                           (spec_.format->tensor_scale ? 32 : 0);
        if (spec_.format->two_level) b.scale_bits = spec_.format->two_level->scale_bits(*this);
        if (spec_.format->custom)  // a type id per group beside its scale
            b.scale_bits += params_.size() * static_cast<std::uint64_t>(spec_.format->custom->type_bits);
        if (spec_.format->uses_codebook()) b.codebook_bits = spec_.codebook.size() * 16;  // one shared codebook, FP16
    }
    b.input_scale_bits = input_scale.size() * 16;
    if (!sparse.row_ptr.empty()) b.sparse_bits = sparse.nnz() * (16 + 32) + sparse.row_ptr.size() * 32;
    return b;
}

QuantizedTensor quantize_rtn(const model::Matrix& w, const QuantSpec& spec, float clip, unsigned threads) {
    QuantizedTensor q(spec, w.rows, w.cols);
    if (threads == 1 || spec.format->two_level || spec.format->custom || w.rows == 0) {  // the reference loop
        q.fit(w, 0, w.cols, clip);
        for (std::int64_t r = 0; r < w.rows; ++r)
            for (std::int64_t c = 0; c < w.cols; ++c) q.quantize(r, c, w.at(r, c));
        return q;
    }
    if (spec.format->tensor_scale) q.tensor_scale = fit_tensor_scale(spec, w.data);  // over the whole tensor, first
    parallel_for(static_cast<std::size_t>(q.n_group_rows()), threads, [&](std::size_t item, unsigned) {
        const auto gr = static_cast<std::int64_t>(item);
        q.fit_group_row(w, gr, clip);
        for (std::int64_t r = gr * q.group_rows(); r < std::min(w.rows, (gr + 1) * q.group_rows()); ++r)
            for (std::int64_t c = 0; c < w.cols; ++c) q.quantize(r, c, w.at(r, c));
    });
    return q;
}

void check_finite(const model::Matrix& w, const std::string& tensor_name) {
    for (std::size_t i = 0; i < w.data.size(); ++i)
        if (!std::isfinite(w.data[i]))
            throw_bad_value("E6003", tensor_name,
                            fmt::format("weight [{}, {}] is not finite", static_cast<std::int64_t>(i) / w.cols,
                                        static_cast<std::int64_t>(i) % w.cols),
                            "finite weights", fmt::format("{}", w.data[i]), "the model file is corrupt or was saved after a diverged run");
}

double output_error(const model::Matrix& w, const model::Matrix& q, const model::Matrix& gram) {
    const std::int64_t rows = w.rows, cols = w.cols;
    std::vector<float> d(w.data.size()), dg(w.data.size());
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = w.data[i] - q.data[i];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(rows), static_cast<int>(cols),
                static_cast<int>(cols), 1.0f, d.data(), static_cast<int>(cols), gram.data.data(), static_cast<int>(cols), 0.0f,
                dg.data(), static_cast<int>(cols));
    double s = 0;
    for (std::size_t i = 0; i < d.size(); ++i) s += static_cast<double>(d[i]) * dg[i];
    return s;
}

}  // namespace halo::quant
