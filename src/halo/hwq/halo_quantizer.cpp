#include "halo/hwq/halo_quantizer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "halo/hwq/head_quantizer.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/quant/device_backend.hpp"
#include "halo/quant/phase_seconds.hpp"
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

// The levels as the tile fitters take them.
std::vector<LevelCodebook> level_codebooks(const Ladder& L, const std::vector<TileFitOptions>& fo) {
    std::vector<LevelCodebook> out(L.levels.size());
    for (std::size_t l = 0; l < out.size(); ++l) out[l] = {L.levels[l].values, level_energies(L, l), fo[l]};
    return out;
}

// The fitter of `o`: its own, else a CPU one kept in `local`.
TileFitter& fitter_of(const HaloOptions& o, std::unique_ptr<TileFitter>& local) {
    if (o.fitter) return *o.fitter;
    if (!local) local = std::make_unique<CpuTileFitter>(o.threads);
    return *local;
}

// GPTQ's rounding callback with a codebook per tile: fit() refits the tiles of a column block
// at their assigned levels from the weights as GPTQ has updated them; round() rounds to the
// tile's codebook (dense) or to the sparse grid (sparse positions: the row's INT8 scale, or the
// tile's where it rounds closer, sparse_grid.hpp).
class HaloRounder final : public quant::ColumnRounder {
public:
    HaloRounder(const TileGrid& g, const std::vector<LevelCodebook>& levels, const std::vector<int>& level,
                const std::vector<std::uint8_t>& mask, const std::vector<float>& sparse_scale, SparseGrid sparse_grid,
                quant::QuantizedTensor& out, TileFitter& fitter, unsigned threads, const std::vector<float>& column_weight,
                quant::PhaseSeconds* phases)
        : g_(g), levels_(levels), level_(level), mask_(mask), sparse_scale_(sparse_scale), sparse_grid_(sparse_grid), out_(out),
          fitter_(fitter), threads_(threads),
          column_weight_(column_weight), phases_(phases),
          fits_(static_cast<std::size_t>(g.count())), sparse_(static_cast<std::size_t>(g.rows)) {}
    std::int64_t group_cols() const override { return g_.tile_cols; }
    void fit(const model::Matrix& w, std::int64_t c0, std::int64_t c1) override {
        quant::PhaseTimer timer(quant::phase_slot(phases_, &quant::PhaseSeconds::halo_refit));
        const std::int64_t ct0 = c0 / g_.tile_cols, ct1 = (c1 - 1) / g_.tile_cols;
        std::vector<TileFitJob> jobs;
        for (std::int64_t rt = 0; rt < g_.n_row_tiles(); ++rt)
            for (std::int64_t ct = ct0; ct <= ct1; ++ct) {
                const std::int64_t t = rt * g_.n_col_tiles() + ct;
                jobs.push_back({t, level_[static_cast<std::size_t>(t)]});
            }
        auto fits = fit_tiles_exact(fitter_, w, mask_, g_, jobs, levels_, threads_, column_weight_);
        for (std::size_t i = 0; i < jobs.size(); ++i) {
            const auto t = jobs[i].tile;
            fits_[static_cast<std::size_t>(t)] = std::move(fits[i]);
            auto& p = out_.params(t);
            p.scale = fits_[static_cast<std::size_t>(t)].scale;
            p.zero = static_cast<float>(fits_[static_cast<std::size_t>(t)].zero + 128);
        }
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
        const SparseValue sv = sparse_value(v, sparse_scale_[static_cast<std::size_t>(r)], f.scale, sparse_grid_);
        sparse_[static_cast<std::size_t>(r)].push_back({c, sv.value, sv.code});
        return sv.value;
    }
    // A sparse entry: column, decoded value, the INT8 code the engine multiplies.
    struct SparseEntry {
        std::int64_t col;
        float value;
        int code;
        bool operator<(const SparseEntry& o) const { return col < o.col; }
    };
    std::vector<TileFit>& fits() { return fits_; }
    std::vector<std::vector<SparseEntry>>& sparse() { return sparse_; }

private:
    const TileGrid& g_;
    const std::vector<LevelCodebook>& levels_;
    const std::vector<int>& level_;
    const std::vector<std::uint8_t>& mask_;
    const std::vector<float>& sparse_scale_;
    SparseGrid sparse_grid_;
    quant::QuantizedTensor& out_;
    TileFitter& fitter_;
    unsigned threads_;
    const std::vector<float>& column_weight_;
    quant::PhaseSeconds* phases_;
    std::vector<TileFit> fits_;
    std::vector<std::vector<SparseEntry>> sparse_;
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

std::vector<int> parse_level_codes(std::string_view text) {
    std::vector<int> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find(',', start), text.size());
        const std::string item(text.substr(start, end - start));
        std::size_t used = 0;
        int v = -1;
        try {
            v = std::stoi(item, &used);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used == 0 || used != item.size() || v < 0)
            throw_bad_value("E9069", "--level-codes", "a level's codebook budget is not a count", "e.g. 0,16,9 (0 = every code the level allows)",
                            item);
        out.push_back(v);
        start = end + 1;
    }
    return out;
}

void check_options(const HaloOptions& o, const Ladder& L) {
    const auto& lc = o.level_codes;
    const bool ok = (lc.size() == 1 || lc.size() == L.levels.size()) && std::all_of(lc.begin(), lc.end(), [](int k) { return k >= 0; });
    if (!ok) {
        std::string text;
        for (int k : lc) text += fmt::format("{}{}", text.empty() ? "" : ",", k);
        throw_bad_value("E9061", "--level-codes", "a codebook budget per level, or one for all levels",
                        fmt::format("1 or {} counts >= 0, slowest level first (0 = every code the level allows)", L.levels.size()),
                        text.empty() ? std::string("none") : text);
    }
    if (o.scope == AssignScope::model && !o.model_objective) check_level_shares(o.level_shares, L.levels.size());
}

TileFitOptions fit_options_for_level(const HaloOptions& o, const Ladder& L, std::size_t l) {
    TileFitOptions f = o.fit;
    const int budget = o.level_codes.size() == 1 ? o.level_codes[0] : o.level_codes.at(l);
    const int allowed = static_cast<int>(L.levels.at(l).values.size());
    int k = budget > 0 ? std::min(budget, allowed) : allowed;
    if (o.fit.max_codes > 0) k = std::min(k, o.fit.max_codes);
    f.max_codes = k;
    return f;
}

namespace {

struct Prepared {
    TileGrid grid;
    std::vector<std::uint8_t> mask;
    std::vector<double> score;
    std::vector<float> column_weight;  // X^T X's diagonal (the exact fit step's importance); empty without a Gram
};

Prepared prepare(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens, const model::Matrix* fisher,
                 const HaloOptions& o, const std::string& place) {
    Prepared p;
    p.grid = make_grid(w.rows, w.cols, o.tile_n, o.tile_k, place);
    const model::Matrix sens = fisher ? *fisher : hessian_sensitivity(w, gram, tokens, o.threads);
    p.mask = sparse_mask(w, sens, o.sparse, o.threads);
    p.score = tile_scores(sens, p.grid, o.threads);
    if (gram.rows == w.cols)
        for (std::int64_t c = 0; c < w.cols; ++c) p.column_weight.push_back(gram.at(c, c));
    return p;
}

// Per tile and level: fit on the original weights -> error, time, energy.
TileCosts costs_of(const model::Matrix& w, const Prepared& p, const Ladder& L, const HaloOptions& o) {
    const TileGrid& g = p.grid;
    const std::size_t nt = static_cast<std::size_t>(g.count()), nl = L.levels.size();
    TileCosts costs;
    costs.n_tiles = nt, costs.n_levels = nl;
    costs.err.assign(nt * nl, 0), costs.time.assign(nt * nl, 0), costs.energy.assign(nt * nl, 0);
    costs.weights.assign(nt, 0);
    costs.score = p.score;
    std::vector<TileFitOptions> fo(nl);
    for (std::size_t l = 0; l < nl; ++l) fo[l] = fit_options_for_level(o, L, l);
    const auto levels = level_codebooks(L, fo);
    std::vector<TileFitJob> jobs;
    jobs.reserve(nt * nl);
    for (std::size_t t = 0; t < nt; ++t)
        for (std::size_t l = 0; l < nl; ++l) jobs.push_back({static_cast<std::int64_t>(t), static_cast<int>(l)});
    std::unique_ptr<TileFitter> local;
    const auto fits = fit_tiles_exact(fitter_of(o, local), w, p.mask, g, jobs, levels, o.threads, p.column_weight);
    for (std::size_t t = 0; t < nt; ++t) {
        const double n = static_cast<double>(g.bounds(static_cast<std::int64_t>(t)).weights());
        costs.weights[t] = n;
        for (std::size_t l = 0; l < nl; ++l) {
            const auto& f = fits[t * nl + l];
            const double vr = L.levels[l].voltage_v / L.levels[0].voltage_v;
            costs.err[t * nl + l] = p.score[t] * f.mse() * n;
            costs.time[t * nl + l] = n / L.levels[l].freq_mhz;
            costs.energy[t * nl + l] = n * (std::isfinite(f.energy_fj) ? f.energy_fj : 1.0) * vr * vr;
        }
    }
    return costs;
}

}  // namespace

TileCosts linear_tile_costs(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens, const model::Matrix* fisher,
                            const Ladder& L, const HaloOptions& o, const std::string& place) {
    if (L.levels.empty()) throw_bad_value("E9007", place, "the ladder has no levels", ">= 1 level", "0");
    check_options(o, L);
    return costs_of(w, prepare(w, gram, tokens, fisher, o, place), L, o);
}

HaloLinearResult quantize_linear_halo(const model::Matrix& w, const model::Matrix& gram, std::int64_t tokens,
                                      const model::Matrix* fisher, const Ladder& L, const HaloOptions& o,
                                      CodebookRegistry& books, const std::string& place, const std::vector<int>* levels) {
    if (L.levels.empty()) throw_bad_value("E9007", place, "the ladder has no levels", ">= 1 level", "0");
    check_options(o, L);
    std::optional<quant::PhaseTimer> timer(std::in_place, quant::phase_slot(o.phases, &quant::PhaseSeconds::halo_prepare));
    const Prepared prep = prepare(w, gram, tokens, fisher, o, place);
    timer.emplace(quant::phase_slot(o.phases, &quant::PhaseSeconds::halo_costs));
    const TileGrid& g = prep.grid;
    const auto& mask = prep.mask;
    const std::size_t nt = static_cast<std::size_t>(g.count()), nl = L.levels.size();
    HaloLinearResult res;
    if (levels) {
        if (levels->size() != nt || std::any_of(levels->begin(), levels->end(), [&](int l) { return l < 0 || static_cast<std::size_t>(l) >= nl; }))
            throw_internal("E9066", fmt::format("{}: the model-wide plan's levels do not fit the layer's {} tiles and {} levels", place, nt, nl));
        res.assignment.level = *levels;
    } else {
        res.assignment = assign(costs_of(w, prep, L, o), o.objective, o.budget);
    }
    const auto& level = res.assignment.level;
    std::vector<TileFitOptions> fo(nl);
    for (std::size_t l = 0; l < nl; ++l) fo[l] = fit_options_for_level(o, L, l);

    // Sparse rows' INT8 scales from the original weights (10 % headroom for GPTQ's updates).
    std::vector<float> sparse_scale(static_cast<std::size_t>(w.rows), 1.0f);
    parallel_for(static_cast<std::size_t>(w.rows), o.threads, [&](std::size_t r, unsigned) {  // rows apart: any split, same scales
        float m = 0;
        const std::uint8_t* mr = mask.data() + r * static_cast<std::size_t>(w.cols);
        const float* wr = w.data.data() + r * static_cast<std::size_t>(w.cols);
        for (std::int64_t c = 0; c < w.cols; ++c)
            if (!mr[c]) m = std::max(m, std::fabs(wr[c]));
        if (m > 0) sparse_scale[r] = fp16(1.1f * m / 127.0f);
    }, 64);

    const auto spec = quant::make_spec("int8-asym", quant::Granularity::per_tile(o.tile_n, o.tile_k));
    res.tensor = quant::QuantizedTensor(spec, w.rows, w.cols);
    const auto level_books = level_codebooks(L, fo);
    std::unique_ptr<TileFitter> local_fitter;
    HaloRounder rounder(g, level_books, level, mask, sparse_scale, o.sparse_grid, res.tensor, fitter_of(o, local_fitter), o.threads,
                        prep.column_weight, o.phases);
    model::Matrix work = w;
    timer.reset();  // GPTQ times itself (factor, columns, updates)
    if (o.gptq && gram.rows == w.cols) {
        quant::GptqOptions go = o.gptq_options;
        go.threads = o.threads;
        go.phases = o.phases;
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
    timer.emplace(quant::phase_slot(o.phases, &quant::PhaseSeconds::halo_records));
    // Sparse CSR (GPTQ visits columns in order per row, but sort anyway for act_order).
    auto& sp = rounder.sparse();
    res.tensor.sparse.row_ptr.assign(1, 0);
    std::vector<bool> seen(256, false);  // the sparse part's INT8 codes (the engine's timing)
    for (std::int64_t r = 0; r < w.rows; ++r) {
        auto& row = sp[static_cast<std::size_t>(r)];
        std::sort(row.begin(), row.end());
        for (const auto& e : row) {
            res.tensor.sparse.col.push_back(static_cast<std::int32_t>(e.col));
            res.tensor.sparse.value.push_back(e.value);
            res.sparse_max_error = std::max<double>(res.sparse_max_error, std::fabs(w.at(r, e.col) - e.value));
            seen[static_cast<std::size_t>(e.code + 128)] = true;
        }
        res.tensor.sparse.row_ptr.push_back(static_cast<std::uint32_t>(res.tensor.sparse.col.size()));
    }
    if (res.tensor.sparse.nnz() == 0) res.tensor.sparse.row_ptr.clear();
    res.sparse_nnz = static_cast<std::int64_t>(res.tensor.sparse.nnz());
    {
        for (int v = -128; v < 128; ++v)
            if (seen[static_cast<std::size_t>(v + 128)]) res.sparse_values.push_back(v);
        double dense_us = 0;
        for (int lv : level) dense_us += 1.0 / L.levels[static_cast<std::size_t>(lv)].freq_mhz;
        res.sparse_level = sparse_engine_level(L, res.sparse_values, res.sparse_nnz, dense_us, o.sparse_macs_per_cycle);
    }
    res.fits = std::move(rounder.fits());
    auto& tm = res.tensor.tiles;
    tm.tile_rows = g.tile_rows, tm.tile_cols = g.tile_cols;
    tm.level.assign(level.begin(), level.end());
    for (const auto& f : res.fits) tm.codebook_id.push_back(books.id(f.codes));
    res.switches = switches(level, grouped_order(level), -1);
    return res;
}

HaloModelResult empty_halo_result(const Ladder& L, const HaloOptions& o, const ModelPlan* plan) {
    check_options(o, L);
    HaloModelResult out;
    out.model.method = "halo";
    std::string point = std::string(objectives()[static_cast<std::size_t>(o.objective)].name);
    if (plan && o.model_objective) {
        point = fmt::format("model-wide {}", point);
    } else if (plan) {
        point = "model-wide shares ";
        for (std::size_t l = 0; l < o.level_shares.size(); ++l) point += fmt::format("{}{}", l ? "/" : "", o.level_shares[l]);
    }
    out.model.spec = fmt::format("halo int8 codes, tile {}x{} (KxN), {} levels, {} {}", o.tile_k, o.tile_n, L.levels.size(),
                                 plan ? "assignment" : "objective", point);
    out.model.activation_format = "int8_per_token";
    out.tiles_per_level.assign(L.levels.size(), 0);
    out.sparse_linears_per_level.assign(L.levels.size(), 0);
    out.sparse_selector_bits = sparse_grid(o.sparse_grid).selector_bits;
    return out;
}

namespace {
// One linear of a block (a block's own, or a MoE expert's: `expert` >= 0): HALO-quantized in
// place and recorded in `out` like every other.
void quantize_linear_into(model::Matrix& w, const model::LinearInputStats& st, const model::Matrix* f, int l,
                          model::LinearKind k, int expert, const Ladder& L, const HaloOptions& o, HaloModelResult& out,
                          int& prev_level, Progress* progress, const ModelPlan* plan) {
    const auto tk = std::chrono::steady_clock::now();
    const std::string place = expert < 0 ? fmt::format("blk.{}.{}", l, model::linear_name(k))
                                         : fmt::format("blk.{}.{}_exps.{}", l, model::linear_name(k), expert);
    const std::vector<int>* fixed = plan ? &plan->levels[out.linears.size()] : nullptr;
    auto r = quantize_linear_halo(w, st.gram, st.tokens, f, L, o, out.books, place, fixed);
    quant::LinearRecord rec;
    rec.layer = l, rec.kind = k, rec.expert = expert;
    model::Matrix q;
    {
        quant::PhaseTimer timer(quant::phase_slot(o.phases, &quant::PhaseSeconds::decode));
        q = r.tensor.decode(o.threads);
    }
    if (st.gram.rows == w.cols) {  // on the device with GPTQ's algebra, as quant::quantize_model does
        quant::PhaseTimer timer(quant::phase_slot(o.phases, &quant::PhaseSeconds::output_error));
        quant::DeviceBackend* device = o.gptq_options.device;
        rec.output_error = device ? device->output_error(w, q, st.gram) : quant::output_error(w, q, st.gram);
    }
    w = std::move(q);
    for (int lv : r.assignment.level) ++out.tiles_per_level[static_cast<std::size_t>(lv)];
    if (r.sparse_nnz > 0) ++out.sparse_linears_per_level[static_cast<std::size_t>(r.sparse_level.level)];
    const auto order = grouped_order(r.assignment.level);
    out.switches += switches(r.assignment.level, order, prev_level);
    prev_level = r.assignment.level[order.back()];
    rec.tensor = std::move(r.tensor);  // r keeps the fits and levels; the codes live in the record
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tk).count();
    out.model.bits += rec.tensor.bits();
    out.model.linears.push_back(std::move(rec));
    r.tensor = {};
    out.linears.push_back(std::move(r));
    if (progress) progress->advance();
}

// A MoE block's expert statistics, checked: with calibration, every expert must have had a
// routed token (quantizing it from no data would be a silent fallback to round-to-nearest).
void check_expert_stats(const std::vector<model::ExpertInputStats>& stats, std::size_t experts, int l) {
    if (stats.empty()) return;  // no calibration at all: every linear rounds alike
    if (stats.size() != experts)
        throw_internal("E9082", fmt::format("block {}: statistics for {} experts, the block has {}", l, stats.size(), experts));
    for (std::size_t e = 0; e < experts; ++e)
        if (stats[e][0].tokens == 0)
            throw_bad_value("E9081", fmt::format("blk.{}.ffn_*_exps expert {}", l, e),
                            "expert saw no calibration token, HALO cannot calibrate it", "at least 1 routed token", "0",
                            "use more or longer calibration samples (--samples, --seq-len)");
}
}  // namespace

void check_tiles_fit(const model::ModelConfig& config, const HaloOptions& o) {
    for (auto k : model::kLinearKinds) {
        const bool expert = config.moe() && model::is_expert_kind(k);
        const auto [rows, cols] = model::linear_shape(config, k);
        (void)make_grid(rows, cols, o.tile_n, o.tile_k,
                        expert ? fmt::format("blk.0.{}_exps.0", model::linear_name(k)) : fmt::format("blk.0.{}", model::linear_name(k)));
    }
}

std::size_t linear_count(const model::ModelWeights& weights) {
    std::size_t n = 0;
    for (const auto& layer : weights.layers)
        n += layer.experts.empty() ? model::kLinearKinds.size() : model::kLinearKinds.size() - 3 + 3 * layer.experts.size();
    return n;
}

void quantize_block_halo(model::LayerWeights& layer, int l, const std::array<model::LinearInputStats, 7>& stats,
                         const std::array<model::Matrix, 7>* fisher, const Ladder& L, const HaloOptions& o,
                         HaloModelResult& out, int& prev_level, Progress* progress, const ModelPlan* plan) {
    for (auto k : model::kLinearKinds)
        quant::check_finite(layer[k], fmt::format("blk.{}.{}.weight", l, model::linear_name(k)));
    for (auto k : model::kLinearKinds) {
        if (!layer.experts.empty() && model::is_expert_kind(k)) continue;  // a MoE block's FFN is its experts
        const model::Matrix* f = fisher ? &(*fisher)[static_cast<std::size_t>(k)] : nullptr;
        quantize_linear_into(layer[k], stats[static_cast<std::size_t>(k)], f, l, k, -1, L, o, out, prev_level, progress, plan);
    }
}

void quantize_experts_halo(model::LayerWeights& layer, int l, const std::vector<model::ExpertInputStats>& stats,
                           const std::vector<model::ExpertWeights>* fisher, const Ladder& L, const HaloOptions& o,
                           HaloModelResult& out, int& prev_level, Progress* progress, const ModelPlan* plan) {
    check_expert_stats(stats, layer.experts.size(), l);
    if (!stats.empty()) {  // tokens routed to each expert, reported like quant's methods do
        quant::ExpertTokens coverage{l, {}};
        for (const auto& st : stats) coverage.tokens.push_back(st[0].tokens);
        out.model.expert_tokens.push_back(std::move(coverage));
    }
    const model::LinearInputStats none{};
    for (std::size_t e = 0; e < layer.experts.size(); ++e)
        for (auto k : model::kExpertKinds) {
            model::Matrix& w = layer.experts[e][k];
            quant::check_finite(w, fmt::format("blk.{}.{}_exps.weight[{}]", l, model::linear_name(k), e));
            const auto& st = stats.empty() ? none : stats[e][model::ExpertWeights::slot(k)];
            const model::Matrix* f = fisher ? &(*fisher)[e][k] : nullptr;
            quantize_linear_into(w, st, f, l, k, static_cast<int>(e), L, o, out, prev_level, progress, plan);
        }
}

HaloModelResult quantize_model_halo(model::ModelWeights& weights, const Ladder& L, const HaloOptions& o,
                                    quant::CalibrationSource* cal, const model::FisherDiagonal* fisher,
                                    ProgressSink sink, const ModelPlan* plan) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::size_t n_linears = linear_count(weights);
    const std::size_t n_planned = n_linears + (o.quantize_head ? 1 : 0);  // the head's levels last
    if (o.scope == AssignScope::model && (!plan || plan->levels.size() != n_planned))
        throw_internal("E9067", fmt::format("model-wide assignment needs plan_model_wide's levels for all {} linears", n_planned));
    HaloModelResult out = empty_halo_result(L, o, plan);
    const int n_layers = static_cast<int>(weights.layers.size());
    Progress progress(sink ? sink : ProgressSink([](const ProgressUpdate&) {}), "halo quantize linears", n_linears);
    int prev_level = -1;
    for (int l = 0; l < n_layers; ++l) {
        const auto li = static_cast<std::size_t>(l);
        auto& layer = weights.layers[li];
        std::array<model::LinearInputStats, 7> stats{};
        if (cal) stats = cal->capture(l, {.gram = true, .channel_stats = false});
        // --calib-inputs unquantized: the next block is calibrated through this one as it was.
        std::optional<model::LayerWeights> unquantized;
        if (cal && o.calib_inputs == quant::CalibrationInputs::unquantized) unquantized = layer;
        quantize_block_halo(layer, l, stats, fisher ? &fisher->linear[li] : nullptr, L, o, out, prev_level, &progress, plan);
        if (!layer.experts.empty())  // each expert's linears, one more linear each, from its routed tokens
            quantize_experts_halo(layer, l, cal ? cal->take_expert_stats() : std::vector<model::ExpertInputStats>{},
                                  fisher ? &fisher->experts[li] : nullptr, L, o, out, prev_level, &progress, plan);
        if (cal) {
            if (unquantized) std::swap(layer, *unquantized);  // the source reads weights.layers[l]
            cal->advance(l);
            if (unquantized) std::swap(layer, *unquantized);
        }
    }
    if (o.quantize_head) quantize_head_halo(weights, cal, L, o, out, prev_level, plan, fisher);
    progress.finish();
    out.model.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

namespace {
// A MoE block's expert linears' tile costs, in quantize_experts_halo's order.
void append_expert_costs(const model::LayerWeights& layer, int l, const std::vector<model::ExpertInputStats>& stats,
                         const std::vector<model::ExpertWeights>* fisher, const Ladder& L, const HaloOptions& o,
                         std::vector<TileCosts>& costs, Progress& progress) {
    check_expert_stats(stats, layer.experts.size(), l);
    const model::LinearInputStats none{};
    for (std::size_t e = 0; e < layer.experts.size(); ++e)
        for (auto k : model::kExpertKinds) {
            const model::Matrix& w = layer.experts[e][k];
            quant::check_finite(w, fmt::format("blk.{}.{}_exps.weight[{}]", l, model::linear_name(k), e));
            const auto& st = stats.empty() ? none : stats[e][model::ExpertWeights::slot(k)];
            costs.push_back(linear_tile_costs(w, st.gram, st.tokens, fisher ? &(*fisher)[e][k] : nullptr, L, o,
                                              fmt::format("blk.{}.{}_exps.{}", l, model::linear_name(k), e)));
            progress.advance();
        }
}
}  // namespace

ModelPlan plan_model_wide(const model::ModelWeights& weights, const Ladder& L, const HaloOptions& o,
                          quant::CalibrationSource* cal, const model::FisherDiagonal* fisher, ProgressSink sink) {
    check_options(o, L);
    if (!o.model_objective) check_level_shares(o.level_shares, L.levels.size());
    const int n_layers = static_cast<int>(weights.layers.size());
    Progress progress(sink ? sink : ProgressSink([](const ProgressUpdate&) {}), "halo model-wide plan", linear_count(weights));
    std::vector<TileCosts> costs;
    for (int l = 0; l < n_layers; ++l) {
        const auto li = static_cast<std::size_t>(l);
        const auto& layer = weights.layers[li];
        std::array<model::LinearInputStats, 7> stats{};
        if (cal) stats = cal->capture(l, {.gram = true, .channel_stats = false});
        for (auto k : model::kLinearKinds) {  // quantize_block_halo's order
            if (!layer.experts.empty() && model::is_expert_kind(k)) continue;
            quant::check_finite(layer[k], fmt::format("blk.{}.{}.weight", l, model::linear_name(k)));
            const auto& st = stats[static_cast<std::size_t>(k)];
            const model::Matrix* f = fisher ? &fisher->linear[li][static_cast<std::size_t>(k)] : nullptr;
            costs.push_back(linear_tile_costs(layer[k], st.gram, st.tokens, f, L, o, fmt::format("blk.{}.{}", l, model::linear_name(k))));
            progress.advance();
        }
        if (!layer.experts.empty())
            append_expert_costs(layer, l, cal ? cal->take_expert_stats() : std::vector<model::ExpertInputStats>{},
                                fisher ? &fisher->experts[li] : nullptr, L, o, costs, progress);
        if (cal) cal->advance(l);
    }
    if (o.quantize_head) costs.push_back(head_tile_costs(weights, cal, L, o, fisher));
    progress.finish();
    if (o.model_objective) {
        ModelPlan plan;
        plan.objective_plan = assign_model_objective(costs, o.objective, o.budget);
        plan.levels = plan.objective_plan->levels;
        return plan;
    }
    return {assign_model_wide(costs, o.level_shares, o.rank), std::nullopt};
}

}  // namespace halo::hwq
