// The boundary between halo and the cuBLASLt GEMM runner inside the loadable CUDA module
// libhalo_cuda.so (timing/cuda_module.hpp): halo itself never links the CUDA runtime or
// cuBLASLt; LtGemm (cublaslt_gemm.hpp) forwards to a backend the module creates. Both sides
// are built from this tree by one toolchain; `abi` guards against a stale module.
#pragma once

#include <cstdint>
#include <vector>

#include "halo/gpu/cublaslt_gemm.hpp"

namespace halo::gpu {

constexpr int kGemmCudaAbi = 1;

class LtGemmBackend {
public:
    virtual ~LtGemmBackend() = default;
    virtual void upload_weights(const std::vector<std::int8_t>& codes) = 0;
    virtual void upload_activations(const std::vector<std::int8_t>& values) = 0;
    virtual void enqueue(int iterations) = 0;
    virtual void synchronize() = 0;
    virtual std::vector<double> download_output() = 0;
};

struct GemmCudaApi {
    int abi = 0;
    bool (*device_available)() = nullptr;
    // Throws halo::Error (E8021..E8024) like the constructor of LtGemm documents.
    LtGemmBackend* (*make)(GemmKind kind, GemmShape shape) = nullptr;
};

}  // namespace halo::gpu

extern "C" const halo::gpu::GemmCudaApi* halo_gemm_cuda_api();
