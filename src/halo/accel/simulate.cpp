#include "halo/accel/simulate.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::accel {

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
    mac_j += o.mac_j;
    sram_j += o.sram_j;
    dram_j += o.dram_j;
    leakage_j += o.leakage_j;
    dvfs_switch_j += o.dvfs_switch_j;
    sparse_j += o.sparse_j;
    codebook_lookup_j += o.codebook_lookup_j;
    zero_point_j += o.zero_point_j;
    return *this;
}

namespace {

double v2(const DvfsTable& t, int level) {
    double r = t.levels[static_cast<std::size_t>(level)].voltage_v / t.levels[static_cast<std::size_t>(t.nominal)].voltage_v;
    return r * r;
}

// Level each weight tile actually runs at: its own in ws; in os/is a fold spans a column/row of
// tiles and runs at the slowest of them.
std::vector<int> executed_tile_levels(const TileLevels& t, Dataflow df) {
    std::vector<int> lv = t.level;
    if (df == Dataflow::ws) return lv;
    for (std::int64_t a = 0; a < (df == Dataflow::os ? t.n_tiles : t.k_tiles); ++a) {
        int m = 1 << 30;
        for (std::int64_t b = 0; b < (df == Dataflow::os ? t.k_tiles : t.n_tiles); ++b)
            m = std::min(m, df == Dataflow::os ? t.at(b, a) : t.at(a, b));
        for (std::int64_t b = 0; b < (df == Dataflow::os ? t.k_tiles : t.n_tiles); ++b)
            lv[static_cast<std::size_t>(df == Dataflow::os ? b * t.n_tiles + a : a * t.n_tiles + b)] = m;
    }
    return lv;
}

}  // namespace

std::vector<WorkItem> baseline_workload(const std::vector<WorkItem>& work) {
    std::vector<WorkItem> b = work;
    for (auto& it : b) {
        it.tiles.reset();
        it.sparse = {};
        it.weight_bits = 0;  // uniform INT8: weights of the word size, whatever the run stores
    }
    return b;
}

SimResult simulate_systolic(const std::vector<WorkItem>& work, const SystolicOptions& o) {
    validate(o.array);
    validate(o.dvfs);
    const ArrayConfig& a = o.array;
    const DvfsTable& dv = o.dvfs;
    const int nlev = static_cast<int>(dv.levels.size());
    const int def_level = o.default_level < 0 ? dv.nominal : o.default_level;
    const int act_level = o.activation_level < 0 ? dv.nominal : o.activation_level;
    for (int l : {def_level, act_level})
        if (l >= nlev) throw_bad_value("E7020", "default level", "level outside the DVFS table", fmt::format("0..{}", nlev - 1), std::to_string(l));
    const double f_nom_hz = dv.levels[static_cast<std::size_t>(dv.nominal)].freq_mhz * 1e6;
    const double bw_bytes_per_s = a.dram_bandwidth_gbps * 1e9;
    const double pes = static_cast<double>(a.rows) * a.cols;
    const double leak_w = pes * (o.mac.leakage_nw > 0 ? o.mac.leakage_nw : o.energy.mac_leakage_nw) * 1e-9 +
                          static_cast<double>(a.ifmap_sram_kb + a.filter_sram_kb + a.ofmap_sram_kb) / 1024.0 *
                              o.energy.sram_leakage_mw_per_mb * 1e-3;
    const double mac_scale_j = o.energy.mac_energy_scale * 1e-15;

    SimResult r;
    int cur = dv.nominal;
    for (const WorkItem& it : work) {
        const Gemm& g = it.gemm;
        if (it.count <= 0) throw_bad_value("E7003", g.name, "repeat count must be positive", ">= 1", std::to_string(it.count));
        if (!(it.weight_bits >= 0 && it.weight_bits <= 64))
            throw_bad_value("E7004", g.name, "stored bits per weight out of range", "0 (word size) .. 64", fmt::format("{}", it.weight_bits));
        LayerResult L;
        L.name = g.name;
        L.M = g.M;
        L.K = g.K;
        L.N = g.N;
        L.count = it.count;
        L.stats = simulate_gemm(a, g);
        const GemmStats& s = L.stats;
        const double cnt = static_cast<double>(it.count);

        // Tile levels: the given ones, or every tile at one level.
        const int uniform_level = it.has_weights ? def_level : act_level;
        TileLevels tiles;
        if (it.tiles) {
            validate(*it.tiles, g, a, dv, g.name);
            if (it.tiles->weight_format != o.mac.weight_format)
                throw_bad_value("E7022", g.name, "MAC profile is for a different weight format", it.tiles->weight_format,
                                o.mac.weight_format, "characterize the MAC for the quantized model's weight format");
            tiles = *it.tiles;
        } else {
            tiles = uniform_tile_levels(g.K, g.N, a.rows, a.cols, uniform_level);
        }

        // Time: folds in execution order, each fold_lines cycles at its level, one switch per change.
        const FoldPlan plan = plan_folds(tiles, g, a);
        L.folds_per_level.assign(static_cast<std::size_t>(nlev), 0);
        double fold_s = 0;
        for (int lv : plan.fold_level) {
            fold_s += static_cast<double>(s.fold_lines) / (dv.levels[static_cast<std::size_t>(lv)].freq_mhz * 1e6);
            ++L.folds_per_level[static_cast<std::size_t>(lv)];
        }
        for (auto& n : L.folds_per_level) n *= it.count;
        const FoldSchedule sched = schedule_folds(plan, o.reorder, cur);
        // Repeated instances run back to back at the same levels: only the first may switch in.
        int switches = sched.switches;
        if (it.count > 1) switches += static_cast<int>((it.count - 1) * count_switches(sched.order_level, sched.end_level));
        cur = sched.end_level;
        L.switches = switches;
        L.compute_time_s = fold_s * cnt;
        L.switch_time_s = switches * dv.switch_penalty_ns * 1e-9;

        // Memory traffic (elements) and halo's stall model: DRAM overlaps compute (double buffering).
        const std::int64_t O = g.M * g.N;
        const std::int64_t psum_traffic = (s.dram_ofmap_writes - O) + s.dram_psum_reads;
        L.sram_reads = (s.sram_ifmap_reads + s.sram_filter_reads) * it.count;
        L.sram_writes = s.sram_ofmap_writes * it.count;
        L.dram_reads = (s.dram_ifmap_reads + s.dram_filter_reads + s.dram_psum_reads) * it.count;
        L.dram_writes = s.dram_ofmap_writes * it.count;
        const double filter_bytes_per_element = it.has_weights && it.weight_bits > 0 ? it.weight_bits / 8.0 : a.word_bytes;
        const double dram_bytes = cnt * (static_cast<double>(s.dram_ifmap_reads + O) * a.word_bytes +
                                         static_cast<double>(s.dram_filter_reads) * filter_bytes_per_element +
                                         static_cast<double>(psum_traffic) * a.psum_bytes);
        const double dram_s = dram_bytes / bw_bytes_per_s;
        L.stall_time_s = std::max(0.0, dram_s - L.compute_time_s);
        L.stall_cycles = static_cast<std::int64_t>(std::ceil(L.stall_time_s * f_nom_hz));

        // Sparse engine: runs beside the array on the layer's outliers.
        if (it.sparse.nnz > 0) {
            if (it.sparse.level < 0 || it.sparse.level >= nlev)
                throw_bad_value("E7021", g.name, "sparse level outside the DVFS table", fmt::format("0..{}", nlev - 1), std::to_string(it.sparse.level));
            const double sparse_macs = static_cast<double>(it.sparse.nnz) * static_cast<double>(g.M);
            const double cycles = std::ceil(sparse_macs / o.energy.sparse_macs_per_cycle);
            L.sparse_time_s = cycles / (dv.levels[static_cast<std::size_t>(it.sparse.level)].freq_mhz * 1e6);
            L.energy.sparse_j = sparse_macs * (o.energy.sparse_mac_energy_pj * 1e-12 * v2(dv, it.sparse.level) +
                                               o.energy.sparse_bytes_per_mac * o.energy.sram_pj_per_byte * 1e-12);
        }
        // Zero-point correction beside the array's output drain: z * sum(a) per output and K-tile,
        // sum(a) per activation row and K-tile (shared by all N columns).
        if (it.tiles && it.tiles->zero_point) {
            const double corrections = static_cast<double>(g.M) * static_cast<double>(g.N) * static_cast<double>(tiles.k_tiles);
            const double row_sum_adds = static_cast<double>(g.M) * static_cast<double>(g.K);
            const double per_cycle = o.energy.zero_point_ops_per_cycle > 0 ? o.energy.zero_point_ops_per_cycle : static_cast<double>(a.cols);
            L.zero_point_time_s = std::ceil(corrections / per_cycle) / f_nom_hz * cnt;
            L.energy.zero_point_j = cnt * (corrections * o.energy.zero_point_op_pj + row_sum_adds * o.energy.zero_point_add_pj) * 1e-12;
        }
        L.time_s = std::max({L.compute_time_s + L.stall_time_s + L.switch_time_s, L.sparse_time_s, L.zero_point_time_s});

        // MAC energy: each weight meets M activations; per tile, the histogram-weighted energy
        // at the voltage the tile runs at.
        if (it.tiles) {
            const std::vector<int> exec = executed_tile_levels(tiles, a.dataflow);
            double e = 0;
            for (std::int64_t kt = 0; kt < tiles.k_tiles; ++kt)
                for (std::int64_t nt = 0; nt < tiles.n_tiles; ++nt) {
                    const std::size_t i = static_cast<std::size_t>(kt * tiles.n_tiles + nt);
                    const double w = static_cast<double>(std::min<std::int64_t>(a.rows, g.K - kt * a.rows)) *
                                     static_cast<double>(std::min<std::int64_t>(a.cols, g.N - nt * a.cols));
                    const double per_op = tiles.code_histogram.empty() ? o.mac.mean_energy_fj()
                                                                       : o.mac.weighted_energy_fj(tiles.code_histogram[i]);
                    e += w * static_cast<double>(g.M) * per_op * v2(dv, exec[i]);
                }
            L.energy.mac_j = e * mac_scale_j * cnt;
        } else {
            L.energy.mac_j = static_cast<double>(s.macs) * o.mac.mean_energy_fj() * v2(dv, uniform_level) * mac_scale_j * cnt;
        }
        L.energy.sram_j = static_cast<double>(L.sram_reads + L.sram_writes) * a.word_bytes * o.energy.sram_pj_per_byte * 1e-12;
        L.energy.dram_j = dram_bytes * o.energy.dram_pj_per_byte * 1e-12;
        if (it.has_weights && it.weight_indices)
            L.energy.codebook_lookup_j = cnt * static_cast<double>(s.dram_filter_reads) * o.energy.codebook_lookup_pj * 1e-12;
        L.energy.leakage_j = leak_w * L.time_s;
        L.energy.dvfs_switch_j = switches * dv.switch_energy_nj * 1e-9;

        SimTotals& T = r.total;
        T.cycles += s.cycles * it.count;
        T.stall_cycles += L.stall_cycles;
        T.macs += s.macs * it.count;
        T.sram_reads += L.sram_reads;
        T.sram_writes += L.sram_writes;
        T.dram_reads += L.dram_reads;
        T.dram_writes += L.dram_writes;
        T.switches += L.switches;
        T.time_s += L.time_s;
        T.energy += L.energy;
        r.layers.push_back(std::move(L));
    }
    return r;
}

}  // namespace halo::accel
