#include "halo/quant/phase_seconds.hpp"

#include <fmt/format.h>

namespace halo::quant {

std::string PhaseSeconds::describe() const {
    std::string s;
    const auto add = [&](const char* name, double v) {
        if (v > 0) s += fmt::format("{}{} {:.1f} s", s.empty() ? "" : ", ", name, v);
    };
    add("load", load);
    add("capture", capture);
    if (gram_host > 0) s += fmt::format(" (Grams on the host {:.1f} s)", gram_host);
    add("gptq factor", factor);
    add("gptq columns", columns);
    if (halo_refit > 0) s += fmt::format(" (tile refits {:.1f} s)", halo_refit);
    add("gptq updates", update);
    add("halo prepare", halo_prepare);
    add("halo costs", halo_costs);
    add("output error", output_error);
    add("decode", decode);
    add("advance", advance);
    add("halo records", halo_records);
    add("write", write);
    return s.empty() ? "none timed" : s;
}

}  // namespace halo::quant
