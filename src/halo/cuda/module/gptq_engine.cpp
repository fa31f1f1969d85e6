// Inside libhalo_cuda.so: GPTQ's dense algebra (cuda_backend_api.hpp GptqEngine). The inverse
// Hessian factor is quant/gptq.cpp's LAPACK sequence (potrf, potri, potrf on the lower
// column-major triangle, read row-major as the upper factor) done by cuSOLVER; the lazy block
// update is one cuBLAS SGEMM in strict FP32.
#include <memory>
#include <vector>

#include <cusolverDn.h>
#include <fmt/format.h>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/cuda/module/cuda_kernels.hpp"
#include "halo/cuda/module/device_memory.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

constexpr const char* kLowerGptq = "quantize on a GPU with more memory, or use --device cpu";

void check_solver(cusolverStatus_t e, const char* what) {
    if (e != CUSOLVER_STATUS_SUCCESS)
        throw_internal("E8114", fmt::format("cuSOLVER {} failed: status {}", what, static_cast<int>(e)));
}

class Gptq final : public GptqEngine {
public:
    explicit Gptq(int device) {
        check(cudaSetDevice(device), "cudaSetDevice");
        check(cublasCreate(&blas_), "cublasCreate");
        check(cublasSetMathMode(blas_, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
        check_solver(cusolverDnCreate(&solver_), "cusolverDnCreate");
    }
    ~Gptq() override {
        if (blas_) cublasDestroy(blas_);
        if (solver_) cusolverDnDestroy(solver_);
    }

    std::vector<float> inverse_hessian_factor(const std::vector<float>& h, std::int64_t n64) override {
        const int n = static_cast<int>(n64);
        n_ = n64;
        u_.allocate(h.size() * sizeof(float), "the inverse Hessian", kLowerGptq);
        check(cudaMemcpy(u_.f(), h.data(), h.size() * sizeof(float), cudaMemcpyHostToDevice), "upload");
        int lwork = 0, lwork2 = 0;
        check_solver(cusolverDnSpotrf_bufferSize(solver_, CUBLAS_FILL_MODE_LOWER, n, u_.f(), n, &lwork), "potrf buffer");
        check_solver(cusolverDnSpotri_bufferSize(solver_, CUBLAS_FILL_MODE_LOWER, n, u_.f(), n, &lwork2), "potri buffer");
        work_.allocate(static_cast<std::size_t>(std::max(lwork, lwork2)) * sizeof(float), "cuSOLVER work space", kLowerGptq);
        info_.allocate(sizeof(int), "cuSOLVER info", kLowerGptq);
        const auto step = [&](auto fn, const char* what) {
            check_solver(fn(solver_, CUBLAS_FILL_MODE_LOWER, n, u_.f(), n, work_.f(), std::max(lwork, lwork2), info_.i()), what);
            int info = 0;
            check(cudaMemcpy(&info, info_.i(), sizeof(int), cudaMemcpyDeviceToHost), what);
            if (info != 0)
                throw_bad_value("E8124", "Hessian", "the calibration Hessian is not positive definite after dampening",
                                "a positive definite X^T X + damp*I", fmt::format("cuSOLVER {} info {}", what, info),
                                "use more calibration tokens or a larger --damp");
        };
        step(cusolverDnSpotrf, "potrf");
        step(cusolverDnSpotri, "potri");
        step(cusolverDnSpotrf, "potrf");
        std::vector<float> u(h.size());
        check(cudaMemcpy(u.data(), u_.f(), u.size() * sizeof(float), cudaMemcpyDeviceToHost), "download");
        return u;
    }
    void upload_weights(const model::Matrix& w) override {
        rows_ = w.rows;
        w_.allocate(w.data.size() * sizeof(float), "the weight being quantized", kLowerGptq);
        check(cudaMemcpy(w_.f(), w.data.data(), w.data.size() * sizeof(float), cudaMemcpyHostToDevice), "upload");
        err_.allocate(static_cast<std::size_t>(rows_) * static_cast<std::size_t>(n_) * sizeof(float), "GPTQ's error block",
                      kLowerGptq);
    }
    void download_columns(std::int64_t c0, std::int64_t c1, float* host, std::int64_t ld) override {
        if (c1 <= c0) return;
        const std::size_t pitch = static_cast<std::size_t>(n_) * sizeof(float), hpitch = static_cast<std::size_t>(ld) * sizeof(float);
        check(cudaMemcpy2D(host + c0, hpitch, w_.f() + c0, pitch, static_cast<std::size_t>(c1 - c0) * sizeof(float),
                           static_cast<std::size_t>(rows_), cudaMemcpyDeviceToHost),
              "download columns");
    }
    void lazy_update(const float* err, std::int64_t i1, std::int64_t i2) override {
        const std::int64_t cnt = i2 - i1, rest = n_ - i2;
        if (rest <= 0 || cnt <= 0) return;
        check(cudaMemcpy(err_.f(), err, static_cast<std::size_t>(rows_ * cnt) * sizeof(float), cudaMemcpyHostToDevice), "upload");
        // Row-major W[:, i2:] (rows x rest, ld n) -= Err (rows x cnt) U[i1:i2, i2:] (cnt x rest, ld n),
        // as the column-major product W^T -= U^T Err^T.
        const float minus_one = -1.0f, one = 1.0f;
        check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(rest), static_cast<int>(rows_), static_cast<int>(cnt),
                          &minus_one, u_.f() + i1 * n_ + i2, static_cast<int>(n_), err_.f(), static_cast<int>(cnt), &one,
                          w_.f() + i2, static_cast<int>(n_)),
              "lazy update");
    }

    double output_error(const float* d, std::int64_t rows, std::int64_t cols, const float* gram) override {
        const auto floats = [](std::int64_t n) { return static_cast<std::size_t>(n) * sizeof(float); };
        d_.allocate(floats(rows * cols), "the output error's W - Q", kLowerGptq);
        dg_.allocate(floats(rows * cols), "the output error's (W - Q) G", kLowerGptq);
        g_.allocate(floats(cols * cols), "the output error's Gram", kLowerGptq);
        partials_.allocate(kDotBlocks * sizeof(double) + sizeof(double), "the output error's sums", kLowerGptq);
        check(cudaMemcpy(d_.f(), d, floats(rows * cols), cudaMemcpyHostToDevice), "upload");
        check(cudaMemcpy(g_.f(), gram, floats(cols * cols), cudaMemcpyHostToDevice), "upload");
        // Row-major DG = D G as the column-major (DG)^T = G^T D^T.
        const float one = 1.0f, zero = 0.0f;
        check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(cols), static_cast<int>(rows), static_cast<int>(cols), &one,
                          g_.f(), static_cast<int>(cols), d_.f(), static_cast<int>(cols), &zero, dg_.f(), static_cast<int>(cols)),
              "output error product");
        dot_double(d_.f(), dg_.f(), rows * cols, partials_.d(), partials_.d() + kDotBlocks, nullptr);
        double sum = 0;
        check(cudaMemcpy(&sum, partials_.d() + kDotBlocks, sizeof(double), cudaMemcpyDeviceToHost), "output error");
        check(cudaGetLastError(), "output error kernels");
        // Freed again: a 7B block's down projection holds ~0.5 GiB in each.
        d_.release();
        dg_.release();
        g_.release();
        return sum;
    }

private:
    cublasHandle_t blas_ = nullptr;
    cusolverDnHandle_t solver_ = nullptr;
    DeviceBuffer u_, w_, err_, work_, info_, d_, dg_, g_, partials_;
    std::int64_t n_ = 0, rows_ = 0;
};

}  // namespace

GptqEngine* make_gptq_engine(int device) { return new Gptq(device); }

}  // namespace halo::cuda
