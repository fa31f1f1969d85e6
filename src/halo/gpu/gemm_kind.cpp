#include <string>

#include "halo/gpu/cublaslt_gemm.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::gpu {

std::string_view gemm_kind_name(GemmKind kind) {
    switch (kind) {
        case GemmKind::int8: return "int8";
        case GemmKind::fp8_e4m3: return "fp8";
        case GemmKind::bf16: return "bf16";
    }
    return "?";
}

GemmKind parse_gemm_kind(std::string_view name) {
    if (name == "int8") return GemmKind::int8;
    if (name == "fp8") return GemmKind::fp8_e4m3;
    if (name == "bf16") return GemmKind::bf16;
    throw_bad_value("E8020", std::string(name), "unknown GEMM kind", "int8, fp8 or bf16", std::string(name));
}

}  // namespace halo::gpu
