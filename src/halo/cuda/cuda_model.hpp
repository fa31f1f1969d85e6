// The CUDA backend (`--device cuda[:N]`), host side: the transformer forward of a Llama-family
// decoder on one GPU, for perplexity. The device work lives in the dlopen'ed module
// libhalo_cuda.so (cuda_backend_api.hpp: cuBLAS SGEMM for every linear, the attention products
// and the LM head; small kernels for embedding, RMSNorm, RoPE, causal softmax, SwiGLU and the
// log-softmax NLL); halo itself links no CUDA library, and a command loads the module only
// when --device cuda is given. The CPU forward (model/forward_core) stays the reference:
// tests/unit/cuda compares logits on the lent GPU.
//
// Weights are uploaded block by block (from a model::LazyModel: host memory holds one FP32
// block at a time; or from a ModelWeights already in memory, e.g. a quantized model) and stay
// resident on the GPU (a 7B model: ~27 GB FP32).
//
// Activation quantization (`--act-format`) on the GPU: every name the CPU takes (int8_per_token,
// the format table's rows per token, Amove, olive4/ant4, "+attn"), on the seven linears' inputs
// and, with +attn, Q, K, P and V (device_activation_quant; the table in act_row_format.hpp).
//
// Not on the GPU: QK-norm, sliding windows, GeGLU, QKV biases, post-norms, logit soft-capping,
// interleaved RoPE (refused, E8103). Errors (bad input, exit 2): E8100 bad
// --device text, E8109 the CUDA module cannot be loaded (not built, or its CUDA libraries
// missing), E8101 no driver or GPU, E8108 no device N, E8102 out of GPU memory (asked, free,
// and the flag that lowers it). Never a silent fallback to the CPU.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/weights.hpp"
#include "halo/util/progress.hpp"

namespace halo::cuda {

// "cpu" -> nullopt; "cuda" -> 0; "cuda:N" -> N. Anything else: E8100.
std::optional<int> parse_device(std::string_view text);

// Loads the CUDA module and selects device `index`: E8109 when the module cannot be loaded
// (says why), E8101 when the driver is missing, E8108 when there is no such device.
DeviceInfo open_device(int index);
// Whether this tree built the CUDA module (CMake found nvcc); it may still fail to load.
bool cuda_built();
// Refuses (E8103) model options the CUDA forward does not implement.
void check_supported(const model::ModelConfig& config, const std::string& where);

// The GPU form of an `--act-format` name ("" -> none). Names the CPU refuses keep their errors
// (E5510 unknown, E6804 malformed, E6001 a bad spec); E8190/E8191 (internal) when the CPU takes
// a name the GPU's table has no row for.
ActivationQuant device_activation_quant(std::string_view act_format);

class CudaModel {
public:
    // Uploads every block (and embedding, final norm, LM head). `max_tokens`: the longest
    // sequence forward() will see (sizes the work buffers; allocated here so an OOM shows up
    // before any work).
    // `tf32`: let cuBLAS use TF32 tensor cores for the FP32 GEMMs (10-bit mantissa inputs,
    // FP32 accumulation; several times faster on Hopper). Off: strict FP32 (CUBLAS_PEDANTIC_MATH).
    CudaModel(const model::LazyModel& source, int device, std::int64_t max_tokens, ProgressSink progress = {},
              bool tf32 = false);
    // The same from weights in memory (a quantized model's decoded weights).
    CudaModel(const model::ModelWeights& weights, int device, std::int64_t max_tokens, bool tf32 = false);
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
    // Quantize the linears' inputs in every later forward (device_activation_quant's result).
    void set_activation_quant(const ActivationQuant& quant);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace halo::cuda
