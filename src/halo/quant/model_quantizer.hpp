// Quantizing a whole model, block by block: the method table (one row per quantizer: what
// calibration it needs, what it does) and the streaming driver
//   for each block l: stats = calibration.capture(l) -> quantize block l's seven linears
//                     (the weights are replaced by their decoded values) -> calibration.advance(l)
// so later blocks see the already-quantized earlier ones (GPTQ's sequential mode), and memory
// stays one block's hidden states plus one block's Gram matrices.
#pragma once

#include <any>
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
#include "halo/quant/phase_seconds.hpp"
#include "halo/quant/methods.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/progress.hpp"

namespace halo::quant {

enum class Method : std::uint8_t { rtn, gptq, awq, kmeans, smoothquant, halo };

struct QuantizeOptions;
struct LinearRecord;

// One linear's weight and its calibration statistics: what a method's per-layer entry point
// quantizes. Block-streaming drivers (quantize_model here, HALO's, a streaming one) build it.
struct LayerInput {
    const model::Matrix& weight;
    const model::LinearInputStats& stats;  // gram / channel stats as the row's needs ask (empty otherwise)
    const model::Matrix* fisher = nullptr; // this weight's Fisher diagonal, when the run computed one
    std::int64_t tokens = 0;               // calibration tokens behind the stats
    int layer = 0;
    model::LinearKind kind = model::LinearKind::attn_q;
};
// The run's settings a per-layer entry point reads: the quant options and spec (uniform-grid
// methods) or the method's own state across layers (HALO: its ladder, options and codebook
// registry; std::any so quant need not know HALO's types).
struct MethodSettings {
    const QuantizeOptions* options = nullptr;
    const QuantSpec* spec = nullptr;
    std::any* state = nullptr;
};
// Quantizes one layer: the tensor plus per-method extras (AWQ's alpha); does not decode or
// replace the weight (the driver does).
using LayerQuantizer = LinearRecord (*)(const LayerInput& layer, const MethodSettings& settings);

// A row of the method table. Rows are registered explicitly at program start
// (register_quant_methods here, the HALO row from its module; jobs::register_methods calls both),
// never by static initialisers.
struct MethodTraits {
    Method id;
    std::string_view name;
    bool needs_gram;           // X^T X of each linear's input
    bool needs_channel_stats;  // per input channel mean|x| / max|x|
    bool error_feedback;       // rounds column by column against a changing target (formats must allow it)
    std::string_view activation_format;  // "" = FP activations; "int8_per_token" for SmoothQuant and HALO
    std::string_view summary;
    bool needs_samples;        // reads a calibration text (a method may also take it optionally)
    bool may_use_gradients;    // can ask for the Fisher diagonal (--sensitivity fisher): backward passes
    bool needs_profile;        // a MAC profile (HALO's ladder); characterized when none is given
    std::span<const std::string_view> flags;  // the method-specific `halo quantize` flags it accepts
    LayerQuantizer quantize_layer;            // the per-layer entry point
};
// quant's own rows (RTN, GPTQ, AWQ, k-means, SmoothQuant), in Method order.
std::span<const MethodTraits> methods();
// Unknown name among quant's own rows: bad input E6007 listing them.
const MethodTraits& method(std::string_view name);
// Every method-specific flag any row may name (a flag not in this list applies to all methods).
std::span<const std::string_view> method_specific_flags();

// The table the program uses: quant's rows plus the rows other modules add (HALO).
class MethodRegistry {
public:
    void add(const MethodTraits& row);  // a second row of the same name is an internal error E6033
    std::span<const MethodTraits> rows() const { return rows_; }
    // Unknown name: bad input E6007 listing every registered method.
    const MethodTraits& find(std::string_view name) const;
    std::string names() const;  // "rtn, gptq, ..., halo"

private:
    std::vector<MethodTraits> rows_;
};
void register_quant_methods(MethodRegistry& registry);

// Which hidden states calibrate block l. sequential (the default, GPTQ's reference): the outputs
// of blocks 0..l-1 as already quantized, so each block corrects the error of the ones before.
// unquantized: the unquantized model's hidden states for every block (each block's statistics
// are then independent of how the earlier blocks were rounded: two devices calibrate every
// block on the same inputs up to float summation order).
enum class CalibrationInputs : std::uint8_t { sequential, unquantized };
struct CalibrationInputsTraits {
    CalibrationInputs id;
    std::string_view name;     // as --calib-inputs takes it
    std::string_view summary;  // for --help
};
std::span<const CalibrationInputsTraits> calibration_inputs_modes();
const CalibrationInputsTraits& calibration_inputs(std::string_view name);  // E6195 otherwise

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
    DeviceBackend* device = nullptr;        // --device cuda: calibration and GPTQ there (device_backend.hpp)
    CalibrationInputs calib_inputs = CalibrationInputs::sequential;
    PhaseSeconds* phases = nullptr;         // time by phase added here when set (phase_seconds.hpp)
    // The LM head (a tied model's embedding table as head) quantized too, after the last block,
    // with the method's own per-layer entry point and format, from the statistics of its input
    // (CalibrationSource::capture_head); its decoded weights become weights.output. What `halo
    // run --quantize-head` gives the baseline rows, so they are compared with HALO's quantized
    // head on equal terms (its rows are RTN and GPTQ). SmoothQuant does not smooth the head's
    // input (the final norm); k-means builds per-row codebooks as for any linear.
    bool quantize_head = false;
};

// Streams statistics block by block (model::LayerwiseCalibration in practice; a stub in tests).
class CalibrationSource {
public:
    virtual ~CalibrationSource() = default;
    virtual std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest& request) = 0;
    virtual void advance(int layer) = 0;
    virtual std::int64_t tokens() const = 0;
    // After capture() of a MoE block: each expert's statistics from its routed tokens
    // ([n_experts]); empty for a dense block or a source without experts.
    virtual std::vector<model::ExpertInputStats> take_expert_stats() { return {}; }
    // After the last block's advance(): the LM head's input statistics (HALO --quantize-head).
    // A source that cannot give them (the CUDA calibration) refuses with usage error E6051.
    virtual model::LinearInputStats capture_head(const model::StatsRequest& request);
};

class LayerwiseSource final : public CalibrationSource {
public:
    // `hooks` (optional, must outlive the source): the activation quantization the evaluation
    // applies (A8: every linear's input INT8 per token); the statistics then describe the inputs
    // as the quantized model will see them, and the hidden states advance through the hooks too.
    LayerwiseSource(const model::ModelWeights& weights, std::vector<std::vector<std::int32_t>> samples, unsigned threads,
                    const model::ForwardHooks* hooks = nullptr);
    std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest& request) override;
    void advance(int layer) override { cal_.advance(layer); }
    std::int64_t tokens() const override { return tokens_; }
    std::vector<model::ExpertInputStats> take_expert_stats() override { return cal_.take_expert_stats(); }
    model::LinearInputStats capture_head(const model::StatsRequest& request) override { return cal_.capture_head(request); }

private:
    model::LayerwiseCalibration cal_;
    std::int64_t tokens_ = 0;
};

struct LinearRecord {
    int layer = 0;
    model::LinearKind kind = model::LinearKind::attn_q;
    int expert = -1;           // the MoE expert whose gate/up/down this is; -1 for the block's own linears
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

// Calibration tokens the router sent to each expert of one MoE block ([n_experts]).
struct ExpertTokens {
    int layer = 0;
    std::vector<std::int64_t> tokens;
};

// A quantized LM head (HALO --quantize-head): the [vocab x d_model] head, also when the model
// ties it to the token embedding (`tied`: the embedding lookup keeps its FP32 table, only the
// head GEMM uses these codes). Written as DIR/output.hqt with the manifest entry "head".
struct HeadRecord {
    QuantizedTensor tensor;
    bool tied = false;
    double seconds = 0;
    double output_error = -1;  // tr((W-Q) G (W-Q)^T) over the head's calibration input, else -1
};

struct QuantizedModel {
    std::string method;
    std::string spec;              // QuantSpec::describe()
    std::string activation_format;
    std::vector<LinearRecord> linears;
    std::vector<ModifiedVector> vectors;
    BitAccount bits;               // summed over all linears
    std::vector<ExpertTokens> expert_tokens;  // MoE blocks calibrated (expert_quantizer.hpp)
    std::optional<HeadRecord> head;           // the LM head, when the method quantized it (not in `bits`)
    double seconds = 0;
};

// Quantizes every linear of `weights` in place (decoded values) and returns the codes.
// `calibration` may be null for RTN (and k-means with no sensitivity); a method that needs
// statistics without one is bad input E6008. `fisher` (optional) gives k-means its sensitivity
// (the experts' entries to the experts).
QuantizedModel quantize_model(model::ModelWeights& weights, const QuantizeOptions& options,
                              CalibrationSource* calibration, const model::FisherDiagonal* fisher = nullptr);

// Cuts a token stream into `samples` windows of `seq_len` tokens: seed 0 spreads them evenly
// (non-overlapping when the text is long enough); another seed draws each window's start
// uniformly (std::mt19937_64 seeded with it, so a seed names one set of windows on every
// platform's libstdc++). Too few tokens is bad input E6008 (names the text, tokens found and needed).
std::vector<std::vector<std::int32_t>> calibration_samples(std::span<const std::int32_t> tokens, int samples, int seq_len,
                                                           const std::string& text_name, std::uint64_t seed = 0);

}  // namespace halo::quant
