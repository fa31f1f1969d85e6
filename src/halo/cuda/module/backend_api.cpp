// Inside libhalo_cuda.so: the one exported entry point of the CUDA backend (cuda_backend_api.hpp).
#include <cuda_runtime.h>
#include <fmt/format.h>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/cuda/module/device_memory.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

ForwardEngine* make_forward_engine(int device, const model::ModelConfig& config, int slots, std::int64_t max_tokens, bool tf32);
GptqEngine* make_gptq_engine(int device);
FisherEngine* make_fisher_engine(int device, const model::ModelConfig& config, std::int64_t max_tokens, bool tf32,
                                 bool head_gradient);
TileFitEngine* make_tile_fit_engine(int device);
RowErrorEngine* make_row_error_engine(int device);

namespace {

DeviceInfo open_device(int index) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        throw_bad_value("E8101", "--device", "no usable CUDA driver or GPU", "a GPU with a working driver", cudaGetErrorString(e),
                        "use --device cpu");
    }
    if (index < 0 || index >= count)
        throw_bad_value("E8108", "--device", "no such CUDA device", count ? fmt::format("cuda:0..cuda:{}", count - 1) : "a GPU",
                        fmt::format("cuda:{} ({} devices)", index, count), "use --device cpu");
    check(cudaSetDevice(index), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
    DeviceInfo d;
    d.index = index;
    d.name = prop.name;
    check(cudaMemGetInfo(&d.free_bytes, &d.total_bytes), "cudaMemGetInfo");
    return d;
}

const CudaBackendApi kApi{kCudaBackendAbi, open_device, make_forward_engine, make_gptq_engine, make_fisher_engine,
                          make_tile_fit_engine, make_row_error_engine};

}  // namespace
}  // namespace halo::cuda

extern "C" __attribute__((visibility("default"))) const halo::cuda::CudaBackendApi* halo_cuda_backend_api() {
    return &halo::cuda::kApi;
}
