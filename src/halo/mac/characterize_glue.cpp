// Glue to the MAC generator (mac_table, weight_format, yosys_driver) and the dynamic-timing
// engine (timing/dynamic_sweep.hpp).
#include <cmath>

#include "halo/mac/characterize.hpp"
#include "halo/mac/mac_table.hpp"
#include "halo/mac/weight_format.hpp"
#include "halo/mac/yosys_driver.hpp"
#include "halo/timing/dynamic_sweep.hpp"
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
    timing::DynamicOptions d;
    d.ports.weight = options.weight_port;
    d.weight_codes.assign(codes.begin(), codes.end());
    const netlist::Port* activation = netlist.find_port(d.ports.activation);
    const std::size_t activation_bits = activation ? activation->bits.size() : 0;
    d.exhaustive_data = options.transitions == 0 && activation_bits <= 8;
    d.data_transitions = options.transitions != 0 ? static_cast<std::size_t>(options.transitions)
                         : d.exhaustive_data      ? 0
                                                  : static_cast<std::size_t>(kWideDefaultTransitions);
    if (options.device == "cuda") d.data_engine = timing::DataEngine::cuda;
    else if (options.device != "cpu")
        throw_bad_value("E4524", "--device", "unknown device", "cpu or cuda", options.device, "");
    d.seed = options.seed;
    d.threads = options.threads;
    d.progress = options.progress;
    d.sta.output_load_pf = options.load_pf;
    d.sta.threads = options.threads;
    timing::DynamicResult r = timing::dynamic_sweep(netlist, annotation, d);
    if (r.weights.size() != profile.weights.size())
        throw_internal("E4523", "dynamic sweep returned a different number of weights than asked");
    for (std::size_t i = 0; i < r.weights.size(); ++i) {
        ProfileWeight& w = profile.weights[i];
        const timing::DynamicWeightResult& dw = r.weights[i];
        w.dynamic_delay_ns = dw.dynamic_delay_ns;
        if (r.data_transitions_per_weight > 0) {
            w.data_delay_max_ns = dw.data_delay_max_ns;
            w.data_delay_p999_ns = dw.data_delay_p999_ns;
            w.energy_fj = dw.energy_fj;
        }
    }
    profile.leakage_nw = r.leakage_nw;
    profile.dynamic_analysis = true;
    profile.transition_set = r.bound_exhaustive ? "exhaustive-8bit" : "sampled";
    profile.transitions = r.data_transitions_per_weight;  // behind every data figure of every weight
    profile.delay_model = "nldm-per-weight-static-slews";
}

}  // namespace halo::mac
