#include "halo/jobs/methods.hpp"

#include "halo/hwq/method_row.hpp"

namespace halo::jobs {

void register_methods(quant::MethodRegistry& registry) {
    quant::register_quant_methods(registry);
    hwq::register_halo_method(registry);
}

}  // namespace halo::jobs
