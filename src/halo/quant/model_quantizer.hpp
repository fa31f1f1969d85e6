// Quantizing a whole model, block by block: the method table (one row per quantizer: what
// calibration it needs, what it does) and the streaming driver
//   for each block l: stats = calibration.capture(l) -> quantize block l's seven linears
//                     (the weights are replaced by their decoded values) -> calibration.advance(l)
// so later blocks see the already-quantized earlier ones (GPTQ's sequential mode), and memory
// stays one block's hidden states plus one block's Gram matrices.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/model/calibration.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/methods.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/progress.hpp"

namespace halo::quant {

enum class Method : std::uint8_t { rtn, gptq, awq, kmeans, smoothquant };

struct MethodTraits {
    Method id;
    std::string_view name;
    bool needs_gram;           // X^T X of each linear's input
    bool needs_channel_stats;  // per input channel mean|x| / max|x|
    bool error_feedback;       // rounds column by column against a changing target (formats must allow it)
    std::string_view activation_format;  // "" = FP activations; "int8_per_token" for SmoothQuant
    std::string_view summary;
};
std::span<const MethodTraits> methods();
// Unknown name: bad input E6007 listing the methods.
const MethodTraits& method(std::string_view name);

struct QuantizeOptions {
    Method method = Method::rtn;
    std::string format = "int4";
    Granularity granularity = Granularity::per_channel();
    std::optional<ScaleFormat> scale;
    Codebook codebook;         // for the codebook formats
    GptqOptions gptq;
    AwqOptions awq;
    KmeansOptions kmeans;      // bits taken from the format's element bits
    bool kmeans_fisher = false;  // sensitivity: Fisher diagonal (needs samples) or Hessian diagonal
    float smooth_alpha = 0.5f;
    unsigned threads = 1;
    ProgressSink progress;     // one update per linear ("layer 3/30")
};

// Streams statistics block by block (model::LayerwiseCalibration in practice; a stub in tests).
class CalibrationSource {
public:
    virtual ~CalibrationSource() = default;
    virtual std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest& request) = 0;
    virtual void advance(int layer) = 0;
    virtual std::int64_t tokens() const = 0;
};

class LayerwiseSource final : public CalibrationSource {
public:
    LayerwiseSource(const model::ModelWeights& weights, std::vector<std::vector<std::int32_t>> samples, unsigned threads);
    std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest& request) override;
    void advance(int layer) override { cal_.advance(layer); }
    std::int64_t tokens() const override { return tokens_; }

private:
    model::LayerwiseCalibration cal_;
    std::int64_t tokens_ = 0;
};

struct LinearRecord {
    int layer = 0;
    model::LinearKind kind = model::LinearKind::attn_q;
    QuantizedTensor tensor;
    double seconds = 0;
    double output_error = -1;  // tr((W-Q) G (W-Q)^T) when a Gram was captured, else -1
    float awq_alpha = -1;
};

// A float vector of the model that quantization changed (SmoothQuant's RMSNorm weights).
struct ModifiedVector {
    int layer = 0;
    std::string name;  // "attn_norm", "ffn_norm"
    std::vector<float> values;
};

struct QuantizedModel {
    std::string method;
    std::string spec;              // QuantSpec::describe()
    std::string activation_format;
    std::vector<LinearRecord> linears;
    std::vector<ModifiedVector> vectors;
    BitAccount bits;               // summed over all linears
    double seconds = 0;
};

// Quantizes every linear of `weights` in place (decoded values) and returns the codes.
// `calibration` may be null for RTN (and k-means with no sensitivity); a method that needs
// statistics without one is bad input E6008. `fisher` (optional) gives k-means its sensitivity.
QuantizedModel quantize_model(model::ModelWeights& weights, const QuantizeOptions& options,
                              CalibrationSource* calibration,
                              const std::vector<std::array<model::Matrix, 7>>* fisher = nullptr);

// Cuts a token stream into `samples` windows of `seq_len` tokens, evenly spread. Too few tokens
// is bad input E6008 (names the text, tokens found and needed).
std::vector<std::vector<std::int32_t>> calibration_samples(std::span<const std::int32_t> tokens, int samples, int seq_len,
                                                           const std::string& text_name);

}  // namespace halo::quant
