#include "halo/jobs/methods.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "halo/hwq/method_row.hpp"
#include "halo/jobs/halo_quantize_job.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::jobs {

void MethodTable::add(const quant::MethodTraits& traits, QuantizeJobFn job) {
    registry_.add(traits);  // E6033 on a repeated name
    if (!job) throw_internal("E9040", "quantization method row without a job");
    rows_.push_back({traits, job});
}

const MethodRow& MethodTable::find(std::string_view name) const {
    const auto& traits = registry_.find(name);  // E6007 listing every registered method
    for (const auto& r : rows_)
        if (r.traits.name == traits.name) return r;
    throw_internal("E9041", "quantization method registered without its row");
}

void register_methods(MethodTable& table) {
    for (const auto& row : quant::methods()) table.add(row, &run_table_quantize);
    table.add(hwq::halo_method_row(), &run_halo_quantize);
}

void check_flags_apply(const quant::MethodTraits& row, std::span<const std::string> given) {
    const auto specific = quant::method_specific_flags();
    for (const auto& flag : given) {
        if (std::find(specific.begin(), specific.end(), flag) == specific.end()) continue;  // applies to every method
        if (std::find(row.flags.begin(), row.flags.end(), flag) != row.flags.end()) continue;
        std::string takes;
        for (const auto g : row.flags) takes += fmt::format("{}{}", takes.empty() ? "" : " ", g);
        throw_usage("E6035", fmt::format("{} does not apply to --method {} (it takes: {})", flag, row.name, takes));
    }
}

const MethodTable& method_table() {
    static const MethodTable table = [] {
        MethodTable t;
        register_methods(t);
        return t;
    }();
    return table;
}

}  // namespace halo::jobs
