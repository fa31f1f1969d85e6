// Quantizers beyond RTN/GPTQ (gptq.hpp): AWQ, sensitivity-weighted k-means (SqueezeLLM) and
// SmoothQuant's smoothing. Each works on one linear weight and its calibration statistics; the
// model-level driver (model_quantizer.hpp) lists them in its method table.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "halo/model/weights.hpp"
#include "halo/quant/quantized_tensor.hpp"

namespace halo::quant {

class DeviceBackend;  // device_backend.hpp

// AWQ (Lin et al. 2024): per-input-channel scales s_j = mean|x_j|^alpha (normalized by
// sqrt(max s * min s), FP16), alpha on a grid in [0, 1); the weight is quantized as W diag(s)
// and decodes as Q diag(1/s) (the 1/s folds into the previous operator at deployment; here it
// is stored as QuantizedTensor::input_scale). Then a per-output-row clip ratio search (1.0 down
// to clip_min; one ratio for the whole tensor when scale groups span rows). The objective is
// the layer's output error through the Gram: tr((W-Q) G (W-Q)^T). alpha = 0 and clip 1 is RTN,
// so AWQ never does worse than RTN on that objective.
// Work split: each candidate is rounded on the CPU (row-parallel on `threads`), and its errors
// are computed here (BLAS; the reference) or, with `device`, there (DeviceBackend::row_errors),
// the total then being the sum of the row errors.
struct AwqOptions {
    int alpha_grid = 10;
    int clip_steps = 6;
    float clip_min = 0.55f;
    unsigned threads = 1;             // rounding and decoding threads (0 = all cores); same tensor for any count
    DeviceBackend* device = nullptr;  // --device cuda: the candidate errors there; null: here
};
struct AwqResult {
    QuantizedTensor tensor;
    float alpha = 0;
    double error = 0;      // tr((W-Q) G (W-Q)^T) at the choice
    double rtn_error = 0;  // the same for plain RTN
};
AwqResult quantize_awq(const model::Matrix& w, const model::Matrix& gram, std::span<const float> act_abs_mean,
                       const QuantSpec& spec, const AwqOptions& options = {});

// Sensitivity-weighted k-means (SqueezeLLM, Kim et al. 2024): per output row, a non-uniform
// codebook of 2^bits FP16 centroids minimizing sum_j s_rj (w_rj - c)^2 by weighted Lloyd
// iterations from quantile initialization. Sensitivity: the Fisher diagonal (same shape as w)
// when given, else the Hessian diagonal per input channel (Gram diagonal), else 1.
// Dense-and-sparse: the `sparse_fraction` of weights with the largest |w| is kept exactly in
// FP16 (CSR) and left out of the clustering.
struct KmeansOptions {
    int bits = 4;
    float sparse_fraction = 0.0f;  // e.g. 0.0045 (SqueezeLLM's 0.45 %)
    int iterations = 25;
};
QuantizedTensor quantize_kmeans(const model::Matrix& w, const model::Matrix* fisher, std::span<const float> hessian_diag,
                                const KmeansOptions& options = {});
// The k-means objective: sum over weights of sensitivity * (w - q)^2.
double weighted_error(const model::Matrix& w, const model::Matrix& q, const model::Matrix* fisher,
                      std::span<const float> hessian_diag);

// SmoothQuant (Xiao et al. 2023): s_j = max|X_j|^alpha / max_i |W_ij|^(1-alpha) over all the
// weights that read input j. Dividing the activation by s and multiplying W's column j by s
// leaves W x unchanged and moves outliers from activations into weights.
std::vector<float> smoothing_factors(std::span<const float> act_abs_max, std::span<const model::Matrix* const> weights,
                                     float alpha);
// W[:, j] *= s_j.
void scale_columns(model::Matrix& w, std::span<const float> s);

}  // namespace halo::quant
