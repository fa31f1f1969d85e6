#include "halo/hwq/sparse_level.hpp"

#include <algorithm>

namespace halo::hwq {

SparseLevel sparse_engine_level(const Ladder& L, std::span<const int> values, std::int64_t nnz, double dense_time_us_per_token,
                                int macs_per_cycle) {
    SparseLevel best{0, true};
    if (nnz <= 0 || L.levels.empty()) return best;
    const double cycles_per_token = static_cast<double>(nnz) / std::max(1, macs_per_cycle);
    int chosen = -1, fastest = -1;
    for (std::size_t l = 0; l < L.levels.size(); ++l) {
        if (!std::all_of(values.begin(), values.end(), [&](int v) { return L.meets(v, l); })) continue;
        const auto& lv = L.levels[l];
        if (fastest < 0 || lv.freq_mhz > L.levels[static_cast<std::size_t>(fastest)].freq_mhz) fastest = static_cast<int>(l);
        if (cycles_per_token / lv.freq_mhz > dense_time_us_per_token * (1 + 1e-12)) continue;  // misses the deadline
        if (chosen < 0) {
            chosen = static_cast<int>(l);
            continue;
        }
        const auto& c = L.levels[static_cast<std::size_t>(chosen)];
        if (lv.voltage_v < c.voltage_v || (lv.voltage_v == c.voltage_v && lv.freq_mhz < c.freq_mhz)) chosen = static_cast<int>(l);
    }
    if (chosen >= 0) return {chosen, true};
    // No level meets both: the fastest the values allow (L0 is met by every code on a derived
    // ladder); the deadline is missed.
    return {std::max(0, fastest), false};
}

}  // namespace halo::hwq
