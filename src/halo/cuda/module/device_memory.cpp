#include "halo/cuda/module/device_memory.hpp"

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw_internal("E8104", fmt::format("CUDA {} failed: {}", what, cudaGetErrorString(e)));
}
void check(cublasStatus_t e, const char* what) {
    if (e != CUBLAS_STATUS_SUCCESS) throw_internal("E8110", fmt::format("cuBLAS {} failed: status {}", what, static_cast<int>(e)));
}

void DeviceBuffer::allocate(std::size_t bytes, const char* what, const char* lower_with) {
    if (p_ && bytes_ == bytes) return;
    release();
    if (bytes == 0) return;
    std::size_t free = 0, total = 0;
    check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
    if (bytes > free || cudaMalloc(&p_, bytes) != cudaSuccess) {
        cudaGetLastError();
        p_ = nullptr;
        throw_bad_value("E8102", "--device", fmt::format("out of GPU memory for {}", what),
                        fmt::format("{:.2f} GiB free of {:.2f} GiB", static_cast<double>(free) / (1 << 30),
                                    static_cast<double>(total) / (1 << 30)),
                        fmt::format("{:.2f} GiB asked", static_cast<double>(bytes) / (1 << 30)), lower_with);
    }
    bytes_ = bytes;
}

void DeviceBuffer::release() {
    if (p_) cudaFree(p_);
    p_ = nullptr;
    bytes_ = 0;
}

std::size_t device_used_bytes() {
    std::size_t free = 0, total = 0;
    return cudaMemGetInfo(&free, &total) == cudaSuccess ? total - free : 0;
}

}  // namespace halo::cuda
