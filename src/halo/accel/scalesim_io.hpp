// SCALE-Sim v2 input formats, read as halo inputs.
//
// Config (.cfg, INI): [architecture_presets] ArrayHeight, ArrayWidth, IfmapSramSzkB,
// FilterSramSzkB, OfmapSramSzkB, Dataflow (ws|os|is), Bandwidth (words/cycle, used by
// SCALE-Sim only with InterfaceBandwidth: USER); [general] run_name; [run_presets]
// InterfaceBandwidth (CALC|USER). Keys are case-insensitive, "key: value" or "key = value".
// Other keys (offsets, MemoryBanks) are accepted and ignored.
//
// GEMM topology (.csv): a header line, then one layer per line `name, M, N, K,` — note the
// order M, N, K and the trailing comma SCALE-Sim requires (it drops the last field); halo
// accepts the line with or without it. Blank lines are skipped.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "halo/accel/systolic.hpp"

namespace halo::accel {

struct ScaleSimConfig {
    std::string run_name;
    ArrayConfig array;
    bool user_bandwidth = false;     // InterfaceBandwidth: USER
    double bandwidth_words_per_cycle = 0;
};

// Throws E7010 (bad input, file:line) on a malformed line, a missing key or a bad value.
ScaleSimConfig parse_scalesim_config(std::string_view text, const std::string& file = "<cfg>");
ScaleSimConfig read_scalesim_config(const std::filesystem::path& path);

// Throws E7011 (bad input, file:line) on a short line, a non-integer or non-positive dimension.
std::vector<Gemm> parse_scalesim_topology(std::string_view text, const std::string& file = "<topology>");
std::vector<Gemm> read_scalesim_topology(const std::filesystem::path& path);

}  // namespace halo::accel
