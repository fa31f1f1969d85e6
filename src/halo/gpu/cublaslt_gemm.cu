// The cuBLASLt backend of LtGemm, built into the loadable module libhalo_cuda.so
// (gemm_cuda_api.hpp); halo reaches it only through halo_gemm_cuda_api().
#include "halo/gpu/gemm_cuda_api.hpp"

#include <cublasLt.h>
#include <cstring>
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::gpu {

namespace {

void check_cuda(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw_internal("E8021", fmt::format("CUDA {} failed: {}", what, cudaGetErrorString(e)));
}

void check_lt(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS) throw_internal("E8022", fmt::format("cuBLASLt {} failed (status {})", what, static_cast<int>(s)));
}

constexpr size_t kWorkspaceBytes = 32u << 20;

}  // namespace

class CublasLtGemm final : public LtGemmBackend {
public:
    CublasLtGemm(GemmKind kind, GemmShape shape);
    void upload_weights(const std::vector<std::int8_t>& codes) override;
    void upload_activations(const std::vector<std::int8_t>& values) override;
    void enqueue(int iterations) override;
    void synchronize() override;
    std::vector<double> download_output() override;


    GemmKind kind;
    GemmShape shape;
    cudaStream_t stream = nullptr;
    cublasLtHandle_t handle = nullptr;
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t layout_w = nullptr, layout_a = nullptr, layout_c = nullptr;
    cublasLtMatmulAlgo_t algo{};
    void* d_w = nullptr;
    void* d_a = nullptr;
    void* d_c = nullptr;
    void* d_workspace = nullptr;
    size_t element_bytes_in = 1, element_bytes_out = 4;
    cudaDataType_t in_type = CUDA_R_8I, out_type = CUDA_R_32I;

    ~CublasLtGemm() override {
        if (layout_w) cublasLtMatrixLayoutDestroy(layout_w);
        if (layout_a) cublasLtMatrixLayoutDestroy(layout_a);
        if (layout_c) cublasLtMatrixLayoutDestroy(layout_c);
        if (op) cublasLtMatmulDescDestroy(op);
        if (handle) cublasLtDestroy(handle);
        cudaFree(d_w);
        cudaFree(d_a);
        cudaFree(d_c);
        cudaFree(d_workspace);
        if (stream) cudaStreamDestroy(stream);
    }

    // Converts INT8 codes to this GEMM's input element type on the host.
    std::vector<unsigned char> convert(const std::vector<std::int8_t>& codes) const {
        std::vector<unsigned char> out(codes.size() * element_bytes_in);
        for (size_t i = 0; i < codes.size(); ++i) {
            if (kind == GemmKind::int8) {
                out[i] = static_cast<unsigned char>(codes[i]);
            } else if (kind == GemmKind::fp8_e4m3) {
                __nv_fp8_e4m3 v(static_cast<float>(codes[i]));
                std::memcpy(&out[i], &v, 1);
            } else {
                __nv_bfloat16 v = __float2bfloat16(static_cast<float>(codes[i]));
                std::memcpy(&out[2 * i], &v, 2);
            }
        }
        return out;
    }
};

CublasLtGemm::CublasLtGemm(GemmKind kind, GemmShape shape) {
    auto& s = *this;
    s.kind = kind;
    s.shape = shape;
    if (shape.m <= 0 || shape.n <= 0 || shape.k <= 0 || shape.k % 16 || shape.n % 16 || shape.m % 16)
        throw_bad_value("E8023", fmt::format("{}x{}x{}", shape.m, shape.n, shape.k), "GEMM dimensions must be positive multiples of 16",
                        "M, N, K multiples of 16", fmt::format("M={} N={} K={}", shape.m, shape.n, shape.k));
    cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
    cudaDataType_t scale_type = CUDA_R_32F;
    if (kind == GemmKind::int8) {
        s.in_type = CUDA_R_8I, s.out_type = CUDA_R_32I, s.element_bytes_in = 1, s.element_bytes_out = 4;
        compute = CUBLAS_COMPUTE_32I, scale_type = CUDA_R_32I;
    } else if (kind == GemmKind::fp8_e4m3) {
        s.in_type = CUDA_R_8F_E4M3, s.out_type = CUDA_R_16BF, s.element_bytes_in = 1, s.element_bytes_out = 2;
    } else {
        s.in_type = CUDA_R_16BF, s.out_type = CUDA_R_16BF, s.element_bytes_in = 2, s.element_bytes_out = 2;
    }
    check_cuda(cudaStreamCreate(&s.stream), "stream create");
    check_cuda(cudaMalloc(&s.d_w, static_cast<size_t>(shape.n * shape.k) * s.element_bytes_in), "malloc W");
    check_cuda(cudaMalloc(&s.d_a, static_cast<size_t>(shape.m * shape.k) * s.element_bytes_in), "malloc A");
    check_cuda(cudaMalloc(&s.d_c, static_cast<size_t>(shape.m * shape.n) * s.element_bytes_out), "malloc C");
    check_cuda(cudaMalloc(&s.d_workspace, kWorkspaceBytes), "malloc workspace");
    check_lt(cublasLtCreate(&s.handle), "create");
    check_lt(cublasLtMatmulDescCreate(&s.op, compute, scale_type), "matmul desc");
    cublasOperation_t transpose = CUBLAS_OP_T, no_transpose = CUBLAS_OP_N;
    check_lt(cublasLtMatmulDescSetAttribute(s.op, CUBLASLT_MATMUL_DESC_TRANSA, &transpose, sizeof transpose), "transa");
    check_lt(cublasLtMatmulDescSetAttribute(s.op, CUBLASLT_MATMUL_DESC_TRANSB, &no_transpose, sizeof no_transpose), "transb");
    // Column-major view: W (row-major N x K) is a K x N matrix, used transposed; A (row-major
    // M x K) is K x M; the result is N x M column-major = row-major M x N.
    check_lt(cublasLtMatrixLayoutCreate(&s.layout_w, s.in_type, shape.k, shape.n, shape.k), "layout W");
    check_lt(cublasLtMatrixLayoutCreate(&s.layout_a, s.in_type, shape.k, shape.m, shape.k), "layout A");
    check_lt(cublasLtMatrixLayoutCreate(&s.layout_c, s.out_type, shape.n, shape.m, shape.n), "layout C");
    cublasLtMatmulPreference_t pref = nullptr;
    check_lt(cublasLtMatmulPreferenceCreate(&pref), "preference");
    size_t ws = kWorkspaceBytes;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    cublasStatus_t st = cublasLtMatmulAlgoGetHeuristic(s.handle, s.op, s.layout_w, s.layout_a, s.layout_c, s.layout_c, pref, 1, &result, &found);
    cublasLtMatmulPreferenceDestroy(pref);
    if (st != CUBLAS_STATUS_SUCCESS || found == 0)
        throw_internal("E8024", fmt::format("cuBLASLt has no algorithm for {} GEMM {}x{}x{}", gemm_kind_name(kind), shape.m, shape.n, shape.k));
    s.algo = result.algo;
    check_cuda(cudaMemsetAsync(s.d_c, 0, static_cast<size_t>(shape.m * shape.n) * s.element_bytes_out, s.stream), "memset C");
}

void CublasLtGemm::upload_weights(const std::vector<std::int8_t>& codes) {
    auto& s = *this;
    if (codes.size() != static_cast<size_t>(s.shape.n * s.shape.k))
        throw_bad_value("E8025", "weights", "weight count does not match the GEMM", std::to_string(s.shape.n * s.shape.k), std::to_string(codes.size()));
    auto bytes = s.convert(codes);
    check_cuda(cudaMemcpy(s.d_w, bytes.data(), bytes.size(), cudaMemcpyHostToDevice), "copy W");
}

void CublasLtGemm::upload_activations(const std::vector<std::int8_t>& values) {
    auto& s = *this;
    if (values.size() != static_cast<size_t>(s.shape.m * s.shape.k))
        throw_bad_value("E8025", "activations", "activation count does not match the GEMM", std::to_string(s.shape.m * s.shape.k), std::to_string(values.size()));
    auto bytes = s.convert(values);
    check_cuda(cudaMemcpy(s.d_a, bytes.data(), bytes.size(), cudaMemcpyHostToDevice), "copy A");
}

void CublasLtGemm::enqueue(int iterations) {
    auto& s = *this;
    std::int32_t alpha_i = 1, beta_i = 0;
    float alpha_f = 1.0f, beta_f = 0.0f;
    const void* alpha = s.kind == GemmKind::int8 ? static_cast<const void*>(&alpha_i) : static_cast<const void*>(&alpha_f);
    const void* beta = s.kind == GemmKind::int8 ? static_cast<const void*>(&beta_i) : static_cast<const void*>(&beta_f);
    for (int i = 0; i < iterations; ++i)
        check_lt(cublasLtMatmul(s.handle, s.op, alpha, s.d_w, s.layout_w, s.d_a, s.layout_a, beta, s.d_c, s.layout_c, s.d_c,
                                s.layout_c, &s.algo, s.d_workspace, kWorkspaceBytes, s.stream),
                 "matmul");
    check_cuda(cudaGetLastError(), "matmul launch");
}

void CublasLtGemm::synchronize() { check_cuda(cudaStreamSynchronize(stream), "synchronize"); }

std::vector<double> CublasLtGemm::download_output() {
    auto& s = *this;
    synchronize();
    size_t count = static_cast<size_t>(s.shape.m * s.shape.n);
    std::vector<unsigned char> raw(count * s.element_bytes_out);
    check_cuda(cudaMemcpy(raw.data(), s.d_c, raw.size(), cudaMemcpyDeviceToHost), "copy C");
    std::vector<double> out(count);
    for (size_t i = 0; i < count; ++i) {
        if (s.out_type == CUDA_R_32I) {
            std::int32_t v;
            std::memcpy(&v, &raw[4 * i], 4);
            out[i] = v;
        } else {
            __nv_bfloat16 v;
            std::memcpy(&v, &raw[2 * i], 2);
            out[i] = __bfloat162float(v);
        }
    }
    return out;
}

namespace {

bool device_available() {
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

LtGemmBackend* make(GemmKind kind, GemmShape shape) { return new CublasLtGemm(kind, shape); }

const GemmCudaApi kApi{kGemmCudaAbi, &device_available, &make};

}  // namespace

}  // namespace halo::gpu

extern "C" __attribute__((visibility("default"))) const halo::gpu::GemmCudaApi* halo_gemm_cuda_api() { return &halo::gpu::kApi; }
