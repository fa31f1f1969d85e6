// The program's quantizer table: each row is a method's traits (quant/model_quantizer.hpp:
// needs, flags, per-layer entry point) and the job that quantizes a whole model with it. Filled
// explicitly by register_methods (quant's rows RTN, GPTQ, AWQ, k-means, SmoothQuant with the
// uniform-grid job; HALO's row from hwq/method_row.hpp with the HALO job), never by static
// initialisers; method_table() fills the program's table on its first call.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/jobs/quantize_job.hpp"
#include "halo/quant/model_quantizer.hpp"

namespace halo::jobs {

using QuantizeJobFn = QuantizeJobResult (*)(const QuantizeJobOptions& options, const JobCallbacks& callbacks);

struct MethodRow {
    quant::MethodTraits traits;
    QuantizeJobFn job;
};

class MethodTable {
public:
    void add(const quant::MethodTraits& traits, QuantizeJobFn job);  // a repeated name: internal E6033
    // Unknown name: E6007 listing every registered method.
    const MethodRow& find(std::string_view name) const;
    const quant::MethodRegistry& registry() const { return registry_; }
    std::string names() const { return registry_.names(); }

private:
    quant::MethodRegistry registry_;
    std::vector<MethodRow> rows_;
};

void register_methods(MethodTable& table);

// The method-specific flags (quant::method_specific_flags) among `given` that `row` does not
// take: a usage error E6035 naming the first and what the method takes, never ignored. The CLI
// passes the flags given on its command line, the Python package the options given as keywords.
void check_flags_apply(const quant::MethodTraits& row, std::span<const std::string> given);

// The program's table (register_methods on the first call).
const MethodTable& method_table();

}  // namespace halo::jobs
