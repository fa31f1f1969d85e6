#include "menus.hpp"

#include "halo/accel/amove_hw.hpp"
#include "halo/accel/design_sim.hpp"
#include "halo/accel/gpu.hpp"
#include "halo/accel/systolic.hpp"
#include "halo/accel/workload.hpp"
#include "halo/mac/mac_table.hpp"
#include "halo/mac/weight_format.hpp"
#include "halo/model/perplexity.hpp"
#include "halo/hwq/sparse_grid.hpp"

#include <fmt/format.h>

namespace halo::cli {

namespace {

template <class Rows, class NameOf>
std::vector<std::string> names_of(const Rows& rows, NameOf name_of) {
    std::vector<std::string> names;
    for (const auto& r : rows) names.emplace_back(name_of(r));
    return names;
}

}  // namespace

std::vector<std::string> design_names() {
    std::vector<std::string> names;
    for (const auto& d : accel::amove_designs()) {
        names.emplace_back(d.name);
        if (!d.alias.empty()) names.emplace_back(d.alias);
    }
    return names;
}

std::vector<std::string> builtin_model_names() { return accel::builtin_model_names(); }

std::vector<std::string> dataflow_names() {
    return names_of(accel::dataflow_table(), [](const auto& r) { return r.name; });
}

std::vector<std::string> gpu_model_names() {
    return names_of(accel::gpu_table(), [](const auto& r) { return r.name; });
}

std::vector<std::string> gpu_path_names() {
    return names_of(accel::gpu_path_table(), [](const auto& r) { return r.name; });
}

std::vector<std::string> simulate_arch_names() {
    // The design simulator's machines, then the HALO/DVFS GPU roofline (accel/gpu.hpp).
    auto names = names_of(accel::design_arches(), [](const auto& r) { return r.name; });
    names.emplace_back("gpu");
    return names;
}

std::vector<std::string> mac_names() {
    return names_of(mac::mac_table(), [](const auto& r) { return r.name; });
}

std::vector<std::string> mac_arch_names() {
    return names_of(mac::mac_arch_table(), [](const auto& r) { return r.name; });
}

std::vector<std::string> weight_format_names() {
    return names_of(mac::weight_format_table(), [](const auto& r) { return r.name; });
}

std::vector<std::string> perplexity_method_names() {
    return {std::string(model::method_name(model::PerplexityMethod::llamacpp)),
            std::string(model::method_name(model::PerplexityMethod::hf))};
}

std::string sparse_grid_help() {
    std::string h = "HALO: the sparse values' grid:";
    for (const auto& g : hwq::sparse_grids()) h += fmt::format(" {} ({});", g.name, g.summary);
    h.pop_back();
    return h;
}

std::string calib_int8_inputs_help() {
    return "GPTQ's and HALO's calibration statistics from INT8-per-token inputs, as the A8 evaluation feeds the linears "
           "(default: FP32 inputs; CPU only)";
}

}  // namespace halo::cli
