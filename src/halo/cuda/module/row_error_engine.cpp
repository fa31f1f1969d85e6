// Inside libhalo_cuda.so: AWQ's candidate errors (cuda_backend_api.hpp RowErrorEngine). W and the
// Gram G stay on the device for a tensor's whole search; per candidate decode Q: D = W - Q, one
// strict-FP32 cuBLAS SGEMM D G, then per row sum_c D .* (D G) in double (quant/awq.cpp's
// row_errors, the CPU reference).
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/cuda/module/cuda_kernels.hpp"
#include "halo/cuda/module/device_memory.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

constexpr const char* kLowerAwq = "quantize on a GPU with more memory, or use --device cpu";

std::size_t floats(std::int64_t n) { return static_cast<std::size_t>(n) * sizeof(float); }

class RowError final : public RowErrorEngine {
public:
    explicit RowError(int device) {
        check(cudaSetDevice(device), "cudaSetDevice");
        check(cublasCreate(&blas_), "cublasCreate");
        check(cublasSetMathMode(blas_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
    }
    ~RowError() override {
        if (blas_) cublasDestroy(blas_);
    }

    void upload(const float* w, std::int64_t rows, std::int64_t cols, const float* gram) override {
        rows_ = rows, cols_ = cols;
        w_.allocate(floats(rows * cols), "AWQ's weight", kLowerAwq);
        g_.allocate(floats(cols * cols), "AWQ's Gram", kLowerAwq);
        d_.allocate(floats(rows * cols), "AWQ's candidate W - Q", kLowerAwq);
        dg_.allocate(floats(rows * cols), "AWQ's candidate (W - Q) G", kLowerAwq);
        out_.allocate(static_cast<std::size_t>(rows) * sizeof(double), "AWQ's row errors", kLowerAwq);
        check(cudaMemcpy(w_.f(), w, floats(rows * cols), cudaMemcpyHostToDevice), "upload");
        check(cudaMemcpy(g_.f(), gram, floats(cols * cols), cudaMemcpyHostToDevice), "upload");
        peak_used_ = std::max(peak_used_, device_used_bytes());
    }

    void row_errors(const float* q, double* out) override {
        if (rows_ == 0) return;
        check(cudaMemcpy(d_.f(), q, floats(rows_ * cols_), cudaMemcpyHostToDevice), "upload");
        subtract(w_.f(), d_.f(), d_.f(), rows_ * cols_, nullptr);
        // Row-major DG = D G as the column-major (DG)^T = G^T D^T (G symmetric or not: G as stored).
        const float one = 1.0f, zero = 0.0f;
        const int rows = static_cast<int>(rows_), cols = static_cast<int>(cols_);
        check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, cols, rows, cols, &one, g_.f(), cols, d_.f(), cols, &zero, dg_.f(), cols),
              "AWQ row error product");
        row_dot_double(d_.f(), dg_.f(), rows_, cols_, out_.d(), nullptr);
        check(cudaGetLastError(), "AWQ row error kernels");
        check(cudaMemcpy(out, out_.d(), static_cast<std::size_t>(rows_) * sizeof(double), cudaMemcpyDeviceToHost), "download");
    }

    void release() override {
        w_.release(), g_.release(), d_.release(), dg_.release(), out_.release();
        rows_ = cols_ = 0;
    }
    std::size_t peak_device_bytes() const override { return peak_used_; }

private:
    cublasHandle_t blas_ = nullptr;
    DeviceBuffer w_, g_, d_, dg_, out_;
    std::int64_t rows_ = 0, cols_ = 0;
    std::size_t peak_used_ = 0;
};

}  // namespace

RowErrorEngine* make_row_error_engine(int device) { return new RowError(device); }

}  // namespace halo::cuda
