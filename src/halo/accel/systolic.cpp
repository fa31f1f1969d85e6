#include "halo/accel/systolic.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::accel {

namespace {

constexpr std::int64_t kMaxArraySide = 16384;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The three SCALE-Sim operand dimensions of a GEMM under a dataflow: Sr spreads over the array
// rows, Sc over the columns, T streams through time.
struct FoldGeometry {
    std::int64_t Sr, Sc, T, R, C, row_folds, col_folds, fold_lines, util_cycles;
};

std::int64_t dim_of(const Gemm& g, char d) { return d == 'M' ? g.M : d == 'K' ? g.K : g.N; }

FoldGeometry geometry(const ArrayConfig& a, const Gemm& g) {
    const DataflowTraits& t = traits(a.dataflow);
    FoldGeometry f{};
    f.Sr = dim_of(g, t.rows_dim);
    f.Sc = dim_of(g, t.cols_dim);
    f.T = dim_of(g, t.time_dim);
    f.R = a.rows;
    f.C = a.cols;
    f.row_folds = ceil_div(f.Sr, f.R);
    f.col_folds = ceil_div(f.Sc, f.C);
    // Stationary operand preloaded (R lines), then T + R + C - 2 lines of skewed streaming.
    f.fold_lines = (t.preload_rows ? f.R : 0) + f.R + f.C + f.T - 2;
    // SCALE-Sim's per-fold utilization divides by (lines + width - 1) of the un-skewed demand
    // matrix it builds: the preloading dataflows skew one more time than os.
    f.util_cycles = f.fold_lines + (t.preload_rows ? f.C - 1 : 0);
    return f;
}

// SRAM counts per fold, as SCALE-Sim's create_*_demand_mat loops add them.
struct FoldCounts {
    std::int64_t ifmap, filter, ofmap;
};
FoldCounts fold_counts(Dataflow df, const FoldGeometry& f, std::int64_t row_used, std::int64_t col_used) {
    switch (df) {  // the only per-dataflow branch: which operand slice each fold touches
    case Dataflow::ws: return {f.T * row_used, row_used * col_used, f.T * col_used};
    case Dataflow::os: return {f.T * row_used, f.T * col_used, row_used * col_used + f.R + f.C};
    case Dataflow::is: return {row_used * col_used, row_used * f.T, col_used * f.T};
    }
    return {};
}

void dram_model(const ArrayConfig& a, const Gemm& g, const FoldGeometry& f, GemmStats& s) {
    const std::int64_t ifmap_bytes = a.ifmap_sram_kb * 1024, filter_bytes = a.filter_sram_kb * 1024,
                       ofmap_bytes = a.ofmap_sram_kb * 1024;
    const std::int64_t w = a.word_bytes, p = a.psum_bytes;
    const std::int64_t A = g.M * g.K, W = g.K * g.N, O = g.M * g.N;
    auto spill = [&](bool fits) {
        s.dram_ofmap_writes = fits ? O : f.row_folds * O;
        s.dram_psum_reads = fits ? 0 : (f.row_folds - 1) * O;
    };
    switch (a.dataflow) {
    case Dataflow::ws:  // W tiles loaded once; A re-streamed per column fold; M x C psums per column
        s.dram_filter_reads = W;
        s.dram_ifmap_reads = A * w <= ifmap_bytes ? A : f.col_folds * A;
        spill(g.M * f.C * p <= ofmap_bytes);
        break;
    case Dataflow::os:  // outputs finish in the array; A re-streamed per column fold, W column block per row fold
        s.dram_ifmap_reads = A * w <= ifmap_bytes ? A : f.col_folds * A;
        s.dram_filter_reads = g.K * f.C * w <= filter_bytes ? W : f.row_folds * W;
        s.dram_ofmap_writes = O;
        break;
    case Dataflow::is:  // A blocks loaded once; W re-streamed per M block; C x N psums per M block
        s.dram_ifmap_reads = A;
        s.dram_filter_reads = W * w <= filter_bytes ? W : f.col_folds * W;
        spill(f.C * g.N * p <= ofmap_bytes);
        break;
    }
    s.scalesim_dram_ofmap_writes = a.dataflow == Dataflow::os ? O : f.row_folds * O;
}

void finish(const ArrayConfig& a, const Gemm& g, const FoldGeometry& f, GemmStats& s) {
    s.folds = f.row_folds * f.col_folds;
    s.fold_lines = f.fold_lines;
    s.cycles = s.folds * f.fold_lines - 1;
    s.stall_cycles = 0;
    s.macs = g.M * g.K * g.N;
    s.overall_util = static_cast<double>(s.macs) / (static_cast<double>(s.cycles) * f.R * f.C);
    dram_model(a, g, f, s);
}

}  // namespace

const std::array<DataflowTraits, 3>& dataflow_table() {
    static const std::array<DataflowTraits, 3> table = {{
        {Dataflow::ws, "ws", "weight-stationary", 'K', 'N', 'M', 1},
        {Dataflow::os, "os", "output-stationary", 'M', 'N', 'K', 0},
        {Dataflow::is, "is", "input-stationary", 'K', 'M', 'N', 1},
    }};
    return table;
}

const DataflowTraits& traits(Dataflow df) { return dataflow_table()[static_cast<std::size_t>(df)]; }

Dataflow parse_dataflow(std::string_view text) {
    for (const auto& t : dataflow_table())
        if (text == t.name || text == t.long_name) return t.dataflow;
    throw_bad_value("E7001", "dataflow", "unknown dataflow", "ws, os or is", std::string(text),
                    "weight-, output- or input-stationary");
}

void validate(const ArrayConfig& a) {
    auto side = [](int v, const char* what) {
        if (v <= 0 || v > kMaxArraySide)
            throw_bad_value("E7002", what, "array size out of range", fmt::format("1..{}", kMaxArraySide),
                            std::to_string(v), "give the array as ROWSxCOLS, e.g. --array 128x128");
    };
    side(a.rows, "array rows");
    side(a.cols, "array cols");
    if (a.ifmap_sram_kb <= 0 || a.filter_sram_kb <= 0 || a.ofmap_sram_kb <= 0)
        throw_bad_value("E7002", "sram", "SRAM buffer size must be positive", "> 0 kB",
                        fmt::format("{}/{}/{} kB", a.ifmap_sram_kb, a.filter_sram_kb, a.ofmap_sram_kb));
    if (!(a.dram_bandwidth_gbps > 0))
        throw_bad_value("E7002", "dram_bandwidth_gbps", "DRAM bandwidth must be positive", "> 0",
                        fmt::format("{}", a.dram_bandwidth_gbps));
    if (a.word_bytes <= 0 || a.psum_bytes <= 0)
        throw_bad_value("E7002", "word_bytes", "element sizes must be positive", "> 0",
                        fmt::format("{}/{}", a.word_bytes, a.psum_bytes));
}

void validate(const Gemm& g) {
    if (g.M <= 0 || g.K <= 0 || g.N <= 0)
        throw_bad_value("E7003", g.name.empty() ? "gemm" : g.name, "GEMM dimensions must be positive",
                        "M, K, N >= 1", fmt::format("M={} K={} N={}", g.M, g.K, g.N));
    constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;
    if (g.M > kMaxDim || g.K > kMaxDim || g.N > kMaxDim)
        throw_bad_value("E7003", g.name, "GEMM dimension too large", "<= 2^31",
                        fmt::format("M={} K={} N={}", g.M, g.K, g.N));
}

GemmStats simulate_gemm(const ArrayConfig& a, const Gemm& g) {
    validate(a);
    validate(g);
    const FoldGeometry f = geometry(a, g);
    GemmStats s;
    // Summed over all folds, the used rows add up to Sr and the used columns to Sc, so the
    // per-fold sums collapse: sum(row_used * col_used) = Sr * Sc.
    const std::int64_t folds = f.row_folds * f.col_folds;
    switch (a.dataflow) {
    case Dataflow::ws:
        s.sram_ifmap_reads = f.col_folds * f.T * f.Sr;
        s.sram_filter_reads = f.Sr * f.Sc;
        s.sram_ofmap_writes = f.row_folds * f.T * f.Sc;
        break;
    case Dataflow::os:
        s.sram_ifmap_reads = f.col_folds * f.T * f.Sr;
        s.sram_filter_reads = f.row_folds * f.T * f.Sc;
        s.sram_ofmap_writes = f.Sr * f.Sc + folds * (f.R + f.C);
        break;
    case Dataflow::is:
        s.sram_ifmap_reads = f.Sr * f.Sc;
        s.sram_filter_reads = f.col_folds * f.Sr * f.T;
        s.sram_ofmap_writes = f.row_folds * f.Sc * f.T;
        break;
    }
    const double pes = static_cast<double>(f.R) * static_cast<double>(f.C);
    s.mapping_efficiency = static_cast<double>(f.Sr * f.Sc) / (static_cast<double>(folds) * pes);
    s.compute_util = static_cast<double>(f.Sr * f.Sc) * static_cast<double>(f.T) /
                     (pes * static_cast<double>(f.util_cycles) * static_cast<double>(folds));
    finish(a, g, f, s);
    return s;
}

GemmStats simulate_gemm_reference(const ArrayConfig& a, const Gemm& g) {
    validate(a);
    validate(g);
    const FoldGeometry f = geometry(a, g);
    GemmStats s;
    double mapping_sum = 0, util_sum = 0;
    const double pes = static_cast<double>(f.R * f.C);
    for (std::int64_t fc = 0; fc < f.col_folds; ++fc) {
        for (std::int64_t fr = 0; fr < f.row_folds; ++fr) {
            const std::int64_t row_used = std::min(f.R, f.Sr - fr * f.R);
            const std::int64_t col_used = std::min(f.C, f.Sc - fc * f.C);
            const FoldCounts c = fold_counts(a.dataflow, f, row_used, col_used);
            s.sram_ifmap_reads += c.ifmap;
            s.sram_filter_reads += c.filter;
            s.sram_ofmap_writes += c.ofmap;
            mapping_sum += static_cast<double>(row_used * col_used) / pes;
            util_sum += static_cast<double>(row_used * col_used * f.T) / (pes * static_cast<double>(f.util_cycles));
        }
    }
    const double folds = static_cast<double>(f.row_folds * f.col_folds);
    s.mapping_efficiency = mapping_sum / folds;
    s.compute_util = util_sum / folds;
    finish(a, g, f, s);
    return s;
}

}  // namespace halo::accel
