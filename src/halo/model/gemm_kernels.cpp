#include "halo/model/gemm_kernels.hpp"

#include <cstdlib>
#include <string_view>

namespace halo::model::kernels {

namespace {

GemmIsa cpu_isa() {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma")) {
        return GemmIsa::avx512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return GemmIsa::avx2;
    return GemmIsa::reference;
}

GemmIsa choose() {
    const GemmIsa cpu = cpu_isa();
    const char* env = std::getenv("HALO_GEMM");
    if (env == nullptr) return cpu;
    const std::string_view want(env);
    GemmIsa asked = cpu;
    if (want == "reference") asked = GemmIsa::reference;
    else if (want == "avx2") asked = GemmIsa::avx2;
    else if (want == "avx512") asked = GemmIsa::avx512;
    // Never above what the CPU runs.
    return static_cast<int>(asked) <= static_cast<int>(cpu) ? asked : cpu;
}

}  // namespace

GemmIsa detected_gemm_isa() {
    static const GemmIsa isa = choose();
    return isa;
}

const char* gemm_isa_name(GemmIsa isa) {
    switch (isa) {
        case GemmIsa::avx512: return "avx512";
        case GemmIsa::avx2: return "avx2";
        case GemmIsa::reference: return "reference";
    }
    return "reference";
}

}  // namespace halo::model::kernels
