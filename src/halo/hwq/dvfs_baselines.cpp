#include "halo/hwq/dvfs_baselines.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "halo/hwq/array_tile_levels.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/head_quantizer.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::hwq {

MultiplierMap multiplier_map(const quant::QuantSpec& spec, const Ladder* ladder) {
    const auto* f = spec.format;
    const bool integer = f && f->element && !f->custom && quant::element_type(*f->element).kind == quant::ElementKind::integer &&
                         quant::element_type(*f->element).int_step == 1.0f;
    if (!integer || spec.element_bits() > 8)
        throw_bad_value("E9051", "baseline format", "a DVFS-aware baseline needs a uniform integer format of at most 8 bits",
                        "int2..int8 or int2-asym..int8-asym", f ? std::string(f->name) : "none");
    const int bits = spec.element_bits();
    if (quant::element_type(*f->element).is_signed) return {0, 0};
    if (bits == 8) return {0, -128};
    const MultiplierMap top{7 - bits, 0};
    if (!ladder) return top;
    std::vector<MultiplierMap> candidates = {top};
    for (int shift = 8 - bits; shift >= 0; --shift)
        for (int offset : {0, -128}) {
            const MultiplierMap m{shift, offset};
            if (m.value(0) >= -128 && m.value((1 << bits) - 1) <= 127 && !(shift == top.shift && offset == top.offset))
                candidates.push_back(m);
        }
    MultiplierMap best = top;
    std::size_t best_level = 0;
    bool first = true;
    for (const auto& m : candidates) {
        std::vector<int> values;
        for (int c = 0; c < (1 << bits); ++c) values.push_back(m.value(c));
        const std::size_t l = fastest_level(*ladder, values);
        if (first || l > best_level) best = m, best_level = l;
        first = false;
    }
    return best;
}

int multiplier_value(const quant::QuantSpec& spec, const MultiplierMap& map, std::uint8_t code) {
    return map.value(static_cast<int>(std::lround(spec.value(code))));
}

std::size_t fastest_level(const Ladder& ladder, std::span<const int> values) {
    for (std::size_t l = ladder.levels.size(); l-- > 1;)
        if (std::all_of(values.begin(), values.end(), [&](int v) { return ladder.meets(v, l); })) return l;
    return 0;
}

void place_tiles_at_fastest_levels(quant::QuantizedTensor& t, const Ladder& ladder, std::int64_t tile_rows,
                                   std::int64_t tile_cols) {
    if (tile_rows < 1 || tile_cols < 1)
        throw_bad_value("E9052", "--tile", "tile sides must be positive", ">= 1", fmt::format("{}x{}", tile_rows, tile_cols));
    const MultiplierMap map = multiplier_map(t.spec(), &ladder);
    const std::int64_t nrt = (t.rows() + tile_rows - 1) / tile_rows, nct = (t.cols() + tile_cols - 1) / tile_cols;
    // Which multiplier values each tile uses (256 flags per tile), then its fastest level.
    std::vector<std::vector<bool>> used(static_cast<std::size_t>(nrt * nct), std::vector<bool>(256, false));
    for (std::int64_t r = 0; r < t.rows(); ++r)
        for (std::int64_t c = 0; c < t.cols(); ++c)
            used[static_cast<std::size_t>((r / tile_rows) * nct + c / tile_cols)]
                [static_cast<std::size_t>(multiplier_value(t.spec(), map, t.code(r, c)) + 128)] = true;
    t.tiles.tile_rows = tile_rows;
    t.tiles.tile_cols = tile_cols;
    t.tiles.level.assign(used.size(), 0);
    t.tiles.codebook_id.assign(used.size(), -1);
    for (std::size_t i = 0; i < used.size(); ++i) {
        std::vector<int> values;
        for (int v = -128; v < 128; ++v)
            if (used[i][static_cast<std::size_t>(v + 128)]) values.push_back(v);
        t.tiles.level[i] = static_cast<std::int32_t>(fastest_level(ladder, values));
    }
}

accel::ModelTileLevels dvfs_baseline_tile_levels(const quant::QuantizedModel& qm, const model::ModelConfig& c, const Ladder& ladder) {
    accel::ModelTileLevels m = empty_tile_levels(c, c.name);
    for (const auto& rec : qm.linears) {
        const auto& t = rec.tensor;
        const std::string name = accel::linear_gemm_name(rec.layer, rec.kind, rec.expert);  // the simulator's GEMM
        if (t.tiles.tile_rows < 1 || t.tiles.tile_cols < 1)
            throw_internal("E9053", fmt::format("{}: a DVFS-aware baseline tensor carries no tile levels", name));
        const MultiplierMap map = multiplier_map(t.spec(), &ladder);
        // the multiplier's INT8 value (sign bit included), counted as a byte
        accel::TileLevels tl = array_tile_levels(t, t.spec().format->asymmetric, [&](std::int64_t r, std::int64_t c) {
            return static_cast<std::uint8_t>(static_cast<std::int8_t>(multiplier_value(t.spec(), map, t.code(r, c))));
        });
        m.layers.emplace_back(name, std::move(tl));
    }
    if (qm.head) {  // --quantize-head: the simulator's "output" GEMM at the head's tile levels
        const auto& t = qm.head->tensor;
        if (t.tiles.tile_rows < 1 || t.tiles.tile_cols < 1)
            throw_internal("E9161", "output: a DVFS-aware baseline's quantized head carries no tile levels");
        const MultiplierMap map = multiplier_map(t.spec(), &ladder);
        m.layers.emplace_back(kHeadName, array_tile_levels(t, t.spec().format->asymmetric, [&](std::int64_t r, std::int64_t c) {
            return static_cast<std::uint8_t>(static_cast<std::int8_t>(multiplier_value(t.spec(), map, t.code(r, c))));
        }));
    }
    return m;
}

}  // namespace halo::hwq
