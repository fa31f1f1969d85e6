#include "halo/halo/halo_dir.hpp"

#include <cmath>

#include <fmt/format.h>

#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::halo {

nlohmann::json tile_levels_json(const HaloModelResult& r, const model::ModelConfig& c, const std::string& model_name,
                                const HaloOptions& o) {
    nlohmann::json layers = nlohmann::json::object();
    for (std::size_t i = 0; i < r.model.linears.size(); ++i) {
        const auto& rec = r.model.linears[i];
        const auto& t = rec.tensor;
        const std::int64_t nrt = (t.rows() + t.tiles.tile_rows - 1) / t.tiles.tile_rows;  // N tiles (outputs)
        const std::int64_t nct = (t.cols() + t.tiles.tile_cols - 1) / t.tiles.tile_cols;  // K tiles (inputs)
        std::vector<int> levels(static_cast<std::size_t>(nrt * nct));
        std::vector<std::vector<std::uint64_t>> hist(levels.size(), std::vector<std::uint64_t>(256, 0));
        for (std::int64_t rt = 0; rt < nrt; ++rt)
            for (std::int64_t ct = 0; ct < nct; ++ct)
                levels[static_cast<std::size_t>(ct * nrt + rt)] = t.tiles.level[static_cast<std::size_t>(rt * nct + ct)];
        for (std::int64_t rr = 0; rr < t.rows(); ++rr)
            for (std::int64_t cc = 0; cc < t.cols(); ++cc)
                ++hist[static_cast<std::size_t>((cc / t.tiles.tile_cols) * nrt + rr / t.tiles.tile_rows)][static_cast<std::uint8_t>(static_cast<std::int8_t>(static_cast<int>(t.code(rr, cc)) - 128))];
        layers[fmt::format("blk.{}.{}", rec.layer, model::linear_name(rec.kind))] = {
            {"k_tiles", nct}, {"n_tiles", nrt}, {"levels", levels}, {"histograms", hist},
            {"sparse_nnz", static_cast<std::int64_t>(t.sparse.nnz())}};
    }
    return {{"format", "halo-tile-levels"},
            {"version", 1},
            {"model", {{"name", model_name}, {"n_layers", c.n_layers}, {"d_model", c.d_model}, {"d_ff", c.d_ff},
                       {"vocab_size", c.vocab_size}}},
            {"tile", {o.tile_k, o.tile_n}},
            {"weight_format", "int8"},
            {"zero_point", true},  // per-tile w = s * (c - z): the simulator charges z * sum(a)
            {"layers", layers}};
}

nlohmann::json sim_config_json(const Ladder& L) {
    nlohmann::json levels = nlohmann::json::array();
    for (const auto& lv : L.levels) levels.push_back({{"name", lv.name}, {"freq_mhz", lv.freq_mhz}, {"voltage_v", lv.voltage_v}});
    return {{"dvfs", {{"levels", levels}, {"nominal", 0}}}};
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
                    const quant::RunInfo& info, const model::ModelConfig& c, const std::string& model_name,
                    bool overwrite) {
    if (!overwrite && std::filesystem::exists(dir))
        throw_bad_value("E9020", dir.string(), "output directory exists", "a new directory", "an existing one",
                        "pass --force to replace it");
    std::filesystem::path staging = dir;
    staging += ".halo-staging";
    std::filesystem::remove_all(staging);
    quant::QuantizeOptions qo;
    qo.format = "int8-asym";
    qo.granularity = quant::Granularity::per_tile(o.tile_n, o.tile_k);
    quant::write_quantized_dir(staging, r.model, qo, info, true);
    try {
        auto m = nlohmann::json::parse(read_file(staging / "manifest.json"));
        nlohmann::json books = nlohmann::json::array();
        for (const auto& b : r.books.books) books.push_back(b);
        m["halo"] = {{"ladder", ladder_json(L)},
                     {"codebooks", books},
                     {"objective", objectives()[static_cast<std::size_t>(o.objective)].name},
                     {"budget", o.budget},
                     {"tile_k", o.tile_k},
                     {"tile_n", o.tile_n},
                     {"max_codes", o.fit.max_codes},
                     {"sensitivity", sensitivity_sources()[static_cast<std::size_t>(o.sensitivity)].name},
                     {"salient_fraction", o.sparse.salient_fraction},
                     {"outlier_sigma", o.sparse.outlier_sigma},
                     {"gptq", o.gptq},
                     {"tiles_per_level", r.tiles_per_level},
                     {"switches_grouped", r.switches},
                     {"information_bits_per_weight", information_bits_per_weight(r)},
                     {"decode", "int8-asym: w = scale * (u - zu) per tile with u = c + 128, zu = z + 128, where c is the INT8 "
                                "weight the array multiplies and z the tile's zero point; a sparse entry replaces the dense value"}};
        write_file_atomic(staging / "manifest.json", m.dump(1) + "\n");
        write_file_atomic(staging / "tile_levels.json", tile_levels_json(r, c, model_name, o).dump() + "\n");
        write_file_atomic(staging / "sim_config.json", sim_config_json(L).dump(1) + "\n");
        if (std::filesystem::exists(dir)) std::filesystem::remove_all(dir);
        std::filesystem::rename(staging, dir);
    } catch (...) {
        std::filesystem::remove_all(staging);
        throw;
    }
}

}  // namespace halo::halo
