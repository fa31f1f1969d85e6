// Inside libhalo_cuda.so: error checks and one RAII device allocation that reports an out-of-memory
// as bad input (E8102: what, how much was asked and free, and the flag that lowers it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include <cublas_v2.h>
#include <cuda_runtime.h>

namespace halo::cuda {

void check(cudaError_t e, const char* what);
void check(cublasStatus_t e, const char* what);

class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(std::size_t bytes, const char* what, const char* lower_with) { allocate(bytes, what, lower_with); }
    ~DeviceBuffer() { release(); }
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        std::swap(p_, o.p_);
        std::swap(bytes_, o.bytes_);
        return *this;
    }
    // Frees what is held first; keeps it when the size is already right.
    void allocate(std::size_t bytes, const char* what, const char* lower_with);
    void release();
    float* f() const { return static_cast<float*>(p_); }
    double* d() const { return static_cast<double*>(p_); }
    std::int32_t* i() const { return static_cast<std::int32_t*>(p_); }
    std::size_t bytes() const { return bytes_; }

private:
    void* p_ = nullptr;
    std::size_t bytes_ = 0;
};

// Device memory in use now (total - free), for the peak figures.
std::size_t device_used_bytes();

}  // namespace halo::cuda
