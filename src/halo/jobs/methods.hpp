// The program's quantizer table, filled explicitly at start (no static initialisers): quant's
// rows (RTN, GPTQ, AWQ, k-means, SmoothQuant) and HALO's (hwq/method_row.hpp).
#pragma once

#include "halo/quant/model_quantizer.hpp"

namespace halo::jobs {

void register_methods(quant::MethodRegistry& registry);

}  // namespace halo::jobs
