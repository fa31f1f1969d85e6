#include "halo/hwq/halo_dir.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "halo/accel/sim_config.hpp"
#include "halo/hwq/array_tile_levels.hpp"
#include "halo/hwq/head_quantizer.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::hwq {

accel::ModelTileLevels empty_tile_levels(const model::ModelConfig& c, const std::string& model_name) {
    accel::ModelTileLevels m;
    m.model_name = model_name;
    m.n_layers = c.n_layers;
    m.d_model = c.d_model;
    m.d_ff = c.d_ff;
    m.vocab_size = c.vocab_size;
    return m;
}

namespace {
// One GEMM's entry: tiles, sparse part and its level, under the simulator's GEMM name.
void add_gemm_tile_levels(accel::ModelTileLevels& m, const std::string& name, const quant::QuantizedTensor& t, int sparse_level,
                          unsigned threads = 1) {
    // per-tile w = s * (c - z): the simulator charges z * sum(a); the array multiplies c = u - 128
    accel::TileLevels tl = array_tile_levels(t, true, [&](std::int64_t r, std::int64_t c) {
        return static_cast<std::uint8_t>(static_cast<std::int8_t>(static_cast<int>(t.code(r, c)) - 128));
    }, threads);
    m.sparse_nnz.emplace_back(name, static_cast<std::int64_t>(t.sparse.nnz()));
    if (sparse_level >= 0) m.sparse_level.emplace_back(name, sparse_level);
    m.layers.emplace_back(name, std::move(tl));
}
}  // namespace

void add_tile_levels(accel::ModelTileLevels& m, const quant::LinearRecord& rec, int sparse_level, unsigned threads) {
    add_gemm_tile_levels(m, accel::linear_gemm_name(rec.layer, rec.kind, rec.expert), rec.tensor, sparse_level, threads);
}

void add_head_tile_levels(accel::ModelTileLevels& m, const quant::HeadRecord& head, int sparse_level, unsigned threads) {
    add_gemm_tile_levels(m, kHeadName, head.tensor, sparse_level, threads);
}

accel::ModelTileLevels tile_levels_of(const HaloModelResult& r, const model::ModelConfig& c, const std::string& model_name) {
    accel::ModelTileLevels m = empty_tile_levels(c, model_name);
    for (std::size_t i = 0; i < r.model.linears.size(); ++i)
        add_tile_levels(m, r.model.linears[i], i < r.linears.size() ? r.linears[i].sparse_level.level : -1);
    if (r.model.head)  // the simulator's "output" GEMM at the head's tile levels
        add_head_tile_levels(m, *r.model.head, r.head ? r.head->sparse_level.level : -1);
    return m;
}

accel::DvfsTable dvfs_table(const Ladder& L) {
    accel::DvfsTable t;
    t.levels.clear();
    for (const auto& lv : L.levels) t.levels.push_back({lv.name, lv.freq_mhz, lv.voltage_v});
    t.nominal = 0;
    return t;
}

void InformationBits::add(const quant::QuantizedTensor& t, const CodebookRegistry& books) {
    weights += static_cast<double>(t.rows() * t.cols());
    // Weights per tile: its rows times its columns (the last row and column of tiles may be partial).
    std::vector<double> n(t.tiles.level.size(), 0);
    const std::int64_t gr = t.group_rows(), gc = t.group_cols(), ngc = t.n_group_cols();
    for (std::size_t i = 0; i < n.size(); ++i) {
        const std::int64_t r0 = static_cast<std::int64_t>(i) / ngc * gr, c0 = static_cast<std::int64_t>(i) % ngc * gc;
        n[i] = static_cast<double>((std::min(t.rows(), r0 + gr) - r0) * (std::min(t.cols(), c0 + gc) - c0));
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
        const auto k = books.books[static_cast<std::size_t>(t.tiles.codebook_id[i])].size();
        bits += n[i] * std::ceil(std::log2(std::max<double>(2, static_cast<double>(k)))) + 16 + 8;
    }
    std::int64_t rows_with = 0;
    for (std::size_t i = 0; i + 1 < t.sparse.row_ptr.size(); ++i) rows_with += t.sparse.row_ptr[i + 1] > t.sparse.row_ptr[i];
    bits += static_cast<double>(t.sparse.nnz()) * (8 + 32 + sparse_selector_bits) + static_cast<double>(rows_with) * 16;
}

double InformationBits::per_weight(const CodebookRegistry& books) const {
    double all = bits;
    for (const auto& b : books.books) all += 8.0 * static_cast<double>(b.size());
    return weights > 0 ? all / weights : 0;
}

double information_bits_per_weight(const HaloModelResult& r) {
    InformationBits ib;
    ib.sparse_selector_bits = r.sparse_selector_bits;
    for (const auto& rec : r.model.linears) ib.add(rec.tensor, r.books);
    if (r.model.head) ib.add(r.model.head->tensor, r.books);
    return ib.per_weight(r.books);
}

std::vector<std::pair<std::string, double>> index_bits_by_gemm(const HaloModelResult& r) {
    std::vector<std::pair<std::string, InformationBits>> per_gemm;
    double weights = 0, book_bits = 0;
    auto add = [&](std::string name, const quant::QuantizedTensor& t) {
        InformationBits ib;
        ib.sparse_selector_bits = r.sparse_selector_bits;
        ib.add(t, r.books);
        weights += ib.weights;
        per_gemm.emplace_back(std::move(name), ib);
    };
    for (const auto& rec : r.model.linears) add(accel::linear_gemm_name(rec.layer, rec.kind, rec.expert), rec.tensor);
    if (r.model.head) add(std::string(kHeadName), r.model.head->tensor);
    for (const auto& b : r.books.books) book_bits += 8.0 * static_cast<double>(b.size());
    std::vector<std::pair<std::string, double>> v;
    for (const auto& [name, ib] : per_gemm)
        v.emplace_back(name, ib.weights > 0 ? ib.bits / ib.weights + (weights > 0 ? book_bits / weights : 0) : 0);
    return v;
}

quant::QuantizeOptions halo_quantize_options(const HaloOptions& o) {
    quant::QuantizeOptions qo;
    qo.format = "int8-asym";
    qo.granularity = quant::Granularity::per_tile(o.tile_n, o.tile_k);
    return qo;
}

nlohmann::json halo_manifest_section(const HaloModelResult& r, double information_bits, const Ladder& L, const HaloOptions& o) {
    nlohmann::json books = nlohmann::json::array();
    for (const auto& b : r.books.books) books.push_back(b);
    std::vector<int> level_codes;  // the budget each level got
    for (std::size_t l = 0; l < L.levels.size(); ++l) level_codes.push_back(fit_options_for_level(o, L, l).max_codes);
    return {
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
        {"model_objective", o.model_objective},
        {"rank", rank_keys()[static_cast<std::size_t>(o.rank)].name},
        {"sparse_levels", r.sparse_linears_per_level},
        {"sensitivity", sensitivity_sources()[static_cast<std::size_t>(o.sensitivity)].name},
        {"salient_fraction", o.sparse.salient_fraction},
        {"outlier_sigma", o.sparse.outlier_sigma},
        {"sparse_grid", sparse_grid(o.sparse_grid).name},
        {"gptq", o.gptq},
        {"tiles_per_level", r.tiles_per_level},
        {"quantize_head", o.quantize_head},
        {"head_tiles_per_level", r.head_tiles_per_level},
        {"head_sparse_level", r.head ? nlohmann::json(r.head->sparse_level.level) : nlohmann::json(nullptr)},
        {"switches_grouped", r.switches},
        {"information_bits_per_weight", information_bits},
        {"decode", "int8-asym: w = scale * (u - zu) per tile with u = c + 128, zu = z + 128, where c is the INT8 "
                   "weight the array multiplies and z the tile's zero point; a sparse entry replaces the dense value"}};
}

std::vector<std::pair<std::string, std::string>> halo_extra_files(const accel::ModelTileLevels& tile_levels,
                                                                  const accel::SystolicOptions& machine,
                                                                  const mac::MacProfile* energy_profile) {
    std::vector<std::pair<std::string, std::string>> extra = {
        {"tile_levels.json", accel::tile_levels_text(tile_levels, "tile_levels.json")},
        {"sim_config.json", dump_json(accel::simulator_config_json(machine), 1, "sim_config.json") + "\n"}};
    if (energy_profile) extra.emplace_back("mac_profile.json", mac::profile_json(*energy_profile));
    return extra;
}

void write_halo_dir(const std::filesystem::path& dir, const HaloModelResult& r, const Ladder& L, const HaloOptions& o,
                    const quant::RunInfo& run_info, const model::ModelConfig& c, const std::string& model_name,
                    bool overwrite, const accel::SystolicOptions& machine, const mac::MacProfile* energy_profile) {
    if (!overwrite && std::filesystem::exists(dir))
        throw_bad_value("E9020", dir.string(), "output directory exists", "a new directory", "an existing one",
                        "pass --force to replace it");
    quant::RunInfo info = run_info;
    info.sections["halo"] = halo_manifest_section(r, information_bits_per_weight(r), L, o);
    // The quant directory writer stages and renames the whole directory; the simulator's files go
    // in through its `extra_files` so the directory appears complete or not at all.
    quant::write_quantized_dir(dir, r.model, halo_quantize_options(o), info, overwrite,
                               halo_extra_files(tile_levels_of(r, c, model_name), machine, energy_profile));
}

}  // namespace halo::hwq
