#include "halo/accel/dvfs.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::accel {

DvfsTable halo_systolic_levels() {
    DvfsTable t;
    t.levels = {{"L0", 1900, 1.0}, {"L1", 2400, 1.1}, {"L2", 3700, 1.2}};
    t.nominal = 0;
    return t;
}

void validate(const DvfsTable& t) {
    if (t.levels.empty()) throw_bad_value("E7020", "dvfs.levels", "no DVFS levels", "at least one level", "none");
    for (const auto& l : t.levels)
        if (!(l.freq_mhz > 0) || !(l.voltage_v > 0))
            throw_bad_value("E7020", "dvfs level " + l.name, "level frequency and voltage must be positive",
                            "> 0", fmt::format("{} MHz, {} V", l.freq_mhz, l.voltage_v));
    if (t.nominal < 0 || t.nominal >= static_cast<int>(t.levels.size()))
        throw_bad_value("E7020", "dvfs.nominal", "nominal level out of range",
                        fmt::format("0..{}", t.levels.size() - 1), std::to_string(t.nominal));
    if (t.switch_penalty_ns < 0 || t.switch_energy_nj < 0)
        throw_bad_value("E7020", "dvfs.switch", "switch penalty and energy must be >= 0", ">= 0",
                        fmt::format("{} ns, {} nJ", t.switch_penalty_ns, t.switch_energy_nj));
}

TileLevels uniform_tile_levels(std::int64_t K, std::int64_t N, std::int64_t tile_rows, std::int64_t tile_cols, int level) {
    TileLevels t;
    t.tile_rows = tile_rows;
    t.tile_cols = tile_cols;
    t.k_tiles = (K + tile_rows - 1) / tile_rows;
    t.n_tiles = (N + tile_cols - 1) / tile_cols;
    t.level.assign(static_cast<std::size_t>(t.k_tiles * t.n_tiles), level);
    return t;
}

void validate(const TileLevels& t, const Gemm& g, const ArrayConfig& a, const DvfsTable& table, const std::string& place) {
    if (t.tile_rows != a.rows || t.tile_cols != a.cols)
        throw_bad_value("E7021", place, "tile size differs from the array", fmt::format("{}x{}", a.rows, a.cols),
                        fmt::format("{}x{}", t.tile_rows, t.tile_cols),
                        "quantize with tiles of the array's size, or pass --array to match the tiles");
    const std::int64_t kt = (g.K + a.rows - 1) / a.rows, nt = (g.N + a.cols - 1) / a.cols;
    if (t.k_tiles != kt || t.n_tiles != nt || t.level.size() != static_cast<std::size_t>(kt * nt))
        throw_bad_value("E7021", place, "tile grid does not match the layer's weight",
                        fmt::format("{}x{} tiles for K={} N={}", kt, nt, g.K, g.N),
                        fmt::format("{}x{} tiles ({} levels)", t.k_tiles, t.n_tiles, t.level.size()),
                        "the tile levels belong to a different model");
    for (int l : t.level)
        if (l < 0 || l >= static_cast<int>(table.levels.size()))
            throw_bad_value("E7021", place, "tile level outside the DVFS table",
                            fmt::format("0..{}", table.levels.size() - 1), std::to_string(l));
    if (!t.code_histogram.empty() && t.code_histogram.size() != t.level.size())
        throw_bad_value("E7021", place, "one code histogram per tile expected", std::to_string(t.level.size()),
                        std::to_string(t.code_histogram.size()));
}

FoldPlan plan_folds(const TileLevels& t, const Gemm& g, const ArrayConfig& a) {
    FoldPlan p;
    const std::int64_t kt = t.k_tiles, nt = t.n_tiles;
    const std::int64_t psum_bytes_layer = g.M * g.N * a.psum_bytes;
    const bool all_psums_fit = psum_bytes_layer <= a.ofmap_sram_kb * 1024;
    p.segments.push_back(0);
    switch (a.dataflow) {
    case Dataflow::ws:  // fold = one tile; column fold (n) outer, row fold (k) inner
        for (std::int64_t n = 0; n < nt; ++n) {
            if (n > 0 && !all_psums_fit) p.segments.push_back(p.fold_level.size());
            for (std::int64_t k = 0; k < kt; ++k) p.fold_level.push_back(t.at(k, n));
        }
        break;
    case Dataflow::os: {  // fold (m, n) streams all K of column n: slowest tile of the column
        const std::int64_t mt = (g.M + a.rows - 1) / a.rows;
        std::vector<int> col(static_cast<std::size_t>(nt));
        for (std::int64_t n = 0; n < nt; ++n) {
            int lv = t.at(0, n);
            for (std::int64_t k = 1; k < kt; ++k) lv = std::min(lv, t.at(k, n));
            col[static_cast<std::size_t>(n)] = lv;
        }
        for (std::int64_t n = 0; n < nt; ++n)  // outputs finish per fold: always reorderable
            for (std::int64_t m = 0; m < mt; ++m) p.fold_level.push_back(col[static_cast<std::size_t>(n)]);
        break;
    }
    case Dataflow::is: {  // fold (k, m) streams all N of row block k: slowest tile of the row
        const std::int64_t mt = (g.M + a.cols - 1) / a.cols;
        std::vector<int> row(static_cast<std::size_t>(kt));
        for (std::int64_t k = 0; k < kt; ++k) {
            int lv = t.at(k, 0);
            for (std::int64_t n = 1; n < nt; ++n) lv = std::min(lv, t.at(k, n));
            row[static_cast<std::size_t>(k)] = lv;
        }
        for (std::int64_t m = 0; m < mt; ++m) {
            if (m > 0 && !all_psums_fit) p.segments.push_back(p.fold_level.size());
            for (std::int64_t k = 0; k < kt; ++k) p.fold_level.push_back(row[static_cast<std::size_t>(k)]);
        }
        break;
    }
    }
    return p;
}

int count_switches(const std::vector<int>& levels, int start_level) {
    int s = 0, cur = start_level;
    for (int l : levels) {
        if (l != cur) ++s;
        cur = l;
    }
    return s;
}

FoldSchedule schedule_folds(const FoldPlan& plan, Reorder reorder, int start_level) {
    FoldSchedule s;
    if (reorder == Reorder::none) {
        s.order_level = plan.fold_level;
    } else {
        s.order_level.reserve(plan.fold_level.size());
        int cur = start_level;
        for (std::size_t i = 0; i < plan.segments.size(); ++i) {
            std::size_t b = plan.segments[i];
            std::size_t e = i + 1 < plan.segments.size() ? plan.segments[i + 1] : plan.fold_level.size();
            std::map<int, std::size_t> count;
            for (std::size_t f = b; f < e; ++f) ++count[plan.fold_level[f]];
            // Groups: current level first, then sweep down to the lowest and up to the highest,
            // whichever side is nearer first, so consecutive segments share their end level.
            std::vector<int> lower, upper;
            for (const auto& [lv, n] : count) {
                if (lv < cur) lower.push_back(lv);
                if (lv > cur) upper.push_back(lv);
            }
            std::reverse(lower.begin(), lower.end());  // nearest first
            std::vector<int> order;
            if (count.count(cur)) order.push_back(cur);
            bool down_first = !lower.empty() && (upper.empty() || cur - lower.front() <= upper.front() - cur);
            auto& first = down_first ? lower : upper;
            auto& second = down_first ? upper : lower;
            order.insert(order.end(), first.begin(), first.end());
            order.insert(order.end(), second.begin(), second.end());
            for (int lv : order) {
                s.order_level.insert(s.order_level.end(), count[lv], lv);
                cur = lv;
            }
        }
    }
    s.switches = count_switches(s.order_level, start_level);
    s.end_level = s.order_level.empty() ? start_level : s.order_level.back();
    // Grouping never needs more changes than the natural order; fall back if it would.
    if (reorder == Reorder::by_level) {
        int natural = count_switches(plan.fold_level, start_level);
        if (natural < s.switches) {
            s.order_level = plan.fold_level;
            s.switches = natural;
            s.end_level = s.order_level.empty() ? start_level : s.order_level.back();
        }
    }
    return s;
}

}  // namespace halo::accel
