// Where the host side of the CUDA backend gets the module's entry points: libhalo_cuda.so is
// loaded (timing/cuda_module.hpp) on the first call, never at program start.
#pragma once

#include <vector>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/model/weights.hpp"

namespace halo::cuda {

// E8109 (bad input) when the module is not built, not found or not loadable (says why), or is
// from another build.
const CudaBackendApi& backend_api();

// cos/sin [positions x head_dim/2] of model::RopeTable in float, what the engines take.
struct RopeFloats {
    std::vector<float> cos, sin;
};
RopeFloats rope_floats(const model::ModelConfig& config, std::int64_t positions);

// Uploads the RoPE cos/sin table of `positions` positions (model::RopeTable) to `engine`.
void upload_rope_table(ForwardEngine& engine, const model::ModelConfig& config, std::int64_t positions);

}  // namespace halo::cuda
