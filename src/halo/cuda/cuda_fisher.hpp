// The Fisher diagonal on the GPU (`--sensitivity fisher` with `--device cuda`): model/backward's
// fisher_diagonal, i.e. the mean over calibration sequences of the squared gradient of each
// sequence's mean next-token cross-entropy with respect to every linear weight, with the
// backward pass in the CUDA module (cuda_backend_api.hpp's FisherEngine: every block resident in
// FP32 with an FP32 accumulator of its shape, one block's activations recomputed at a time).
// The CPU's model::fisher_diagonal stays the reference; tests/unit/cuda compares both. The LM
// head's entries (`head` = compute, for HALO's quantized head) are summed on the device too, its
// gradient formed a slice of vocabulary rows at a time (vocab x d_model floats more resident).
//
// Models: what the CUDA forward runs (check_supported, E8103); MoE is refused there too.
// Errors: E8160 no samples, E8161 a sample of fewer than 2 tokens, E8162 a token id outside the
// vocabulary (bad input, before any upload); E8102 out of GPU memory (weights, sums and the
// per-sequence buffers are allocated before any work).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "halo/model/calibration.hpp"
#include "halo/model/weights.hpp"
#include "halo/util/progress.hpp"

namespace halo::cuda {

struct FisherRun {
    double mean_loss = 0;              // mean over samples of each sequence's mean NLL (nats)
    std::size_t peak_device_bytes = 0;  // device memory in use at its peak (cudaMemGetInfo)
};

// model::fisher_diagonal on GPU `device`. `tf32`: TF32 tensor cores for the GEMMs.
model::FisherDiagonal fisher_diagonal_on_device(const model::ModelWeights& weights,
                                                const std::vector<std::vector<std::int32_t>>& samples, int device, bool tf32,
                                                ProgressSink progress = {}, FisherRun* run = nullptr,
                                                model::HeadGradient head = model::HeadGradient::skip);

// model::linear_gradients on the GPU: the gradients themselves (signs kept) of one sequence,
// in FisherDiagonal's layout, the head's included; for the gradient checks against the CPU.
model::FisherDiagonal linear_gradients_on_device(const model::ModelWeights& weights, std::span<const std::int32_t> tokens,
                                                 int device, bool tf32, double* loss = nullptr);

}  // namespace halo::cuda
