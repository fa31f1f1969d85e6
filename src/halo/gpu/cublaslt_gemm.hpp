// One cuBLASLt GEMM on the GPU, C[M x N] = A[M x K] * W[N x K]^T, with the weight operand W
// given as INT8 codes. Kinds: INT8 x INT8 -> INT32; FP8 E4M3 x E4M3 -> BF16 (Hopper);
// BF16 x BF16 -> BF16. For FP8 and BF16 the code's integer value is converted to the format
// (integers up to 16 are exact in E4M3, up to 256 in BF16), so all kinds see "the same
// weights". Layout is cuBLASLt's "TN" (both operands K-major), which INT8 and FP8 require.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace halo::gpu {

enum class GemmKind : std::uint8_t { int8, fp8_e4m3, bf16 };

std::string_view gemm_kind_name(GemmKind kind);
GemmKind parse_gemm_kind(std::string_view name);  // "int8" | "fp8" | "bf16"; E8020 otherwise

struct GemmShape {
    std::int64_t m = 0;  // activation rows (tokens)
    std::int64_t n = 0;  // weight rows (output features)
    std::int64_t k = 0;  // reduction (input features)
    double ops() const { return 2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k); }
};

class LtGemm {
public:
    LtGemm(GemmKind kind, GemmShape shape);  // allocates device buffers and picks an algorithm
    ~LtGemm();
    LtGemm(const LtGemm&) = delete;
    LtGemm& operator=(const LtGemm&) = delete;

    void upload_weights(const std::vector<std::int8_t>& codes);        // N*K
    void upload_activations(const std::vector<std::int8_t>& values);   // M*K
    void enqueue(int iterations);  // launches `iterations` GEMMs on the object's stream
    void synchronize();
    // The output as doubles (INT32 or BF16 converted), row-major M x N.
    std::vector<double> download_output();
    GemmShape shape() const;
    GemmKind kind() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

bool cuda_device_available();

}  // namespace halo::gpu
