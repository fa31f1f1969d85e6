#include "halo/hwq/sparse_grid.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "halo/quant/scale_format.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::hwq {
namespace {

constexpr SparseGridTraits kSparseGrids[] = {
    {SparseGrid::row, "row", 0, "INT8 on a per-row scale from the row's largest sparse weight"},
    {SparseGrid::row_or_tile, "row-or-tile", 1,
     "each value on the row's scale or its tile's dense scale, whichever rounds it closer (1 selector bit)"},
};

float fp16(float x) { return quant::scale_format(quant::ScaleFormat::fp16).round(x); }

}  // namespace

std::span<const SparseGridTraits> sparse_grids() { return kSparseGrids; }

const SparseGridTraits& sparse_grid(std::string_view name) {
    std::string names;
    for (const auto& g : kSparseGrids) {
        if (g.name == name) return g;
        names += fmt::format("{}{}", names.empty() ? "" : " or ", g.name);
    }
    throw_bad_value("E9176", "--sparse-grid", "unknown sparse grid", names, std::string(name));
}

const SparseGridTraits& sparse_grid(SparseGrid id) { return kSparseGrids[static_cast<std::size_t>(id)]; }

SparseValue sparse_value(float v, float row_scale, float tile_scale, SparseGrid grid) {
    SparseValue out;
    out.code = static_cast<int>(std::clamp(std::nearbyint(v / row_scale), -127.0f, 127.0f));
    out.value = fp16(row_scale * static_cast<float>(out.code));
    if (grid != SparseGrid::row_or_tile || !(tile_scale > 0) || !std::isfinite(tile_scale)) return out;
    const float q = std::nearbyint(v / tile_scale);
    if (!(std::fabs(q) <= 127.0f)) return out;  // outside the tile's INT8 range (NaN too)
    const float tv = fp16(tile_scale * q);
    if (std::fabs(v - tv) < std::fabs(v - out.value)) out = {static_cast<int>(q), true, tv};
    return out;
}

}  // namespace halo::hwq
