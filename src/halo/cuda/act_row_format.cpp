#include "halo/cuda/act_row_format.hpp"

#include <array>
#include <cmath>

#include <fmt/format.h>

#include "halo/quant/amove_baselines.hpp"
#include "halo/quant/amove_format.hpp"
#include "halo/quant/element_type.hpp"
#include "halo/quant/format.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

using enum GpuActRow;

constexpr std::array<GpuActivationRow, 10> kRows = {{
    {"int8_per_token", "model::activation_format(\"int8_per_token\").fast", "act_int8_per_token", "int8_per_token"},
    {"symmetric integer, FP16 scales", "quant::quantize_activation_rows", "act_int_symmetric",
     "int8@row int4@g64 int3@g32 int4@g48 int2@g16 int5@g128 int6@row int7@g64"},
    {"integer, asymmetric (or any other integer row)", "quant::quantize_activation_rows", "act_rows (absmax)",
     "int4-asym@g64 int8-asym@row int3-asym@g32 int2-asym@g16 int5-asym@g48 int6-asym@g128 int7-asym@row"},
    {"minifloat, FP16 scales", "quant::quantize_activation_rows", "act_rows (absmax)",
     "fp8-e4m3@g32 fp8-e5m2@row fp6-e3m2@g64 fp6-e2m3@g32 fp4-e2m1@g16 fp4-e2m1@row"},
    {"MX (OCP MX v1.0, E8M0 block scales)", "quant::quantize_activation_rows", "act_rows (mx_floor)",
     "mxfp4 mxfp8 mxfp8-e5m2 mxfp6 mxfp6-e2m3 mxint8 mxfp3 mxfp3-e1m1"},
    {"NVFP4 (E4M3 block scales, FP32 row scale)", "quant::quantize_activation_rows", "act_rows (nvfp4)", "nvfp4"},
    {"raw (no scaling)", "quant::quantize_activation_rows", "act_rows (raw)", "e4m3-raw@row int8-raw@g64 e2m1-raw@row"},
    {"Amove (group base scale + residual, cluster codes)", "quant::amove_qdq_rows", "act_rows (amove)",
     "amove-int4-g32c4 amove-int3-g32c4 amove-fp4-g128c16 amove-int4-g32c4-mse amove-int4-g32c4-scale "
     "amove-e4m3-g64c8-sfp16-rfp16 amove-int2-g16c4-b3-se8m0 amove-e3m2-g32c4-sfp32-rfp32 amove-int8-g128c16 "
     "amove-e5m2-g32c8-b1 amove-e2m3-g16c4-b4 amove-aggressive amove-conservative-fp4"},
    {"olive4 (OliVe outlier-victim pairs)", "quant::olive4_row", "act_rows (olive4, one thread per row)", "olive4"},
    {"ant4 (ANT type per row)", "quant::ant4_row", "act_rows (ant4, one thread per row)", "ant4"},
}};

[[noreturn]] void no_row(const std::string& what) {
    throw_internal("E8190", fmt::format("activation operand {} has no row in the GPU's activation-format table", what));
}

bool is_raw(const quant::FormatTraits& f) { return f.name.ends_with("-raw"); }

ActScale act_scale(quant::ScaleFormat s) {
    switch (s) {
        case quant::ScaleFormat::fp32: return ActScale::fp32;
        case quant::ScaleFormat::fp16: return ActScale::fp16;
        case quant::ScaleFormat::e8m0: return ActScale::e8m0;
        case quant::ScaleFormat::e4m3: return ActScale::e4m3;
    }
    return ActScale::fp32;
}

ActElement act_element(quant::ElementId id) {
    const quant::ElementType& t = quant::element_type(id);
    ActElement e;
    e.minifloat = t.kind == quant::ElementKind::minifloat;
    e.is_signed = t.is_signed;
    e.specials = static_cast<std::uint8_t>(t.specials);
    e.bits = t.bits;
    e.exp_bits = t.exp_bits;
    e.man_bits = t.man_bits;
    e.bias = t.bias;
    e.int_step = t.int_step;
    e.max_finite = quant::max_finite(t);
    e.min_value = quant::min_value(t);
    for (int c = 0; c < quant::code_count(t); ++c) e.values[c] = quant::decode(t, static_cast<std::uint8_t>(c));
    return e;
}

bool fast_symmetric(const quant::QuantSpec& spec) {
    const quant::FormatTraits& f = *spec.format;
    if (!f.element || f.asymmetric || f.tensor_scale || f.two_level || f.custom || f.rule != quant::ScaleRule::absmax ||
        spec.scale != quant::ScaleFormat::fp16 || is_raw(f))
        return false;
    const quant::ElementType& e = quant::element_type(*f.element);
    return e.kind == quant::ElementKind::integer && e.is_signed && e.int_step == 1.0f && spec.granularity.group_rows == 1;
}

}  // namespace

static_assert(kRows.size() == static_cast<std::size_t>(ant4) + 1);
static_assert(static_cast<int>(ActAmoveRule::mean) == static_cast<int>(quant::ResidualRule::mean) &&
              static_cast<int>(ActAmoveRule::recon_mse) == static_cast<int>(quant::ResidualRule::recon_mse));
static_assert(static_cast<int>(quant::SpecialCodes::nan_only) == 1 && static_cast<int>(quant::SpecialCodes::ieee) == 2);

std::span<const GpuActivationRow> gpu_activation_rows() { return kRows; }
const GpuActivationRow& gpu_activation_row_info(GpuActRow row) { return kRows[static_cast<std::size_t>(row)]; }

GpuActRow gpu_activation_row(const quant::ActivationOperand& op) {
    if (op.row_fn == &quant::olive4_row) return olive4;
    if (op.row_fn == &quant::ant4_row) return ant4;
    if (op.row_fn || !op.spec) no_row("with an unknown row function");
    const quant::QuantSpec& spec = *op.spec;
    const quant::FormatTraits& f = *spec.format;
    if (!f.element || f.custom || spec.granularity.group_rows != 1) no_row(spec.describe());
    if (quant::amove_config(f)) return amove;
    if (f.rule == quant::ScaleRule::mx_floor) return mx;
    if (f.rule == quant::ScaleRule::nvfp4) return nvfp4;
    if (is_raw(f)) return raw;
    if (f.tensor_scale || f.two_level) no_row(spec.describe());
    if (fast_symmetric(spec)) return int_symmetric;
    return quant::element_type(*f.element).kind == quant::ElementKind::integer ? integer : minifloat;
}

ActRowFormat act_row_format(const quant::ActivationOperand& op) {
    ActRowFormat a;
    a.e4m3 = act_element(quant::ElementId::e4m3);
    switch (gpu_activation_row(op)) {
        case olive4: a.family = ActFamily::olive4; return a;
        case ant4: a.family = ActFamily::ant4; return a;
        default: break;
    }
    const quant::QuantSpec& spec = *op.spec;
    const quant::FormatTraits& f = *spec.format;
    const quant::ElementType& et = quant::element_type(*f.element);
    a.element = act_element(*f.element);
    a.scale = act_scale(spec.scale);
    a.asymmetric = f.asymmetric;
    a.group = spec.granularity.group_cols;
    a.vmin = spec.vmin();
    a.vmax = spec.vmax();
    a.max_abs = spec.max_abs();
    a.sym_range = spec.sym_range();
    a.tensor_denominator = quant::max_finite(quant::element_type(quant::ElementId::e4m3)) * spec.max_abs();  // tensor_scale_for
    a.mx_emax = static_cast<int>(std::floor(std::log2(quant::max_finite(et))));                               // fit_group's MX rule
    if (const quant::AmoveConfig* c = quant::amove_config(f)) {
        a.family = ActFamily::amove;
        a.am_group = c->group;
        a.am_cluster = c->cluster;
        a.am_code_bits = c->code_bits;
        a.am_base = act_scale(c->base);
        a.am_residual = act_scale(c->residual);
        a.am_rule = static_cast<ActAmoveRule>(c->rule);
        a.grid_lo = c->grid.lo;
        a.grid_hi = c->grid.hi;
        a.grid_step = c->grid.step;
    } else if (f.rule == quant::ScaleRule::mx_floor) {
        a.family = ActFamily::mx_floor;
    } else if (f.rule == quant::ScaleRule::nvfp4) {
        a.family = ActFamily::nvfp4;
    } else if (is_raw(f)) {
        a.family = ActFamily::raw;
    } else {
        a.family = ActFamily::absmax;
    }
    return a;
}

}  // namespace halo::cuda
