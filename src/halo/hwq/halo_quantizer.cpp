#include "halo/hwq/halo_quantizer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "halo/quant/rounder.hpp"
#include "halo/quant/scale_format.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/parallel.hpp"
#include "halo/util/progress.hpp"

namespace halo::hwq {
namespace {

float fp16(float x) { return quant::scale_format(quant::ScaleFormat::fp16).round(x); }

std::vector<double> level_energies(const Ladder& L, std::size_t l) {
    std::vector<double> e;
    for (int v : L.levels[l].values) e.push_back(L.energy_of(v));
    return e;
}

// Gathers tile t's weights (row-major inside the tile) and mask.
void gather(const model::Matrix& w, const std::vector<std::uint8_t>& mask, const TileGrid& g, std::int64_t t,
            std::vector<float>& wt, std::vector<std::uint8_t>& mt) {
    const std::int64_t r0 = (t / g.n_col_tiles()) * g.tile_rows, c0 = (t % g.n_col_tiles()) * g.tile_cols;
    const std::int64_t r1 = std::min(g.rows, r0 + g.tile_rows), c1 = std::min(g.cols, c0 + g.tile_cols);
    wt.clear(), mt.clear();
    for (std::int64_t r = r0; r < r1; ++r)
        for (std::int64_t c = c0; c < c1; ++c) {
            wt.push_back(w.at(r, c));
            mt.push_back(mask[static_cast<std::size_t>(r * g.cols + c)]);
        }
}

// GPTQ's rounding callback with a codebook per tile: fit() refits the tiles of a column block
// at their assigned levels from the weights as GPTQ has updated them; round() rounds to the
// tile's codebook (dense) or to the row's INT8 sparse grid (sparse positions).
class HaloRounder final : public quant::ColumnRounder {
public:
    HaloRounder(const TileGrid& g, const Ladder& L, const std::vector<int>& level, const std::vector<std::uint8_t>& mask,
                const std::vector<float>& sparse_scale, const TileFitOptions& fo, quant::QuantizedTensor& out, unsigned threads)
        : g_(g), L_(L), level_(level), mask_(mask), sparse_scale_(sparse_scale), fo_(fo), out_(out), threads_(threads),
          fits_(static_cast<std::size_t>(g.count())), sparse_(static_cast<std::size_t>(g.rows)) {}
    std::int64_t group_cols() const override { return g_.tile_cols; }
    void fit(const model::Matrix& w, std::int64_t c0, std::int64_t c1) override {
        const std::int64_t ct0 = c0 / g_.tile_cols, ct1 = (c1 - 1) / g_.tile_cols;
        std::vector<std::int64_t> tiles;
        for (std::int64_t rt = 0; rt < g_.n_row_tiles(); ++rt)
            for (std::int64_t ct = ct0; ct <= ct1; ++ct) tiles.push_back(rt * g_.n_col_tiles() + ct);
        parallel_for(tiles.size(), threads_, [&](std::size_t i, unsigned) {
            const auto t = tiles[i];
            std::vector<float> wt;
            std::vector<std::uint8_t> mt;
            gather(w, mask_, g_, t, wt, mt);
            const auto l = static_cast<std::size_t>(level_[static_cast<std::size_t>(t)]);
            const auto e = level_energies(L_, l);
            fits_[static_cast<std::size_t>(t)] = fit_tile(wt, mt, L_.levels[l].values, e, fo_);
            auto& p = out_.params(t);
            p.scale = fits_[static_cast<std::size_t>(t)].scale;
            p.zero = static_cast<float>(fits_[static_cast<std::size_t>(t)].zero + 128);
        });
    }
    float round(std::int64_t r, std::int64_t c, float v) override {
        const auto& f = fits_[static_cast<std::size_t>(g_.index(r, c))];
        const bool dense = mask_[static_cast<std::size_t>(r * g_.cols + c)];
        int code = 0;
        // At a sparse position the dense code decodes to ~0 (the code nearest z) and the sparse
        // value replaces it.
        const float dq = dense ? quantize_with(f, v, &code) : quantize_with(f, 0.0f, &code);
        out_.code(r, c) = static_cast<std::uint8_t>(code + 128);  // int8-asym stores offset binary: u = c + 128
        if (dense) return dq;
        const float s = sparse_scale_[static_cast<std::size_t>(r)];
        const float q = std::clamp(std::nearbyint(v / s), -127.0f, 127.0f);
        const float sv = fp16(s * q);
        sparse_[static_cast<std::size_t>(r)].push_back({c, sv});
        return sv;
    }
    std::vector<TileFit>& fits() { return fits_; }
    std::vector<std::vector<std::pair<std::int64_t, float>>>& sparse() { return sparse_; }

private:
    const TileGrid& g_;
    const Ladder& L_;
    const std::vector<int>& level_;
    const std::vector<std::uint8_t>& mask_;
    const std::vector<float>& sparse_scale_;
    TileFitOptions fo_;
    quant::QuantizedTensor& out_;
    unsigned threads_;
    std::vector<TileFit> fits_;
    std::vector<std::vector<std::pair<std::int64_t, float>>> sparse_;
};

}  // namespace

int CodebookRegistry::id(const std::vector<int>& codes) {
    const auto it = ids.find(codes);
    if (it != ids.end()) return it->second;
    const int n = static_cast<int>(books.size());
    books.push_back(codes);
    ids.emplace(codes, n);
    return n;
}

HaloLinearResult quantize_linear_halo(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens,
                                      const model::Matrix* fisher, const Ladder& L, const HaloOptions& o,
                                      CodebookRegistry& books, const std::string& place) {
    if (L.levels.empty()) throw_bad_value("E9007", place, "the ladder has no levels", ">= 1 level", "0");
    const TileGrid g = make_grid(w.rows, w.cols, o.tile_n, o.tile_k, place);
    const model::Matrix sens = fisher ? *fisher : hessian_sensitivity(w, gram, tokens);
    const auto mask = sparse_mask(w, sens, o.sparse);
    const auto score = tile_scores(sens, g);
    const std::size_t nt = static_cast<std::size_t>(g.count()), nl = L.levels.size();

    // Per tile and level: fit on the original weights -> error, time, energy.
    TileCosts costs;
    costs.n_tiles = nt, costs.n_levels = nl;
    costs.err.assign(nt * nl, 0), costs.time.assign(nt * nl, 0), costs.energy.assign(nt * nl, 0);
    std::vector<std::vector<double>> energies(nl);
    for (std::size_t l = 0; l < nl; ++l) energies[l] = level_energies(L, l);
    parallel_for(nt, o.threads, [&](std::size_t t, unsigned) {
        std::vector<float> wt;
        std::vector<std::uint8_t> mt;
        gather(w, mask, g, static_cast<std::int64_t>(t), wt, mt);
        for (std::size_t l = 0; l < nl; ++l) {
            const auto f = fit_tile(wt, mt, L.levels[l].values, energies[l], o.fit);
            const double n = static_cast<double>(wt.size());
            const double vr = L.levels[l].voltage_v / L.levels[0].voltage_v;
            costs.err[t * nl + l] = score[t] * f.mse() * n;
            costs.time[t * nl + l] = n / L.levels[l].freq_mhz;
            costs.energy[t * nl + l] = n * (std::isfinite(f.energy_fj) ? f.energy_fj : 1.0) * vr * vr;
        }
    });
    HaloLinearResult res;
    res.assignment = assign(costs, o.objective, o.budget);
    const auto& level = res.assignment.level;

    // Sparse rows' INT8 scales from the original weights (10 % headroom for GPTQ's updates).
    std::vector<float> sparse_scale(static_cast<std::size_t>(w.rows), 1.0f);
    for (std::int64_t r = 0; r < w.rows; ++r) {
        float m = 0;
        for (std::int64_t c = 0; c < w.cols; ++c)
            if (!mask[static_cast<std::size_t>(r * w.cols + c)]) m = std::max(m, std::fabs(w.at(r, c)));
        if (m > 0) sparse_scale[static_cast<std::size_t>(r)] = fp16(1.1f * m / 127.0f);
    }

    const auto spec = quant::make_spec("int8-asym", quant::Granularity::per_tile(o.tile_n, o.tile_k));
    res.tensor = quant::QuantizedTensor(spec, w.rows, w.cols);
    HaloRounder rounder(g, L, level, mask, sparse_scale, o.fit, res.tensor, o.threads);
    model::Matrix work = w;
    if (o.gptq && gram.rows == w.cols) {
        quant::GptqOptions go = o.gptq_options;
        go.threads = o.threads;
        go.block_size = std::max<std::int64_t>(1, std::min(go.block_size, g.tile_cols));
        quant::gptq(work, gram, rounder, go);
    } else {
        for (std::int64_t c0 = 0; c0 < w.cols; c0 += g.tile_cols) {
            const std::int64_t c1 = std::min(w.cols, c0 + g.tile_cols);
            rounder.fit(work, c0, c1);
            parallel_for(static_cast<std::size_t>(w.rows), o.threads, [&](std::size_t r, unsigned) {
                for (std::int64_t c = c0; c < c1; ++c)
                    work.at(static_cast<std::int64_t>(r), c) = rounder.round(static_cast<std::int64_t>(r), c, work.at(static_cast<std::int64_t>(r), c));
            });
        }
    }
    // Sparse CSR (GPTQ visits columns in order per row, but sort anyway for act_order).
    auto& sp = rounder.sparse();
    res.tensor.sparse.row_ptr.assign(1, 0);
    for (std::int64_t r = 0; r < w.rows; ++r) {
        auto& row = sp[static_cast<std::size_t>(r)];
        std::sort(row.begin(), row.end());
        for (const auto& [c, v] : row) {
            res.tensor.sparse.col.push_back(static_cast<std::int32_t>(c));
            res.tensor.sparse.value.push_back(v);
            res.sparse_max_error = std::max<double>(res.sparse_max_error, std::fabs(w.at(r, c) - v));
        }
        res.tensor.sparse.row_ptr.push_back(static_cast<std::uint32_t>(res.tensor.sparse.col.size()));
    }
    if (res.tensor.sparse.nnz() == 0) res.tensor.sparse.row_ptr.clear();
    res.sparse_nnz = static_cast<std::int64_t>(res.tensor.sparse.nnz());
    res.fits = std::move(rounder.fits());
    auto& tm = res.tensor.tiles;
    tm.tile_rows = g.tile_rows, tm.tile_cols = g.tile_cols;
    tm.level.assign(level.begin(), level.end());
    for (const auto& f : res.fits) tm.codebook_id.push_back(books.id(f.codes));
    res.switches = switches(level, grouped_order(level), -1);
    return res;
}

HaloModelResult empty_halo_result(const Ladder& L, const HaloOptions& o) {
    HaloModelResult out;
    out.model.method = "halo";
    out.model.spec = fmt::format("halo int8 codes, tile {}x{} (KxN), {} levels, objective {}", o.tile_k, o.tile_n,
                                 L.levels.size(), objectives()[static_cast<std::size_t>(o.objective)].name);
    out.model.activation_format = "int8_per_token";
    out.tiles_per_level.assign(L.levels.size(), 0);
    return out;
}

void quantize_block_halo(model::LayerWeights& layer, int l, const std::array<model::LinearInputStats, 7>& stats,
                         const std::array<model::Matrix, 7>* fisher, const Ladder& L, const HaloOptions& o,
                         HaloModelResult& out, int& prev_level, Progress* progress) {
    for (auto k : model::kLinearKinds)
        quant::check_finite(layer[k], fmt::format("blk.{}.{}.weight", l, model::linear_name(k)));
    for (auto k : model::kLinearKinds) {
        const auto tk = std::chrono::steady_clock::now();
        model::Matrix& w = layer[k];
        const auto& st = stats[static_cast<std::size_t>(k)];
        const model::Matrix* f = fisher ? &(*fisher)[static_cast<std::size_t>(k)] : nullptr;
        const std::string place = fmt::format("blk.{}.{}", l, model::linear_name(k));
        auto r = quantize_linear_halo(w, st.gram, st.tokens, f, L, o, out.books, place);
        quant::LinearRecord rec;
        rec.layer = l, rec.kind = k;
        model::Matrix q = r.tensor.decode();
        if (st.gram.rows == w.cols) rec.output_error = quant::output_error(w, q, st.gram);
        w = std::move(q);
        for (int lv : r.assignment.level) ++out.tiles_per_level[static_cast<std::size_t>(lv)];
        const auto order = grouped_order(r.assignment.level);
        out.switches += switches(r.assignment.level, order, prev_level);
        prev_level = r.assignment.level[order.back()];
        rec.tensor = r.tensor;
        rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tk).count();
        const auto b = rec.tensor.bits();
        auto& B = out.model.bits;
        B.weights += b.weights, B.code_bits += b.code_bits, B.scale_bits += b.scale_bits;
        B.codebook_bits += b.codebook_bits, B.input_scale_bits += b.input_scale_bits, B.sparse_bits += b.sparse_bits;
        out.model.linears.push_back(std::move(rec));
        r.tensor = {};
        out.linears.push_back(std::move(r));
        if (progress) progress->advance();
    }
}

HaloModelResult quantize_model_halo(model::ModelWeights& weights, const Ladder& L, const HaloOptions& o,
                                    quant::CalibrationSource* cal, const std::vector<std::array<model::Matrix, 7>>* fisher,
                                    ProgressSink sink) {
    const auto t0 = std::chrono::steady_clock::now();
    HaloModelResult out = empty_halo_result(L, o);
    const int n_layers = static_cast<int>(weights.layers.size());
    Progress progress(sink ? sink : ProgressSink([](const ProgressUpdate&) {}), "halo quantize linears",
                      static_cast<std::size_t>(n_layers) * 7);
    int prev_level = -1;
    for (int l = 0; l < n_layers; ++l) {
        auto& layer = weights.layers[static_cast<std::size_t>(l)];
        std::array<model::LinearInputStats, 7> stats{};
        if (cal) stats = cal->capture(l, {.gram = true, .channel_stats = false});
        quantize_block_halo(layer, l, stats, fisher ? &(*fisher)[static_cast<std::size_t>(l)] : nullptr, L, o, out,
                            prev_level, &progress);
        if (cal) cal->advance(l);
    }
    progress.finish();
    out.model.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

}  // namespace halo::hwq
