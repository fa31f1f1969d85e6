#include "halo/hwq/halo_dir.hpp"

#include <cmath>

#include <fmt/format.h>

#include "halo/accel/sim_config.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::hwq {

accel::ModelTileLevels tile_levels_of(const HaloModelResult& r, const model::ModelConfig& c, const std::string& model_name) {
    accel::ModelTileLevels m;
    m.model_name = model_name;
    m.n_layers = c.n_layers;
    m.d_model = c.d_model;
    m.d_ff = c.d_ff;
    m.vocab_size = c.vocab_size;
    for (std::size_t i = 0; i < r.model.linears.size(); ++i) {
        const auto& rec = r.model.linears[i];
        const auto& t = rec.tensor;
        accel::TileLevels tl;
        tl.tile_rows = t.tiles.tile_cols;  // the array's K extent: the weight's input columns
        tl.tile_cols = t.tiles.tile_rows;  // N extent: its output rows
        tl.n_tiles = (t.rows() + t.tiles.tile_rows - 1) / t.tiles.tile_rows;  // N tiles (outputs)
        tl.k_tiles = (t.cols() + t.tiles.tile_cols - 1) / t.tiles.tile_cols;  // K tiles (inputs)
        tl.weight_format = "int8";
        tl.zero_point = true;  // per-tile w = s * (c - z): the simulator charges z * sum(a)
        const std::int64_t nrt = tl.n_tiles, nct = tl.k_tiles;
        tl.level.assign(static_cast<std::size_t>(nrt * nct), 0);
        tl.code_histogram.assign(tl.level.size(), std::vector<std::uint64_t>(256, 0));
        for (std::int64_t rt = 0; rt < nrt; ++rt)
            for (std::int64_t ct = 0; ct < nct; ++ct)
                tl.level[static_cast<std::size_t>(ct * nrt + rt)] = t.tiles.level[static_cast<std::size_t>(rt * nct + ct)];
        for (std::int64_t rr = 0; rr < t.rows(); ++rr)
            for (std::int64_t cc = 0; cc < t.cols(); ++cc)
                ++tl.code_histogram[static_cast<std::size_t>((cc / t.tiles.tile_cols) * nrt + rr / t.tiles.tile_rows)]
                                   [static_cast<std::uint8_t>(static_cast<std::int8_t>(static_cast<int>(t.code(rr, cc)) - 128))];
        const std::string name = fmt::format("blk.{}.{}", rec.layer, model::linear_name(rec.kind));
        m.sparse_nnz.emplace_back(name, static_cast<std::int64_t>(t.sparse.nnz()));
        if (i < r.linears.size()) m.sparse_level.emplace_back(name, r.linears[i].sparse_level.level);
        m.layers.emplace_back(name, std::move(tl));
    }
    return m;
}

accel::DvfsTable dvfs_table(const Ladder& L) {
    accel::DvfsTable t;
    t.levels.clear();
    for (const auto& lv : L.levels) t.levels.push_back({lv.name, lv.freq_mhz, lv.voltage_v});
    t.nominal = 0;
    return t;
}

double information_bits_per_weight(const HaloModelResult& r) {
    double bits = 0, weights = 0;
    for (const auto& rec : r.model.linears) {
        const auto& t = rec.tensor;
        weights += static_cast<double>(t.rows() * t.cols());
        std::vector<double> n(t.tiles.level.size(), 0);
        for (std::int64_t rr = 0; rr < t.rows(); ++rr)
            for (std::int64_t cc = 0; cc < t.cols(); ++cc)
                n[static_cast<std::size_t>(t.group_index(rr, cc))] += 1;
        for (std::size_t i = 0; i < n.size(); ++i) {
            const auto k = r.books.books[static_cast<std::size_t>(t.tiles.codebook_id[i])].size();
            bits += n[i] * std::ceil(std::log2(std::max<double>(2, static_cast<double>(k)))) + 16 + 8;
        }
        std::int64_t rows_with = 0;
        for (std::size_t i = 0; i + 1 < t.sparse.row_ptr.size(); ++i) rows_with += t.sparse.row_ptr[i + 1] > t.sparse.row_ptr[i];
        bits += static_cast<double>(t.sparse.nnz()) * (8 + 32) + static_cast<double>(rows_with) * 16;
    }
    for (const auto& b : r.books.books) bits += 8.0 * static_cast<double>(b.size());
    return weights > 0 ? bits / weights : 0;
}

void write_halo_dir(const std::filesystem::path& dir, const HaloModelResult& r, const Ladder& L, const HaloOptions& o,
                    const quant::RunInfo& run_info, const model::ModelConfig& c, const std::string& model_name,
                    bool overwrite, const accel::SystolicOptions& machine, const mac::MacProfile* energy_profile) {
    if (!overwrite && std::filesystem::exists(dir))
        throw_bad_value("E9020", dir.string(), "output directory exists", "a new directory", "an existing one",
                        "pass --force to replace it");
    quant::QuantizeOptions qo;
    qo.format = "int8-asym";
    qo.granularity = quant::Granularity::per_tile(o.tile_n, o.tile_k);
    quant::RunInfo info = run_info;
    nlohmann::json books = nlohmann::json::array();
    for (const auto& b : r.books.books) books.push_back(b);
    std::vector<int> level_codes;  // the budget each level got
    for (std::size_t l = 0; l < L.levels.size(); ++l) level_codes.push_back(fit_options_for_level(o, L, l).max_codes);
    std::vector<std::int64_t> sparse_levels(L.levels.size(), 0);  // linears whose sparse part runs at each level
    for (const auto& lr : r.linears)
        if (lr.sparse_nnz > 0) ++sparse_levels[static_cast<std::size_t>(lr.sparse_level.level)];
    info.sections["halo"] = {
        {"ladder", ladder_json(L)},
        {"codebooks", books},
        {"objective", objectives()[static_cast<std::size_t>(o.objective)].name},
        {"budget", o.budget},
        {"tile_k", o.tile_k},
        {"tile_n", o.tile_n},
        {"max_codes", o.fit.max_codes},
        {"level_codes", level_codes},
        {"assignment", assign_scopes()[static_cast<std::size_t>(o.scope)].name},
        {"level_shares", o.level_shares},
        {"rank", rank_keys()[static_cast<std::size_t>(o.rank)].name},
        {"sparse_levels", sparse_levels},
        {"sensitivity", sensitivity_sources()[static_cast<std::size_t>(o.sensitivity)].name},
        {"salient_fraction", o.sparse.salient_fraction},
        {"outlier_sigma", o.sparse.outlier_sigma},
        {"gptq", o.gptq},
        {"tiles_per_level", r.tiles_per_level},
        {"switches_grouped", r.switches},
        {"information_bits_per_weight", information_bits_per_weight(r)},
        {"decode", "int8-asym: w = scale * (u - zu) per tile with u = c + 128, zu = z + 128, where c is the INT8 "
                   "weight the array multiplies and z the tile's zero point; a sparse entry replaces the dense value"}};
    // The quant directory writer stages and renames the whole directory; the simulator's files go
    // in through its `extra_files` so the directory appears complete or not at all.
    const auto tile_levels_text = dump_json(accel::tile_levels_json(tile_levels_of(r, c, model_name)), -1, "tile_levels.json") + "\n";
    const auto sim_config_text = dump_json(accel::simulator_config_json(machine), 1, "sim_config.json") + "\n";
    std::vector<std::pair<std::string, std::string>> extra = {{"tile_levels.json", tile_levels_text},
                                                               {"sim_config.json", sim_config_text}};
    if (energy_profile) extra.emplace_back("mac_profile.json", mac::profile_json(*energy_profile));
    quant::write_quantized_dir(dir, r.model, qo, info, overwrite, extra);
}

}  // namespace halo::hwq
