// The CUDA backend (`--device cuda[:N]`): the transformer forward of a Llama-family decoder on
// one GPU, for perplexity. FP32 throughout: cuBLAS SGEMM for every linear, the attention
// products (strided-batched over the query heads of each KV group) and the LM head; small
// kernels (cuda_kernels.cu) for the embedding gather, RMSNorm, RoPE (rotate-half, the cos/sin
// table the CPU's RopeTable computes), the causal softmax and SwiGLU. The CPU forward
// (model/forward_core) stays the reference: tests/unit/cuda compares logits on the lent GPU.
//
// Weights are uploaded block by block from a model::LazyModel (host memory holds one FP32
// block at a time) and stay resident on the GPU (a 7B model: ~27 GB FP32). The log-softmax
// and NLL of perplexity run on the host over the logits rows that are scored (model::perplexity).
//
// Not (yet) on the GPU: QK-norm, sliding windows, GeGLU (refused, E8103), activation hooks,
// backward, Hessians, GPTQ. Errors (bad input, exit 2): E8100 bad --device text, E8101 no
// CUDA in this build / no driver / no device N, E8102 out of GPU memory (asked, free, and the
// flag that lowers it). Never a silent fallback to the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/model/lazy_model.hpp"
#include "halo/model/weights.hpp"
#include "halo/util/progress.hpp"

namespace halo::cuda {

// "cpu" -> nullopt; "cuda" -> 0; "cuda:N" -> N. Anything else: E8100.
std::optional<int> parse_device(std::string_view text);

struct DeviceInfo {
    int index = 0;
    std::string name;
    std::size_t total_bytes = 0, free_bytes = 0;
};
// Selects device `index`: E8101 when this build has no CUDA, the driver is missing, or there is
// no such device (says how many there are).
DeviceInfo open_device(int index);
bool cuda_built();

class CudaModel {
public:
    // Uploads every block (and embedding, final norm, LM head). `max_tokens`: the longest
    // sequence forward() will see (sizes the work buffers; allocated here so an OOM shows up
    // before any work).
    // `tf32`: let cuBLAS use TF32 tensor cores for the FP32 GEMMs (10-bit mantissa inputs,
    // FP32 accumulation; several times faster on Hopper). Off: strict FP32 (CUBLAS_PEDANTIC_MATH).
    CudaModel(const model::LazyModel& source, int device, std::int64_t max_tokens, ProgressSink progress = {},
              bool tf32 = false);
    ~CudaModel();
    CudaModel(const CudaModel&) = delete;
    CudaModel& operator=(const CudaModel&) = delete;

    const model::ModelConfig& config() const;
    // Logits [tokens x vocab]; rows < first_row are left 0 (model::ForwardOptions::logits_from_row).
    model::Matrix logits(std::span<const std::int32_t> tokens, std::int64_t first_row = 0);
    // model::NllFn on the GPU: the NLL of tokens[t] from the logits at row t - 1, for t in
    // [first_target, end_target); only these NLLs are copied back.
    std::vector<double> next_token_nll(std::span<const std::int32_t> tokens, std::int64_t first_target,
                                       std::int64_t end_target);
    std::size_t device_bytes() const;       // what this model allocated
    std::size_t peak_device_bytes() const;  // device memory in use at its peak (cudaMemGetInfo)
    const DeviceInfo& device() const;

private:
    std::int64_t forward(std::span<const std::int32_t> tokens, std::int64_t first_row);
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace halo::cuda
