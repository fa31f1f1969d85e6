#include "halo/accel/amove_hw.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

// 45 nm per-op energies (Horowitz, ISSCC 2014), pJ.
constexpr double kMult8 = 0.2, kAdd8 = 0.03, kAdd32 = 0.1, kFp16Mult = 1.1, kFp16Add = 0.4;
constexpr double kMult4 = kMult8 * 0.25;  // ASSUMPTION: multiplier energy ~ bits^2
constexpr double kSramPjPerByte = 2.5, kDramPjPerByte = 31.2;
constexpr double kOutBytes = 2.0;          // FP16 outputs
constexpr double kArrayClockGhz = 1.0;     // ASSUMPTION for the systolic array

constexpr std::array<AmoveDesign, 7> kDesigns = {{
    {"int8", 8.0, 8.0, 8.0, 8, Rescale::per_tensor, 0, 0, 0, 0.0, 0.0, "W8A8 INT8 tensor core / PEs (baseline datapath)"},
    {"ant", 4.0, 4.0, 4.0, 4, Rescale::per_tensor, 0, 0, 64, 0.2, 0.2,
     "ANT-like: 4-bit int/flint/PoT chosen per tensor; type decoder area ASSUMPTION 0.2 %"},
    {"olive", 4.0, 4.0, 4.0, 4, Rescale::per_tensor, 0, 0, 64, 0.5, 0.5,
     "OliVe-like: 4-bit outlier-victim pairs, abfloat decoder per pair; area ASSUMPTION 0.5 %"},
    {"mxfp4", 4.25, 4.25, 4.25, 4, Rescale::per_block_pow2, 32, 0, 0, 0.0, 0.0, "OCP MXFP4: E2M1 + E8M0 per 32 (exponent add)"},
    {"int-sym-g64", 4.25, 4.25, 4.25, 4, Rescale::per_group_fp16, 64, 0, 0, 0.0, 0.0, "INT4 symmetric, FP16 scale per 64"},
    {"amove-aggressive", 4.25, 4.25, 5.0, 4, Rescale::amove_factored, 16, 128, 64, 1.62, 1.13,
     "Amove g128/c16 linears, g32/c4 attention; area: paper's 45 nm synthesis"},
    {"amove-conservative", 5.0, 5.0, 5.0, 4, Rescale::amove_factored, 4, 32, 64, 1.62, 1.13,
     "Amove g32/c4 everywhere; area: paper's 45 nm synthesis"},
}};

double mac_energy(const AmoveDesign& d) { return d.mult_bits == 8 ? kMult8 + kAdd32 : kMult4 + kAdd8; }

// Energy of one rescale of a partial sum: per-group FP16 scales multiply s_w * s_a, then the
// partial sum, then accumulate in FP16; MX adds exponents and accumulates.
double rescale_energy(const AmoveDesign& d) {
    switch (d.rescale) {
        case Rescale::per_group_fp16: return 2 * kFp16Mult + kFp16Add;
        case Rescale::per_block_pow2: return kAdd8 + kFp16Add;
        case Rescale::per_tensor: return kFp16Mult;
        case Rescale::amove_factored: return 3 * 2 * kAdd8;  // per cluster; the group part is added below
        case Rescale::none: return 0;
    }
    return 0;
}
constexpr double kAmoveGroupPj = 4 * (kFp16Mult + kFp16Add);

struct GemmBytes {
    double a = 0, w = 0, out = 0;
};
GemmBytes gemm_bytes(const WorkItem& item, const AmoveDesign& d) {
    const auto& g = item.gemm;
    const double wb = item.has_weights ? d.weight_bits : d.attn_bits;
    const double ab = item.has_weights ? d.act_bits : d.attn_bits;
    return {static_cast<double>(g.M * g.K) * ab / 8, static_cast<double>(g.K * g.N) * wb / 8, static_cast<double>(g.M * g.N) * kOutBytes};
}

void add_energy(DesignRun& run, const AmoveDesign& d, const WorkItem& item, double macs, double dram_bytes, double sram_bytes,
                double decoded_values) {
    const auto& g = item.gemm;
    run.energy.mac += macs * mac_energy(d);
    const double rescales = d.rescale == Rescale::per_tensor || d.rescale_every == 0
                                ? static_cast<double>(g.M * g.N) * static_cast<double>(item.count)
                                : macs / d.rescale_every;
    run.energy.rescale += rescales * rescale_energy(d);
    if (d.rescale == Rescale::amove_factored) run.energy.rescale += macs / d.group_every * kAmoveGroupPj;
    // Amove's scale decoder: one S - R*e (FP16 mult + add) per cluster of each operand loaded.
    if (d.rescale == Rescale::amove_factored && d.decode_values_per_cycle > 0)
        run.energy.decode += decoded_values / d.rescale_every * (kFp16Mult + kFp16Add);
    run.energy.sram += sram_bytes * kSramPjPerByte;
    run.energy.dram += dram_bytes * kDramPjPerByte;
}

}  // namespace

std::span<const AmoveDesign> amove_designs() { return kDesigns; }

const AmoveDesign& amove_design(std::string_view name) {
    std::string names;
    for (const auto& d : kDesigns) {
        if (d.name == name) return d;
        names += fmt::format("{}{}", names.empty() ? "" : ", ", d.name);
    }
    throw_bad_value("E6901", "--design", "unknown hardware design", names, std::string(name));
}

DesignRun run_tensor_core(const std::vector<WorkItem>& work, const AmoveDesign& d, const TensorCoreConfig& tc) {
    DesignRun run;
    run.design = std::string(d.name);
    const double cores = static_cast<double>(tc.sms) * tc.tensor_cores_per_sm;
    const double macs_per_cycle = cores * tc.int8_macs_per_core_cycle * (d.mult_bits == 4 ? 2.0 : 1.0);
    const double hz = tc.clock_ghz * 1e9;
    for (const auto& item : work) {
        const double n = static_cast<double>(item.count);
        const double macs = static_cast<double>(item.gemm.M * item.gemm.K * item.gemm.N) * n;
        const auto b = gemm_bytes(item, d);
        const double dram = (b.a + b.w + b.out) * n;
        const double compute = macs / macs_per_cycle / hz;
        const double memory = dram / (tc.dram_gbps * 1e9);
        // Values entering the cores (each operand once per GEMM: the tiles' reuse is in SRAM).
        const double values = static_cast<double>(item.gemm.M * item.gemm.K + item.gemm.K * item.gemm.N) * n;
        const double decode = d.decode_values_per_cycle > 0 ? values / (d.decode_values_per_cycle * cores) / hz : 0.0;
        run.compute_s += compute;
        run.memory_s += memory;
        run.decode_s += decode;
        run.seconds += std::max({compute, memory, decode});
        run.macs += static_cast<std::int64_t>(macs);
        // SRAM (shared memory): every DRAM byte written once and read once (ASSUMPTION).
        add_energy(run, d, item, macs, dram, 2 * dram, values);
    }
    return run;
}

DesignRun run_systolic(const std::vector<WorkItem>& work, const AmoveDesign& d, const ArrayConfig& array) {
    DesignRun run;
    run.design = std::string(d.name);
    for (const auto& item : work) {
        const GemmStats s = simulate_gemm(array, item.gemm);
        const double n = static_cast<double>(item.count);
        const double wb = item.has_weights ? d.weight_bits : d.attn_bits;
        const double ab = item.has_weights ? d.act_bits : d.attn_bits;
        // Bit-serial-style PEs: a 4-bit MAC takes half the cycles of an 8-bit one (ASSUMPTION).
        const double cycles = static_cast<double>(s.cycles) * d.mult_bits / 8.0;
        const double compute = cycles / (kArrayClockGhz * 1e9) * n;
        const double dram = (static_cast<double>(s.dram_ifmap_reads) * ab / 8 + static_cast<double>(s.dram_filter_reads) * wb / 8 +
                             static_cast<double>(s.dram_ofmap_writes + s.dram_psum_reads) * kOutBytes) * n;
        const double memory = dram / (array.dram_bandwidth_gbps * 1e9);
        const double sram = (static_cast<double>(s.sram_ifmap_reads) * ab / 8 + static_cast<double>(s.sram_filter_reads) * wb / 8 +
                             static_cast<double>(s.sram_ofmap_writes) * kOutBytes) * n;
        // The tile's shared dequantization unit decodes one cluster scale per cycle per array row
        // (ASSUMPTION): values per cycle = rows x decode width.
        const double values = static_cast<double>(item.gemm.M * item.gemm.K + item.gemm.K * item.gemm.N) * n;
        const double decode = d.decode_values_per_cycle > 0 ? values / (d.decode_values_per_cycle * array.rows) / (kArrayClockGhz * 1e9) : 0.0;
        run.compute_s += compute;
        run.memory_s += memory;
        run.decode_s += decode;
        run.seconds += std::max({compute, memory, decode});
        const double macs = static_cast<double>(s.macs) * n;
        run.macs += static_cast<std::int64_t>(macs);
        add_energy(run, d, item, macs, dram, sram, values);
    }
    return run;
}

}  // namespace halo::accel
