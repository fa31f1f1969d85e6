#include "halo/quant/amove_activation.hpp"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "halo/quant/amove_format.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

[[noreturn]] void bad(std::string_view name, const std::string& why) {
    throw_bad_value("E6804", "--act-format", fmt::format("malformed activation format: {}", why),
                    "<fmt>[+attn[=<fmt>]] with fmt an amove-* name or <format>@g<G> / @row, or "
                    "amove-aggressive[-<elem>] / amove-conservative[-<elem>]",
                    std::string(name));
}

bool names_rule(std::string_view name) {
    return name.ends_with("-scale") || name.ends_with("-mse") || name.ends_with("-mean");
}

// One operand format: amove-* (online mean rule unless a rule is named) or <format>@g<G>|@row.
ActivationOperand operand_spec(std::string_view whole, std::string_view f) {
    if (const BaselineType* b = find_baseline_type(f)) return {std::nullopt, b->quantize_row};
    if (f.starts_with("amove-")) {
        const std::string n = names_rule(f) ? std::string(f) : std::string(f) + "-mean";
        return {make_spec(n, Granularity::per_channel())};
    }
    const auto at = f.find('@');
    const std::string_view base = f.substr(0, at);
    const auto* row = find_format(base);
    if (!row) bad(whole, fmt::format("unknown format '{}'", base));
    // Mixed-type rows choose a value set per weight group offline (or pair codes along a row);
    // the per-token activation path rounds with one value set, so it would silently drop that.
    if (row->custom)
        bad(whole, fmt::format("'{}' is a weight format (per-group type choice or pairs); activations take the "
                               "baseline types 'ant4' or 'olive4' (one scale per token)",
                               base));
    if (at == std::string_view::npos) {
        if (row->block_cols == 0) bad(whole, fmt::format("'{}' needs @g<G> or @row", base));
        return {make_spec(base, Granularity::per_channel())};
    }
    const auto g = f.substr(at + 1);
    if (g == "row") return {make_spec(base, Granularity::per_channel())};
    if (g.size() < 2 || g[0] != 'g' || !std::all_of(g.begin() + 1, g.end(), [](char c) { return c >= '0' && c <= '9'; }) || g.size() > 7)
        bad(whole, fmt::format("'{}' is not g<G> or row", g));
    return {make_spec(base, Granularity::per_group(std::stoi(std::string(g.substr(1)))))};
}

model::ActivationHook hook_of(const ActivationOperand& spec, bool transpose) {
    return [spec, transpose](float* data, std::int64_t rows, std::int64_t cols, int) {
        if (!transpose) return spec.apply(data, rows, cols);
        std::vector<float> t(static_cast<std::size_t>(rows * cols));
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c) t[static_cast<std::size_t>(c * rows + r)] = data[r * cols + c];
        spec.apply(t.data(), cols, rows);
        for (std::int64_t r = 0; r < rows; ++r)
            for (std::int64_t c = 0; c < cols; ++c) data[r * cols + c] = t[static_cast<std::size_t>(c * rows + r)];
    };
}

}  // namespace

void ActivationOperand::apply(float* data, std::int64_t rows, std::int64_t cols) const {
    if (row_fn) {
        for (std::int64_t r = 0; r < rows; ++r) row_fn(std::span<float>(data + r * cols, static_cast<std::size_t>(cols)));
        return;
    }
    quantize_activation_rows(*spec, data, rows, cols);
}

void quantize_activation_rows(const QuantSpec& spec, float* data, std::int64_t rows, std::int64_t cols) {
    if (const AmoveConfig* c = amove_config(*spec.format)) return amove_qdq_rows(*c, spec, data, rows, cols);
    const std::int64_t g = spec.granularity.group_cols == 0 ? cols : spec.granularity.group_cols;
    for (std::int64_t r = 0; r < rows; ++r) {
        float* x = data + r * cols;
        const float t = fit_tensor_scale(spec, std::span<const float>(x, static_cast<std::size_t>(cols)));
        for (std::int64_t b = 0; b < cols; b += g) {
            const std::int64_t e = std::min(cols, b + g);
            const GroupParams p = fit_group(spec, std::span<const float>(x + b, static_cast<std::size_t>(e - b)), t);
            for (std::int64_t k = b; k < e; ++k) x[k] = dequantize_value(spec, p, quantize_value(spec, p, x[k]));
        }
    }
}

std::optional<ActivationPlan> parse_activation_plan(std::string_view name) {
    for (std::string_view preset : {"amove-aggressive", "amove-conservative"}) {
        if (!name.starts_with(preset)) continue;
        std::string_view elem = name.substr(preset.size());
        if (const auto plus = elem.find('+'); plus != std::string_view::npos && (plus == 0 || elem[0] == '-'))
            bad(name, fmt::format("the preset {} sets the attention operands itself; drop '{}'", preset, elem.substr(plus)));
        if (!elem.empty() && elem[0] != '-') continue;
        elem = elem.empty() ? std::string_view("int4") : elem.substr(1);
        const bool aggressive = preset == "amove-aggressive";
        const std::string lin = fmt::format("amove-{}-{}", elem, aggressive ? "g128c16" : "g32c4");
        const std::string att = fmt::format("amove-{}-g32c4", elem);
        return ActivationPlan{operand_spec(name, lin), operand_spec(name, att)};
    }
    const auto plus = name.find('+');
    const std::string_view lin = name.substr(0, plus);
    if (!lin.starts_with("amove-") && lin.find('@') == std::string_view::npos && !find_format(lin) && !find_baseline_type(lin))
        return std::nullopt;  // not ours (e.g. the model's own "int8_per_token")
    ActivationPlan plan{operand_spec(name, lin), std::nullopt};
    if (plus != std::string_view::npos) {
        const std::string_view rest = name.substr(plus + 1);
        if (rest == "attn") plan.attention = plan.linear;
        else if (rest.starts_with("attn=")) plan.attention = operand_spec(name, rest.substr(5));
        else bad(name, fmt::format("'{}' after '+' is not attn or attn=<fmt>", rest));
    }
    return plan;
}

model::ForwardHooks activation_plan_hooks(const ActivationPlan& plan) {
    model::ForwardHooks h;
    for (auto& l : h.linear_input) l = hook_of(plan.linear, false);
    if (plan.attention) {
        h.attn_q = h.attn_k = h.attn_p = hook_of(*plan.attention, false);
        h.attn_v = hook_of(*plan.attention, true);  // PV contracts over tokens: group V along tokens
    }
    return h;
}

}  // namespace halo::quant
