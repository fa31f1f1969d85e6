#include "halo/quant/gptq_factor.hpp"

#include "halo/model/gemm_kernels.hpp"

extern "C" {
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info);
void spotri_(const char* uplo, const int* n, float* a, const int* lda, int* info);
}

namespace halo::quant {

// LAPACK is column-major: a lower factor stored column-major reads row-major as its transpose.
bool inverse_hessian_upper_factor_reference(std::vector<float>& h, std::int64_t n64, int& info) {
    const int n = static_cast<int>(n64);
    const char lower = 'L';
    info = 0;
    spotrf_(&lower, &n, h.data(), &n, &info);
    if (info == 0) spotri_(&lower, &n, h.data(), &n, &info);
    if (info == 0) spotrf_(&lower, &n, h.data(), &n, &info);
    return info == 0;
}

bool inverse_hessian_upper_factor(std::vector<float>& h, std::int64_t n, int& info) {
    switch (model::kernels::detected_gemm_isa()) {
        case model::kernels::GemmIsa::avx512: return kernels::inverse_hessian_upper_factor_avx512(h, n, info);
        case model::kernels::GemmIsa::avx2: return kernels::inverse_hessian_upper_factor_avx2(h, n, info);
        case model::kernels::GemmIsa::reference: break;
    }
    return inverse_hessian_upper_factor_reference(h, n, info);
}

}  // namespace halo::quant
