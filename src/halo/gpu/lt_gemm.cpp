// LtGemm forwards to the cuBLASLt backend in the loadable CUDA module (gemm_cuda_api.hpp), so
// that halo links neither the CUDA runtime nor cuBLASLt and loads them only here.
#include <string>

#include "halo/gpu/gemm_cuda_api.hpp"
#include "halo/timing/cuda_module.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::gpu {

namespace {

const GemmCudaApi* api(std::string* why) {
    using Entry = const GemmCudaApi* (*)();
    auto entry = reinterpret_cast<Entry>(timing::cuda_module_symbol("halo_gemm_cuda_api", why));
    if (!entry) return nullptr;
    const GemmCudaApi* a = entry();
    if (a == nullptr || a->abi != kGemmCudaAbi) {
        *why = "libhalo_cuda.so is from another build (ABI mismatch): rebuild it";
        return nullptr;
    }
    return a;
}

}  // namespace

struct LtGemm::Impl {
    GemmKind kind;
    GemmShape shape;
    std::unique_ptr<LtGemmBackend> backend;
};

LtGemm::LtGemm(GemmKind kind, GemmShape shape) : impl_(std::make_unique<Impl>()) {
    impl_->kind = kind;
    impl_->shape = shape;
    std::string why;
    const GemmCudaApi* a = api(&why);
    if (!a) throw_internal("E8026", "cannot load the CUDA module: " + why, "build halo where CMake finds nvcc");
    impl_->backend.reset(a->make(kind, shape));
}

LtGemm::~LtGemm() = default;

void LtGemm::upload_weights(const std::vector<std::int8_t>& codes) { impl_->backend->upload_weights(codes); }
void LtGemm::upload_activations(const std::vector<std::int8_t>& values) { impl_->backend->upload_activations(values); }
void LtGemm::enqueue(int iterations) { impl_->backend->enqueue(iterations); }
void LtGemm::synchronize() { impl_->backend->synchronize(); }
std::vector<double> LtGemm::download_output() { return impl_->backend->download_output(); }
GemmShape LtGemm::shape() const { return impl_->shape; }
GemmKind LtGemm::kind() const { return impl_->kind; }

bool cuda_device_available() {
    std::string why;
    const GemmCudaApi* a = api(&why);
    return a != nullptr && a->device_available();
}

}  // namespace halo::gpu
