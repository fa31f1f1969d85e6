#include "halo/model/gemm_kernels.hpp"

#include <cstdlib>
#include <string>
#include <string_view>

#include "halo/util/diagnostics.hpp"

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
    else  // a typo must not silently run the default kernel the user meant to override
        throw_bad_value("E5345", "HALO_GEMM", "unknown GEMM kernel in the environment", "reference, avx2 or avx512",
                        "\"" + std::string(want.substr(0, 64)) + "\"", "unset HALO_GEMM to use the best kernel the CPU runs");
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
