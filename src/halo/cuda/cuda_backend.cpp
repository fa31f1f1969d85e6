#include "halo/cuda/cuda_backend.hpp"

#include <string>

#include "halo/cuda/cuda_model.hpp"
#include "halo/timing/cuda_module.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

const CudaBackendApi& backend_api() {
    std::string why;
    using Entry = const CudaBackendApi* (*)();
    const auto entry = reinterpret_cast<Entry>(timing::cuda_module_symbol("halo_cuda_backend_api", &why));
    const CudaBackendApi* api = entry ? entry() : nullptr;
    if (entry && (api == nullptr || api->abi != kCudaBackendAbi)) why = "libhalo_cuda.so is from another build (ABI mismatch)";
    if (!api || api->abi != kCudaBackendAbi)
        throw_bad_value("E8109", "--device", "the CUDA module cannot be used", "libhalo_cuda.so with its CUDA libraries", why,
                        cuda_built() ? "put libhalo_cuda.so next to halo (or set HALO_CUDA_MODULE) with libcublas/libcusolver "
                                       "on the library path, or use --device cpu"
                                     : "rebuild on a machine with the CUDA toolkit, or use --device cpu");
    return *api;
}

bool cuda_built() {
#ifdef HALO_HAVE_CUDA
    return true;
#else
    return false;
#endif
}

DeviceInfo open_device(int index) { return backend_api().open_device(index); }

}  // namespace halo::cuda
