// The boundary between halo and the CUDA backend inside the loadable module libhalo_cuda.so
// (timing/cuda_module.hpp): halo links neither the CUDA runtime nor cuBLAS/cuSOLVER; the host
// side (cuda_model.cpp, cuda_calibration.cpp, cuda_gptq.cpp) reads models, computes the RoPE
// tables and runs everything that is not dense device work, and drives the engines the module
// creates. Only plain data crosses (model::Matrix, LayerWeights, spans); both sides are built
// from this tree by one toolchain, and `abi` guards against a stale module. Errors cross as
// halo::Error (the module links halo_util).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "halo/cuda/act_row_quant.hpp"
#include "halo/model/weights.hpp"

namespace halo::cuda {

constexpr int kCudaBackendAbi = 6;  // 6: FisherEngine's LM-head entries; 5: ForwardEngine::get_hidden; 4: ActivationQuant carries act_row_quant.hpp's formats and +attn

struct DeviceInfo {
    int index = 0;
    std::string name;
    std::size_t total_bytes = 0, free_bytes = 0;
};

// Statistics of one distinct linear input over all calibration rows: X^T X (symmetric, mirrored
// on the device), per-channel sum |x| and max |x|.
struct InputStats {
    model::Matrix gram;           // [in x in] when asked
    std::vector<double> abs_sum;  // [in] when asked
    std::vector<float> abs_max;   // [in] when asked
    std::int64_t rows = 0;
};
// The four distinct inputs of a block's seven linears.
enum class BlockInput : std::uint8_t { attn_norm_out, attn_out, ffn_norm_out, ffn_act };
constexpr std::size_t kBlockInputs = 4;

// Activation quantization inside the forward (`--act-format` on the GPU): the inputs of the
// seven linears are quantized and dequantized per token (row) before their GEMM, as the CPU
// forward's ForwardHooks::linear_input do. int8_per_token: model/activation_quant.cpp's fast
// path (scale max|x|/127, x * (127/max|x|) rounded half to even, clamped to +-127). int_symmetric:
// quant::quantize_activation_rows for a signed integer row of the format table with FP16 scales
// (per group: s = fp16(max|x| / (2^(bits-1) - 1)), code = rint(clamp(x / s, -2^(bits-1),
// 2^(bits-1) - 1)), x = s * code). row_format: any other operand (act_row_quant.hpp; the table of
// act_row_format.hpp says which row runs what). `attention` ("+attn"): Q and K after RoPE, P
// after the softmax and V (grouped along tokens) go through `attention_format` too, as the CPU's
// attn_q/attn_k/attn_p/attn_v hooks.
struct ActivationQuant {
    enum class Kind : std::uint8_t { none, int8_per_token, int_symmetric, row_format };
    Kind kind = Kind::none;
    int bits = 8;            // int_symmetric
    std::int64_t group = 0;  // int_symmetric: columns per scale group; 0 = the whole row
    ActRowFormat format;     // row_format
    bool attention = false;
    ActRowFormat attention_format;
};
// Where ForwardEngine::quantize_activations applies which operand (the kernels' test).
enum class ActivationUse : std::uint8_t {
    linear,             // the linears' quantizer on rows
    attention_rows,     // the attention operand on rows (Q, K, P)
    attention_columns,  // the attention operand on columns: groups run down a column (V)
};

// A decoder (or one block of it) resident on one GPU, FP32 weights; cuBLAS for the linears and
// the attention products, small kernels for the rest (cuda_kernels.hpp).
class ForwardEngine {
public:
    virtual ~ForwardEngine() = default;
    // cos/sin [max_tokens x head_dim/2], what model::RopeTable computes.
    virtual void upload_rope(const std::vector<float>& cos, const std::vector<float>& sin) = 0;
    virtual void upload_embedding(const model::Matrix& table) = 0;
    // `lm_head` null: tied to the embedding.
    virtual void upload_head(const std::vector<float>& output_norm, const model::Matrix* lm_head) = 0;
    // Uploads block weights into slot `slot` (< the engine's slots), replacing what was there.
    virtual void upload_block(int slot, const model::LayerWeights& weights) = 0;

    // The whole model (slots 0.. in order, then the head): logits of rows >= first_row into
    // host `out` [(S - first_row) x vocab].
    virtual void logits(std::span<const std::int32_t> tokens, std::int64_t first_row, float* out) = 0;
    // NLL of tokens[t] from the logits at row t - 1, t in [first_target, end_target).
    virtual void next_token_nll(std::span<const std::int32_t> tokens, std::int64_t first_target, std::int64_t end_target,
                                double* out) = 0;

    // Calibration: the residual streams of many sequences kept on the device.
    virtual void reserve_hidden(std::span<const std::int64_t> rows_per_sequence) = 0;
    virtual void set_hidden(std::size_t sequence, const float* rows) = 0;  // [rows x d_model] from the host
    // Runs block `slot` over every sequence without moving the streams; statistics of the four inputs.
    virtual std::vector<InputStats> block_statistics(int slot, bool gram, bool channel_stats) = 0;
    // Runs block `slot` over every sequence, moving the streams to the next block's input.
    virtual void block_advance(int slot) = 0;

    virtual std::size_t device_bytes() const = 0;
    virtual std::size_t peak_device_bytes() const = 0;

    // Appended in ABI 3. The forward's activation quantizer (none by default); calibration
    // statistics are taken before it.
    virtual void set_activation_quant(const ActivationQuant& quant) = 0;
    // That quantizer alone on a host matrix [rows x cols] in place (the kernels' test against the CPU).
    virtual void quantize_activations(float* data, std::int64_t rows, std::int64_t cols, ActivationUse use) = 0;

    // Appended in ABI 5. Sequence `sequence`'s residual stream as the blocks so far left it,
    // [rows x d_model] to the host (the LM head's calibration input: CudaCalibration::capture_head).
    virtual void get_hidden(std::size_t sequence, float* rows) const = 0;
};

// GPTQ's dense algebra on the GPU (cuda_gptq.hpp runs the algorithm on the host around it).
class GptqEngine {
public:
    virtual ~GptqEngine() = default;
    // U with H^-1 = U^T U, row-major upper (quant/gptq.cpp's inverse_hessian_factor) from the
    // damped H [n x n] via cuSOLVER (potrf, potri, potrf); kept on the device and returned.
    // E6004 when H is not positive definite.
    virtual std::vector<float> inverse_hessian_factor(const std::vector<float>& h, std::int64_t n) = 0;
    virtual void upload_weights(const model::Matrix& w) = 0;
    // Columns [c0, c1) of the device W into host `rows x ld` storage at column c0.
    virtual void download_columns(std::int64_t c0, std::int64_t c1, float* host, std::int64_t ld) = 0;
    // W[:, i2:] -= Err U[i1:i2, i2:], Err [rows x (i2 - i1)] from the host.
    virtual void lazy_update(const float* err, std::int64_t i1, std::int64_t i2) = 0;
    // tr(D G D^T) for D = W - Q [rows x cols] and the Gram G [cols x cols], both from the host
    // (quant::output_error: one strict-FP32 SGEMM, then sum D .* (D G) in double).
    virtual double output_error(const float* d, std::int64_t rows, std::int64_t cols, const float* gram) = 0;
};

// The backward pass of model/backward.cpp on the GPU, for the Fisher diagonal: every block
// resident (FP32), one sequence at a time. The forward keeps only each block's input; the
// backward recomputes a block's activations from it before going through it (one block's
// activations on the device at a time, at the cost of a second forward). The gradients of the
// seven linears of every block, and of the LM head where the engine was made with
// `head_gradient`, are summed into device accumulators of the weights' shapes.
class FisherEngine {
public:
    virtual ~FisherEngine() = default;
    // cos/sin [max_tokens x head_dim/2], what model::RopeTable computes.
    virtual void upload_rope(const std::vector<float>& cos, const std::vector<float>& sin) = 0;
    virtual void upload_embedding(const model::Matrix& table) = 0;
    // `lm_head` null: tied to the embedding.
    virtual void upload_head(const std::vector<float>& output_norm, const model::Matrix* lm_head) = 0;
    // Block `layer`'s weights (every layer < the config's n_layers, once each); its accumulators
    // are allocated and zeroed here.
    virtual void upload_block(int layer, const model::LayerWeights& weights) = 0;
    // One sequence (2..max_tokens ids, checked by the host): accum += scale * g^2 (`squared`)
    // or scale * g (the gradient itself) for g = dLoss/dW of every linear, Loss = the mean
    // next-token cross-entropy. Returns Loss (nats).
    virtual double accumulate(std::span<const std::int32_t> tokens, float scale, bool squared) = 0;
    // The accumulator of (layer, kind) into host `out` (the weight's size).
    virtual void download(int layer, model::LinearKind kind, float* out) = 0;
    // The LM head's accumulator [vocab x d_model] into host `out` (the head GEMM's weight: the
    // embedding table where the head is tied); only for an engine made with `head_gradient`.
    virtual void download_head(float* out) = 0;
    virtual std::size_t peak_device_bytes() const = 0;
};

// HALO's tile fitting (hwq/tile_fit.hpp) on the GPU, for cuda_tile_fit.hpp. A batch is a weight
// matrix on the host, the distinct tiles to histogram and the (tile, level) jobs to fit; one
// kernel builds each tile's 1024-bin histogram, a second fits every job on its tile's
// histogram. Built with --fmad=false and summing in the CPU's order, so every result equals
// hwq::fit_tile bit for bit.
struct TileFitLevel {
    std::vector<std::int32_t> allowed;   // ascending, at most kTileFitMaxCodes
    std::vector<double> energy_fj;       // by index into allowed, or empty
    std::int32_t max_codes = 0;
    double energy_weight = 0;
    std::int32_t zero_min = -128, zero_max = 127;
};
constexpr int kTileFitMaxCodes = 256;
struct TileFitBatch {
    const float* w = nullptr;                // host, row-major [rows x cols]
    const std::uint8_t* mask = nullptr;      // host, same shape: 1 = dense (fitted), 0 = sparse
    std::int64_t rows = 0, cols = 0, tile_rows = 0, tile_cols = 0;
    std::vector<std::int64_t> tiles;         // distinct tile indices (row-major in the grid)
    std::vector<std::int32_t> job_tile;      // per job: index into tiles
    std::vector<std::int32_t> job_level;     // per job: index into levels
    std::vector<TileFitLevel> levels;
};
struct TileFitResults {  // per job; codes [jobs x kTileFitMaxCodes], the first n_codes used
    std::vector<std::int32_t> codes, n_codes, zero;
    std::vector<float> scale;
    std::vector<double> sse, count, energy_fj;
};
class TileFitEngine {
public:
    virtual ~TileFitEngine() = default;
    // E8140: a tile or a level the kernels cannot hold (tile over kTileFitMaxTileWeights
    // weights, more than kTileFitMaxCodes codes in a level).
    virtual TileFitResults fit(const TileFitBatch& batch) = 0;
    virtual std::size_t peak_device_bytes() const = 0;
};
constexpr std::int64_t kTileFitMaxTileWeights = 65536;  // the histogram kernel's bin indices live in shared memory

// AWQ's candidate errors (quant::DeviceBackend::row_errors): W [rows x cols] and its Gram G
// [cols x cols] resident, then per candidate decode Q from the host out[r] = ((W-Q) G (W-Q)^T)_rr,
// one strict-FP32 SGEMM and the row sums in double (quant/awq.cpp's row_errors).
class RowErrorEngine {
public:
    virtual ~RowErrorEngine() = default;
    virtual void upload(const float* w, std::int64_t rows, std::int64_t cols, const float* gram) = 0;
    virtual void row_errors(const float* q, double* out) = 0;  // q [rows x cols], out [rows]
    virtual void release() = 0;                                // frees W, G and the work buffers
    virtual std::size_t peak_device_bytes() const = 0;         // device memory in use, highest seen after an upload
};

struct CudaBackendApi {
    int abi = 0;
    // E8101 no usable driver or GPU, E8108 no device `index`.
    DeviceInfo (*open_device)(int index) = nullptr;
    // `slots`: blocks resident at once; `max_tokens`: the longest sequence; `tf32`: TF32 tensor
    // cores for the FP32 GEMMs (else strict FP32). E8102 when the work buffers do not fit.
    ForwardEngine* (*make_forward)(int device, const model::ModelConfig& config, int slots, std::int64_t max_tokens,
                                   bool tf32) = nullptr;
    GptqEngine* (*make_gptq)(int device) = nullptr;
    // `max_tokens`: the longest sequence accumulate() will see; `head_gradient`: the LM head's
    // accumulator too (vocab x d_model floats more). E8102 when the accumulators or work buffers
    // do not fit.
    FisherEngine* (*make_fisher)(int device, const model::ModelConfig& config, std::int64_t max_tokens, bool tf32,
                                 bool head_gradient) = nullptr;

    TileFitEngine* (*make_tile_fit)(int device) = nullptr;  // abi 3
    RowErrorEngine* (*make_row_error)(int device) = nullptr;  // abi 3 (AWQ's search)
};

}  // namespace halo::cuda

extern "C" const halo::cuda::CudaBackendApi* halo_cuda_backend_api();
