// Built when CMake found no CUDA compiler: the same interface, every entry a clear E8109
// (bad input, exit 2), never a silent fallback to the CPU.
#include "halo/cuda/cuda_model.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

[[noreturn]] void no_cuda(int index) {
    throw_bad_value("E8109", "--device", "this halo was built without CUDA", "a build where CMake found nvcc",
                    "cuda:" + std::to_string(index), "rebuild on a machine with the CUDA toolkit, or use --device cpu");
}

}  // namespace

bool cuda_built() { return false; }
DeviceInfo open_device(int index) { no_cuda(index); }

struct CudaModel::Impl {};
CudaModel::CudaModel(const model::LazyModel&, int device, std::int64_t, ProgressSink, bool) { no_cuda(device); }
CudaModel::~CudaModel() = default;
const model::ModelConfig& CudaModel::config() const { no_cuda(0); }
model::Matrix CudaModel::logits(std::span<const std::int32_t>, std::int64_t) { no_cuda(0); }
std::vector<double> CudaModel::next_token_nll(std::span<const std::int32_t>, std::int64_t, std::int64_t) { no_cuda(0); }
std::size_t CudaModel::device_bytes() const { return 0; }
std::size_t CudaModel::peak_device_bytes() const { return 0; }
const DeviceInfo& CudaModel::device() const { no_cuda(0); }

}  // namespace halo::cuda
