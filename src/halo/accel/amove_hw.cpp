#include "halo/accel/amove_hw.hpp"

#include <array>
#include <string>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

// 45 nm per-op energies (Horowitz, ISSCC 2014), pJ.
constexpr double kMult8 = 0.2, kAdd8 = 0.03, kAdd32 = 0.1, kFp16Mult = 1.1, kFp16Add = 0.4;
constexpr double kMult4 = kMult8 * 0.25;  // ASSUMPTION: multiplier energy ~ bits^2

constexpr std::array<AmoveDesign, 7> kDesigns = {{
    {"int8", "", 8.0, 8.0, 8.0, 8, Rescale::per_tensor, 0, 0, 0, 0.0, 0.0, "W8A8 INT8 tensor core / PEs (baseline datapath)"},
    {"ant", "ant-like", 4.0, 4.0, 4.0, 4, Rescale::per_tensor, 0, 0, 64, 0.2, 0.2,
     "ANT-like: 4-bit int/flint/PoT chosen per tensor; type decoder area ASSUMPTION 0.2 %"},
    {"olive", "olive-like", 4.0, 4.0, 4.0, 4, Rescale::per_tensor, 0, 0, 64, 0.5, 0.5,
     "OliVe-like: 4-bit outlier-victim pairs, abfloat decoder per pair; area ASSUMPTION 0.5 %"},
    {"mxfp4", "", 4.25, 4.25, 4.25, 4, Rescale::per_block_pow2, 32, 0, 0, 0.0, 0.0, "OCP MXFP4: E2M1 + E8M0 per 32 (exponent add)"},
    {"int-sym-g64", "", 4.25, 4.25, 4.25, 4, Rescale::per_group_fp16, 64, 0, 0, 0.0, 0.0, "INT4 symmetric, FP16 scale per 64"},
    {"amove-aggressive", "", 4.25, 4.25, 5.0, 4, Rescale::amove_factored, 16, 128, 64, 1.62, 1.13,
     "Amove g128/c16 linears, g32/c4 attention; area: paper's 45 nm synthesis"},
    {"amove-conservative", "", 5.0, 5.0, 5.0, 4, Rescale::amove_factored, 4, 32, 64, 1.62, 1.13,
     "Amove g32/c4 everywhere; area: paper's 45 nm synthesis"},
}};

// Energy of one rescale of a partial sum, per rescale kind: per-group FP16 scales multiply
// s_w * s_a, then the partial sum, then accumulate in FP16; MX adds exponents and accumulates;
// Amove's factored form does three 2-bit x integer shift-adds per cluster plus four FP16
// multiply-adds per group (group_pj).
struct RescaleRow {
    Rescale kind;
    double rescale_pj;
    double group_pj;
};
constexpr std::array<RescaleRow, 5> kRescale = {{
    {Rescale::none, 0.0, 0.0},
    {Rescale::per_tensor, kFp16Mult, 0.0},
    {Rescale::per_group_fp16, 2 * kFp16Mult + kFp16Add, 0.0},
    {Rescale::per_block_pow2, kAdd8 + kFp16Add, 0.0},
    {Rescale::amove_factored, 3 * 2 * kAdd8, 4 * (kFp16Mult + kFp16Add)},
}};
constexpr bool rows_in_enum_order() {
    for (std::size_t i = 0; i < kRescale.size(); ++i)
        if (static_cast<std::size_t>(kRescale[i].kind) != i) return false;
    return true;
}
static_assert(rows_in_enum_order(), "kRescale is indexed by Rescale");
const RescaleRow& rescale_row(Rescale r) { return kRescale[static_cast<std::size_t>(r)]; }

}  // namespace

std::span<const AmoveDesign> amove_designs() { return kDesigns; }

const AmoveDesign& amove_design(std::string_view name, std::string_view place) {
    std::string names;
    for (const auto& d : kDesigns) {
        if (d.name == name || (!d.alias.empty() && d.alias == name)) return d;
        names += fmt::format("{}{}{}", names.empty() ? "" : ", ", d.name, d.alias.empty() ? "" : fmt::format(" ({})", d.alias));
    }
    throw_bad_value("E7080", std::string(place), "unknown hardware design", names, std::string(name));
}

double design_mac_pj(const AmoveDesign& d) { return d.mult_bits == 8 ? kMult8 + kAdd32 : kMult4 + kAdd8; }
double design_rescale_pj(const AmoveDesign& d) { return rescale_row(d.rescale).rescale_pj; }
double design_group_pj(const AmoveDesign& d) { return rescale_row(d.rescale).group_pj; }
double design_decode_pj(const AmoveDesign& d) {
    return d.rescale == Rescale::amove_factored && d.decode_values_per_cycle > 0 ? kFp16Mult + kFp16Add : 0.0;
}

}  // namespace halo::accel
