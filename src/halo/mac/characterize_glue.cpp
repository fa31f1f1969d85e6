// Glue to the MAC generator (mac_table, weight_format, yosys_driver) and the dynamic-timing
// engine. The dynamic engine is not merged on this branch: its hook reports what is missing.
#include <cmath>

#include "halo/mac/characterize.hpp"
#include "halo/mac/mac_table.hpp"
#include "halo/mac/weight_format.hpp"
#include "halo/mac/yosys_driver.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {

namespace {

// Short names accepted by --mac for the MAC table's rows.
struct MacAlias {
    std::string_view alias, name;
};
constexpr MacAlias kMacAliases[] = {{"fp8-e4m3", "fp8-e4m3-fp32"}, {"bf16", "bf16-fp32"}};

std::string_view resolve_mac(std::string_view name) {
    for (const auto& a : kMacAliases)
        if (a.alias == name) return a.name;
    return name;
}

}  // namespace

BuiltMac build_mac(const std::string& name, const std::string& arch, const std::filesystem::path& liberty,
                   const std::filesystem::path& work_dir) {
    const MacSpec& spec = find_mac(resolve_mac(name));
    MacArch a = parse_arch(arch);
    SynthResult r = synthesize(spec, a, liberty, work_dir);
    BuiltMac b;
    b.netlist_json = r.netlist_json;
    b.weight_format = std::string(weight_format_info(spec.weight_format).name);
    b.weight_bits = spec.weight_bits;
    b.activation_format = operand_format_name(spec.activation_format, spec.activation_bits);
    b.accumulator_bits = spec.accumulator_bits;
    b.arch = std::string(arch_name(a));
    b.area_um2 = r.area_um2;
    return b;
}

std::optional<double> decode_builtin_weight(const std::string& format, std::uint64_t code) {
    const WeightFormatInfo& f = find_weight_format(format);
    DecodedWeight d = decode_weight(f.format, static_cast<std::uint32_t>(code));
    if (d.is_nan) return std::nullopt;
    return d.value;
}

void run_dynamic_analysis(const netlist::Netlist& netlist, const timing::DelayAnnotation& annotation,
                          const CharacterizeOptions& options, std::span<const std::uint64_t> codes,
                          MacProfile& profile) {
    throw_internal("E4522", "dynamic analysis needs the dynamic-timing engine, not linked in",
                   "use --analysis static, or merge the dynamic branch");
}

}  // namespace halo::mac
