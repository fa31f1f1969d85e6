#include "halo/accel/design_select.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::accel {
namespace {

constexpr std::array<ManifestDesignRule, 7> kRules = {{
    {"int8", "int8", 0, {"int8_per_token", "int8@row"}},  // per-channel: the design rescales once per output
    {"ant", "ant4", kAnyGroup, {"ant4", ""}},
    {"olive", "olive4", kAnyGroup, {"olive4", ""}},
    {"mxfp4", "mxfp4", kAnyGroup, {"mxfp4", ""}},
    {"int-sym-g64", "int4", 64, {"int4@g64", ""}},
    {"amove-aggressive", "amove-int4-g128c16", kAnyGroup, {"amove-aggressive", "amove-int4-g128c16"}},
    {"amove-conservative", "amove-int4-g32c4", kAnyGroup, {"amove-conservative", "amove-int4-g32c4"}},
}};

std::string describe_rules() {
    std::string s;
    for (const auto& r : kRules) {
        std::string acts(r.act_linear[0]);
        if (!r.act_linear[1].empty()) acts += fmt::format("|{}", r.act_linear[1]);
        s += fmt::format("{}{}: weight_format {}{}, activation_format {}[+attn...]", s.empty() ? "" : "; ", r.design,
                         r.weight_format, r.group_cols != kAnyGroup ? fmt::format(" group_cols {}", r.group_cols) : "", acts);
    }
    return s;
}

std::string known_designs() {
    std::string s;
    for (const auto& d : amove_designs()) s += fmt::format("{}{}", s.empty() ? "" : ", ", d.name);
    return s;
}

[[noreturn]] void no_design(const std::string& file, const std::string& field, const std::string& found) {
    throw_bad_input_at("E7071", file, field, "no hardware design for this quantized model's formats", describe_rules(), found,
                       fmt::format("known designs: {}; pass --design NAME to simulate one of them explicitly", known_designs()));
}

}  // namespace

std::span<const ManifestDesignRule> manifest_design_rules() { return kRules; }

std::optional<DesignPick> design_from_manifest(const quant::ManifestSummary& m, const std::string& file) {
    if (m.halo) return std::nullopt;
    if (!m.weight_format) no_design(file, "weight_format", "(missing)");
    const std::string wf = *m.weight_format;
    const std::int64_t group = m.first_group_cols;
    const std::string& af = m.activation_format;
    const std::string linear = af.substr(0, af.find('+'));

    bool weight_matched = false, group_matched = false;
    for (const auto& r : kRules) {
        if (r.weight_format != wf) continue;
        weight_matched = true;
        if (r.group_cols != kAnyGroup && r.group_cols != group) continue;
        group_matched = true;
        if (linear.empty() || (linear != r.act_linear[0] && linear != r.act_linear[1])) continue;
        // The group is named only where the rule asks for it (an Amove spec's group_cols is its cluster).
        return DesignPick{&amove_design(r.design), fmt::format("weight_format {}{}, activation_format {}", wf,
                                                                r.group_cols != kAnyGroup ? fmt::format(" group_cols {}", group) : "", af)};
    }
    if (!weight_matched) no_design(file, "weight_format", "\"" + wf + "\"");
    if (!group_matched) no_design(file, "linears[0].spec.group_cols", fmt::format("{} (weight_format {})", group, wf));
    no_design(file, "activation_format",
              af.empty() ? fmt::format("null (weight-only {}: the designs quantize activations too)", wf)
                         : fmt::format("\"{}\" (weight_format {})", af, wf));
}

std::optional<DesignPick> design_from_manifest(const nlohmann::json& m, const std::string& file) {
    return design_from_manifest(quant::manifest_summary(m, file), file);
}

std::optional<DesignPick> design_from_quantized_dir(const std::filesystem::path& dir) {
    const auto path = dir / "manifest.json";
    if (!std::filesystem::exists(path)) return std::nullopt;
    return design_from_manifest(quant::read_manifest_summary(dir), path.string());
}

}  // namespace halo::accel
