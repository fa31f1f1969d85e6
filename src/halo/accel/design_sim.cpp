#include "halo/accel/design_sim.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

constexpr double kOutBytes = 2.0;                              // FP16 outputs and spilled partial sums

constexpr std::array<DesignArchRow, 2> kArches = {{{DesignArch::tensor_core, "tensor-core"}, {DesignArch::systolic, "systolic"}}};
constexpr std::array<std::string_view, 3> kBoundNames = {"compute", "memory", "decode"};

// One GEMM's operand bits per value: linears use the weight/activation formats, the attention
// matmuls (both operands activations) the attention format.
double weight_bits(const WorkItem& item, const AmoveDesign& d) { return item.has_weights ? d.weight_bits : d.attn_bits; }
double act_bits(const WorkItem& item, const AmoveDesign& d) { return item.has_weights ? d.act_bits : d.attn_bits; }

// The machine-dependent part of a GEMM: MACs, MAC time, bytes moved, decode time.
void run_on_tensor_core(DesignLayer& L, const WorkItem& item, const AmoveDesign& d, const TensorCoreConfig& tc) {
    const auto& g = item.gemm;
    const double n = static_cast<double>(item.count);
    const double cores = static_cast<double>(tc.sms) * tc.tensor_cores_per_sm;
    // 4-bit multipliers: twice the INT8 MAC rate (A6000/A100 datasheets: dense INT4 = 2 x INT8 TOPS).
    const double macs_per_cycle = cores * tc.int8_macs_per_core_cycle * (d.mult_bits == 4 ? 2.0 : 1.0);
    const double hz = tc.clock_ghz * 1e9;
    L.macs = static_cast<double>(g.M * g.K * g.N) * n;
    L.mac_cycles = L.macs / macs_per_cycle;
    L.compute_s = L.macs / macs_per_cycle / hz;
    const double a = static_cast<double>(g.M * g.K) * act_bits(item, d) / 8;
    const double w = static_cast<double>(g.K * g.N) * weight_bits(item, d) / 8;
    const double out = static_cast<double>(g.M * g.N) * kOutBytes;
    L.dram_bytes = (a + w + out) * n;
    L.memory_s = L.dram_bytes / (tc.dram_gbps * 1e9);
    L.sram_bytes = 2 * L.dram_bytes;
    // Values entering the cores (each operand once per GEMM: the tiles' reuse is in SRAM).
    L.decoded_values = static_cast<double>(g.M * g.K + g.K * g.N) * n;
    L.decode_s = d.decode_values_per_cycle > 0 ? L.decoded_values / (d.decode_values_per_cycle * cores) / hz : 0.0;
}

void run_on_array(DesignLayer& L, const WorkItem& item, const AmoveDesign& d, const ArrayConfig& array, double clock_ghz) {
    const auto& g = item.gemm;
    const GemmStats s = simulate_gemm(array, g);
    const double n = static_cast<double>(item.count);
    const double wb = weight_bits(item, d), ab = act_bits(item, d);
    const double cycles = static_cast<double>(s.cycles) * d.mult_bits / 8.0;
    L.macs = static_cast<double>(s.macs) * n;
    L.mac_cycles = cycles * n;
    L.compute_s = cycles / (clock_ghz * 1e9) * n;
    L.dram_bytes = (static_cast<double>(s.dram_ifmap_reads) * ab / 8 + static_cast<double>(s.dram_filter_reads) * wb / 8 +
                    static_cast<double>(s.dram_ofmap_writes + s.dram_psum_reads) * kOutBytes) * n;
    L.memory_s = L.dram_bytes / (array.dram_bandwidth_gbps * 1e9);
    L.sram_bytes = (static_cast<double>(s.sram_ifmap_reads) * ab / 8 + static_cast<double>(s.sram_filter_reads) * wb / 8 +
                    static_cast<double>(s.sram_ofmap_writes) * kOutBytes) * n;
    // The tile's shared dequantization unit decodes one cluster scale per cycle per array row
    // (ASSUMPTION): values per cycle = rows x decode width.
    L.decoded_values = static_cast<double>(g.M * g.K + g.K * g.N) * n;
    L.decode_s = d.decode_values_per_cycle > 0 ? L.decoded_values / (d.decode_values_per_cycle * array.rows) / (clock_ghz * 1e9) : 0.0;
}

}  // namespace

std::span<const DesignArchRow> design_arches() { return kArches; }
std::string_view arch_name(DesignArch arch) { return kArches[static_cast<std::size_t>(arch)].name; }
std::string_view bound_name(Bound bound) { return kBoundNames[static_cast<std::size_t>(bound)]; }

double DesignMachine::clock_hz() const {
    return (arch == DesignArch::tensor_core ? tensor_core.clock_ghz : array_clock_ghz) * 1e9;
}
double DesignMachine::decode_lanes() const {
    return arch == DesignArch::tensor_core ? static_cast<double>(tensor_core.sms) * tensor_core.tensor_cores_per_sm
                                           : static_cast<double>(array.rows);
}

DesignResult simulate_design(const std::vector<WorkItem>& work, const AmoveDesign& d, const DesignMachine& m) {
    if (m.arch == DesignArch::systolic) validate(m.array);
    DesignResult r;
    r.design = std::string(d.name);
    r.arch = m.arch;
    r.clock_hz = m.clock_hz();
    DesignTotals& T = r.total;
    for (const auto& item : work) {
        const auto& g = item.gemm;
        if (item.count <= 0) throw_bad_value("E7003", g.name, "repeat count must be positive", ">= 1", std::to_string(item.count));
        DesignLayer L;
        L.name = g.name;
        L.M = g.M;
        L.K = g.K;
        L.N = g.N;
        L.count = item.count;
        L.has_weights = item.has_weights;
        if (m.arch == DesignArch::tensor_core)
            run_on_tensor_core(L, item, d, m.tensor_core);
        else
            run_on_array(L, item, d, m.array, m.array_clock_ghz);
        L.time_s = std::max({L.compute_s, L.memory_s, L.decode_s});
        L.bound = L.decode_s > std::max(L.compute_s, L.memory_s) ? Bound::decode
                  : L.memory_s > L.compute_s                     ? Bound::memory
                                                                 : Bound::compute;

        // Energy. Rescales: one per output for per-tensor scales, else one per rescale_every MACs.
        const double rescales = d.rescale == Rescale::per_tensor || d.rescale_every == 0
                                    ? static_cast<double>(g.M * g.N) * static_cast<double>(item.count)
                                    : L.macs / d.rescale_every;
        const double rescale_pj = rescales * design_rescale_pj(d);
        const double group_pj = d.group_every > 0 ? L.macs / d.group_every * design_group_pj(d) : 0.0;
        // Amove's scale decoder: one S - R*e per cluster of each operand loaded.
        const double decode_pj = design_decode_pj(d) > 0 ? L.decoded_values / d.rescale_every * design_decode_pj(d) : 0.0;
        L.energy = {L.macs * design_mac_pj(d), rescale_pj + group_pj, decode_pj, L.sram_bytes * m.energy.sram_pj_per_byte,
                    L.dram_bytes * m.energy.dram_pj_per_byte};

        // Totals, summed term by term in work order.
        T.seconds += L.time_s;
        T.compute_s += L.compute_s;
        T.memory_s += L.memory_s;
        T.decode_s += L.decode_s;
        T.mac_cycles += L.mac_cycles;
        T.dram_bytes += L.dram_bytes;
        T.sram_bytes += L.sram_bytes;
        T.macs += static_cast<std::int64_t>(L.macs);
        T.energy.mac += L.energy.mac;
        T.energy.rescale += rescale_pj;
        T.energy.rescale += group_pj;
        T.energy.decode += L.energy.decode;
        T.energy.sram += L.energy.sram;
        T.energy.dram += L.energy.dram;
        if (L.bound == Bound::decode) ++T.decoder_bound;
        r.layers.push_back(std::move(L));
    }
    T.cycles = T.seconds * r.clock_hz;
    return r;
}

DesignComparison compare_design(DesignResult run, const DesignResult& baseline) {
    DesignComparison c;
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };  // 0 for an empty run, as report_json
    c.speedup = ratio(baseline.total.seconds, run.total.seconds);
    c.energy_saving = ratio(baseline.total.energy.total(), run.total.energy.total());
    c.energy_ratio = ratio(run.total.energy.total(), baseline.total.energy.total());
    c.run = std::move(run);
    return c;
}

std::vector<DesignComparison> compare_designs(const std::vector<WorkItem>& work, const AmoveDesign& baseline,
                                              const DesignMachine& machine) {
    const DesignResult base = simulate_design(work, baseline, machine);
    std::vector<DesignComparison> rows;
    for (const auto& d : amove_designs()) rows.push_back(compare_design(simulate_design(work, d, machine), base));
    return rows;
}

}  // namespace halo::accel
