// Calibration capture for quantizers: run calibration samples through the model one block at
// a time, keeping only what a quantizer asks for about each linear layer's input, so memory
// stays bounded by one block's hidden states (samples x tokens x d_model) plus the statistics.
//
// Use, for GPTQ-style sequential quantization:
//   LayerwiseCalibration cal(weights, samples, threads);
//   for (int l = 0; l < n_layers; ++l) {
//       auto stats = cal.capture(l, request);   // inputs of block l's linears
//       ... quantize weights.layers[l] using stats ...
//       cal.advance(l);                         // run block l as it is now (quantized)
//   }
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "halo/model/forward.hpp"
#include "halo/model/weights.hpp"
#include "halo/util/progress.hpp"

namespace halo::model {

struct StatsRequest {
    bool gram = true;           // X^T X, [in x in], summed over all tokens (GPTQ Hessian = 2 X^T X)
    bool channel_stats = true;  // per input channel mean |x| and max |x| (AWQ, SmoothQuant)
};

struct LinearInputStats {
    Matrix gram;                     // [in x in], or empty when not asked
    std::vector<float> abs_mean;     // [in]
    std::vector<float> abs_max;      // [in]
    std::int64_t tokens = 0;
};

// A MoE expert's input statistics, indexed like ExpertWeights (gate, up, down); `tokens` of
// each is the number of calibration tokens routed to the expert.
using ExpertInputStats = std::array<LinearInputStats, 3>;

// The running sums behind one linear's LinearInputStats.
struct LinearStatsSums {
    LinearInputStats stats;
    std::vector<double> abs_sum;
    void add(const float* x, std::int64_t rows, std::int64_t cols, const StatsRequest& request);
    LinearInputStats finish(const StatsRequest& request);
};

// The LM head's input from one sample's hidden states after the last block, [rows x d_model]:
// the final RMSNorm (`output_norm`, d_model values) on a copy, then the hooks' lm_head_input
// when set, added to `sums`. The one arithmetic of every calibration source's capture_head
// (LayerwiseCalibration, BlockStreamCalibration, cuda::CudaCalibration).
void add_head_input(LinearStatsSums& sums, const float* hidden, std::int64_t rows, const ModelConfig& config,
                    const float* output_norm, const StatsRequest& request, const ForwardHooks* hooks = nullptr);

// Accumulates LinearInputStats from the inputs an observer sees (one block's forward passes
// over all samples), then finish() turns the sums into statistics. Shared by
// LayerwiseCalibration and the streaming driver so both compute the same bits. A MoE block's
// experts get statistics of their own (from their routed tokens only): `n_experts` of them.
class LinearStatsAccumulator {
public:
    explicit LinearStatsAccumulator(const StatsRequest& request, int n_experts = 0);
    LinearStatsAccumulator(const LinearStatsAccumulator&) = delete;  // the observer points at this
    LinearStatsAccumulator& operator=(const LinearStatsAccumulator&) = delete;
    // Valid while the accumulator lives.
    const LinearInputObserver& observer() const { return observer_; }
    std::array<LinearInputStats, 7> finish();
    // After finish(): the experts' statistics ([n_experts], empty for a dense block).
    std::vector<ExpertInputStats> take_expert_stats() { return std::move(expert_stats_); }

private:
    StatsRequest request_;
    std::array<LinearStatsSums, 7> sums_;
    std::vector<std::array<LinearStatsSums, 3>> expert_sums_;
    std::vector<ExpertInputStats> expert_stats_;
    LinearInputObserver observer_;
};

class LayerwiseCalibration {
public:
    // `weights` is read at every capture/advance (so a quantizer may overwrite a layer's linears
    // in place between the two); `hooks` (optional, must outlive this) quantize activations as
    // in the forward pass, and the statistics describe the inputs after the hooks.
    LayerwiseCalibration(const ModelWeights& weights, std::vector<std::vector<std::int32_t>> samples, unsigned threads,
                         const ForwardHooks* hooks = nullptr);
    ~LayerwiseCalibration();
    LayerwiseCalibration(const LayerwiseCalibration&) = delete;
    LayerwiseCalibration& operator=(const LayerwiseCalibration&) = delete;

    // Statistics of the inputs of block `layer`'s seven linears (indexed by LinearKind) for the
    // current hidden states. Layers must be visited in order 0, 1, ...
    std::array<LinearInputStats, 7> capture(int layer, const StatsRequest& request);
    // The experts' statistics of the last capture of a MoE block ([n_experts]; empty for a
    // dense block); moved out, so call once per capture.
    std::vector<ExpertInputStats> take_expert_stats();
    // Runs block `layer` with the weights as they are now (possibly quantized) to move the
    // hidden states to the next block's input.
    void advance(int layer);
    // Statistics of the LM head's input (the final RMSNorm of the hidden states, after the
    // hooks' lm_head_input when set), once every block has been advanced (E5507 otherwise):
    // what HALO's --quantize-head calibrates the head with.
    LinearInputStats capture_head(const StatsRequest& request);
    // Bytes held for hidden states now (for the bounded-memory test).
    std::size_t resident_bytes() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// One value per linear weight of the model, each the weight's shape: the block's own linears
// and, in a MoE block, each expert's gate/up/down.
struct FisherDiagonal {
    std::vector<std::array<Matrix, 7>> linear;        // [layer][LinearKind]; FFN kinds empty in a MoE block
    std::vector<std::vector<ExpertWeights>> experts;  // [layer][expert]; empty for a dense block
    // The LM head GEMM's entries [vocab x d_model] (a tied model: the embedding table used as
    // head, the lookup excluded); empty where they were not asked for (HeadGradient::skip).
    Matrix head;
    bool empty() const { return linear.empty(); }
    // The entry of block `layer`'s linear `kind`, of expert `expert` (-1: the block's own).
    const Matrix& at(int layer, LinearKind kind, int expert = -1) const;
};

// Whether a backward pass computes the LM head GEMM's weight gradient: only a quantizer that
// quantizes the head reads it (HALO with --quantize-head), so the others skip its GEMM.
enum class HeadGradient { compute, skip };

// Gradients of the mean next-token cross-entropy over `samples` with respect to every linear
// weight (experts included), reduced to the Fisher diagonal: mean over samples of the squared
// per-sample gradient. HeadGradient::skip: `head` stays empty, every other entry is the same bit
// for bit.
FisherDiagonal fisher_diagonal(const ModelWeights& weights, const std::vector<std::vector<std::int32_t>>& samples,
                               unsigned threads, ProgressSink progress = {}, HeadGradient head = HeadGradient::compute);

}  // namespace halo::model
