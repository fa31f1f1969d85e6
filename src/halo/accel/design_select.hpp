// Which hardware design (amove_designs()) runs a quantized model directory: the manifest
// (quant/quant_dir.hpp, docs/formats.md "Quantized model directory") names the weight format
// ("weight_format"), its group ("linears[0].spec.group_cols") and the activation format
// ("activation_format"; its linear part, before "+attn"). One rule per design:
//   int8               weight int8 per channel,       activations int8_per_token | int8@row
//   ant                weight ant4,                   activations ant4
//   olive              weight olive4,                 activations olive4
//   mxfp4              weight mxfp4,                  activations mxfp4
//   int-sym-g64        weight int4, group 64,         activations int4@g64
//   amove-aggressive   weight amove-int4-g128c16,     activations amove-aggressive | amove-int4-g128c16
//   amove-conservative weight amove-int4-g32c4,       activations amove-conservative | amove-int4-g32c4
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "halo/accel/amove_hw.hpp"
#include "halo/quant/quant_dir.hpp"

namespace halo::accel {

// A rule that accepts any granularity (Amove's spec group is its cluster; MX blocks are fixed).
inline constexpr std::int64_t kAnyGroup = -1;

struct ManifestDesignRule {
    std::string_view design;                     // an amove_designs() name
    std::string_view weight_format;              // manifest "weight_format"
    std::int64_t group_cols;                     // linears[0].spec.group_cols (0 = per channel), or kAnyGroup
    std::array<std::string_view, 2> act_linear;  // accepted linear parts of "activation_format" ("" = unused slot)
};
std::span<const ManifestDesignRule> manifest_design_rules();

struct DesignPick {
    const AmoveDesign* design = nullptr;
    std::string reason;  // "weight_format amove-int4-g32c4, activation_format amove-conservative"
};

// The design for a manifest, as its owner (quant/quant_dir.hpp) summarizes it. nullopt for a
// HALO directory (the manifest has a "halo" object: its per-tile levels run on the DVFS path).
// No rule matches: bad input E7071 naming the file, the manifest field that failed, what was
// found and the known designs.
std::optional<DesignPick> design_from_manifest(const quant::ManifestSummary& manifest, const std::string& file);
// quant::manifest_summary (E6010 when not a quantized-model manifest), then the above.
std::optional<DesignPick> design_from_manifest(const nlohmann::json& manifest, const std::string& file);
// Reads DIR/manifest.json through quant::read_manifest_summary: nullopt when it does not exist
// (the directory is read for tile_levels.json only) or is a HALO directory; E6010 when it is not
// valid JSON or not a quantized-model manifest.
std::optional<DesignPick> design_from_quantized_dir(const std::filesystem::path& dir);

}  // namespace halo::accel
