// Inside libhalo_cuda.so: the ForwardEngine of cuda_backend_api.hpp. One block's forward is
// run_block (cuBLAS SGEMM for the seven linears and, per KV group, strided-batched attention
// products; cuda_kernels for the rest); the whole-model forward runs every slot then the head,
// calibration runs one slot over every stored sequence and feeds the four distinct linear
// inputs to cuBLAS SYRK (X^T X) and the channel-statistics kernel.
#include <array>
#include <cmath>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/cuda/module/act_row_kernel.hpp"
#include "halo/cuda/module/cuda_kernels.hpp"
#include "halo/cuda/module/device_memory.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

constexpr const char* kLowerWeights = "use a GPU with more memory, or --device cpu --stream";
constexpr const char* kLowerTokens = "lower --ctx or --seq-len (work buffers grow with the sequence), or use --device cpu";
constexpr const char* kLowerHidden = "lower --samples or --seq-len (every calibration hidden state stays on the GPU)";

struct Block {
    DeviceBuffer attn_norm, ffn_norm;
    std::array<DeviceBuffer, 7> linear;
};

void upload_to(DeviceBuffer& b, const float* data, std::size_t floats, cudaStream_t s, const char* what) {
    b.allocate(floats * sizeof(float), what, kLowerWeights);
    check(cudaMemcpyAsync(b.f(), data, floats * sizeof(float), cudaMemcpyHostToDevice, s), "upload");
}

// Accumulates the statistics of the four block inputs on the device.
struct StatsCollector {
    bool gram = false, channel = false;
    std::array<DeviceBuffer, kBlockInputs> grams, sums, maxima;
    std::array<std::int64_t, kBlockInputs> cols{}, rows{};
};

class Engine final : public ForwardEngine {
public:
    Engine(int device, const model::ModelConfig& config, int slots, std::int64_t max_tokens, bool tf32)
        : config_(config), max_tokens_(max_tokens), blocks_(static_cast<std::size_t>(slots)) {
        check(cudaSetDevice(device), "cudaSetDevice");
        check(cublasCreate(&blas_), "cublasCreate");
        check(cudaStreamCreate(&stream_), "cudaStreamCreate");
        check(cublasSetStream(blas_, stream_), "cublasSetStream");
        check(cublasSetMathMode(blas_, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
        // Work buffers first: an OOM here names the sequence length before minutes of uploads.
        const auto& c = config_;
        const std::int64_t S = max_tokens, D = c.d_model, dq = c.n_heads * c.head_dim, dkv = c.n_kv_heads * c.head_dim;
        const std::int64_t G = c.n_heads / c.n_kv_heads;
        const auto f = [](std::int64_t n) { return static_cast<std::size_t>(n) * sizeof(float); };
        x_.allocate(f(S * D), "the hidden states", kLowerTokens);
        h_.allocate(f(S * D), "the normed hidden states", kLowerTokens);
        q_.allocate(f(S * dq), "Q", kLowerTokens);
        k_.allocate(f(S * dkv), "K", kLowerTokens);
        v_.allocate(f(S * dkv), "V", kLowerTokens);
        attn_.allocate(f(S * dq), "the attention output", kLowerTokens);
        gate_.allocate(f(S * c.d_ff), "the FFN gate", kLowerTokens);
        up_.allocate(f(S * c.d_ff), "the FFN up projection", kLowerTokens);
        scores_.allocate(f(G * S * S), "the attention scores", kLowerTokens);
        tokens_.allocate(static_cast<std::size_t>(S) * sizeof(std::int32_t), "the token ids", kLowerTokens);
        note_usage();
    }
    ~Engine() override {
        if (blas_) cublasDestroy(blas_);
        if (stream_) cudaStreamDestroy(stream_);
    }

    void upload_rope(const std::vector<float>& cos, const std::vector<float>& sin) override {
        upload_to(rope_cos_, cos.data(), cos.size(), stream_, "the RoPE table");
        upload_to(rope_sin_, sin.data(), sin.size(), stream_, "the RoPE table");
        sync("upload");
    }
    void upload_embedding(const model::Matrix& table) override {
        upload_to(embedding_, table.data.data(), table.data.size(), stream_, "the token embedding");
        sync("upload");
    }
    void upload_head(const std::vector<float>& norm, const model::Matrix* lm_head) override {
        upload_to(output_norm_, norm.data(), norm.size(), stream_, "the final norm");
        if (lm_head) upload_to(lm_head_, lm_head->data.data(), lm_head->data.size(), stream_, "the LM head");
        const std::size_t rows = static_cast<std::size_t>(max_tokens_) * static_cast<std::size_t>(config_.vocab_size);
        logits_.allocate(rows * sizeof(float), "the logits", kLowerTokens);
        targets_.allocate(static_cast<std::size_t>(max_tokens_) * sizeof(std::int32_t), "the target ids", kLowerTokens);
        nll_.allocate(static_cast<std::size_t>(max_tokens_) * sizeof(double), "the NLLs", kLowerTokens);
        sync("upload");
    }
    void upload_block(int slot, const model::LayerWeights& w) override {
        Block& b = blocks_.at(static_cast<std::size_t>(slot));
        upload_to(b.attn_norm, w.attn_norm.data(), w.attn_norm.size(), stream_, "a norm");
        upload_to(b.ffn_norm, w.ffn_norm.data(), w.ffn_norm.size(), stream_, "a norm");
        for (std::size_t k = 0; k < 7; ++k)
            upload_to(b.linear[k], w.linear[k].data.data(), w.linear[k].data.size(), stream_, "a block's weights");
        sync("upload");  // the host may free or overwrite `w` now
    }

    void logits(std::span<const std::int32_t> tokens, std::int64_t first_row, float* out) override {
        const auto S = static_cast<std::int64_t>(tokens.size());
        const std::int64_t from = forward(tokens, first_row);
        if (from < S)
            check(cudaMemcpyAsync(out, logits_.f(), static_cast<std::size_t>((S - from) * config_.vocab_size) * sizeof(float),
                                  cudaMemcpyDeviceToHost, stream_),
                  "logits");
        sync("forward");
    }
    void next_token_nll(std::span<const std::int32_t> tokens, std::int64_t first_target, std::int64_t end_target,
                        double* out) override {
        const std::int64_t n = end_target - first_target;
        if (n <= 0) return;
        forward(tokens, first_target - 1);  // device logits row i = position first_target - 1 + i
        check(cudaMemcpyAsync(targets_.i(), tokens.data() + first_target, static_cast<std::size_t>(n) * sizeof(std::int32_t),
                              cudaMemcpyHostToDevice, stream_),
              "targets");
        row_nll(logits_.f(), n, config_.vocab_size, targets_.i(), nll_.d(), stream_);
        check(cudaMemcpyAsync(out, nll_.d(), static_cast<std::size_t>(n) * sizeof(double), cudaMemcpyDeviceToHost, stream_), "nll");
        sync("forward");
    }

    void reserve_hidden(std::span<const std::int64_t> rows) override {
        offsets_.assign(1, 0);
        for (auto r : rows) {
            if (r < 1 || r > max_tokens_)
                throw_internal("E8113", fmt::format("calibration sequence of {} rows outside 1..{}", r, max_tokens_));
            offsets_.push_back(offsets_.back() + r);
        }
        hidden_.allocate(static_cast<std::size_t>(offsets_.back() * config_.d_model) * sizeof(float),
                         "the calibration hidden states", kLowerHidden);
        note_usage();
    }
    void set_hidden(std::size_t i, const float* rows) override {
        check(cudaMemcpy(hidden_.f() + offsets_.at(i) * config_.d_model, rows, sequence_bytes(i), cudaMemcpyHostToDevice),
              "hidden states");
    }
    void get_hidden(std::size_t i, float* rows) const override {
        check(cudaMemcpy(rows, hidden_.f() + offsets_.at(i) * config_.d_model, sequence_bytes(i), cudaMemcpyDeviceToHost),
              "hidden states");
    }
    std::vector<InputStats> block_statistics(int slot, bool gram, bool channel) override {
        StatsCollector col;
        col.gram = gram;
        col.channel = channel;
        const Block& b = blocks_.at(static_cast<std::size_t>(slot));
        const std::size_t D = static_cast<std::size_t>(config_.d_model);
        for (std::size_t i = 0; i + 1 < offsets_.size(); ++i) {
            const std::int64_t S = offsets_[i + 1] - offsets_[i];
            check(cudaMemcpyAsync(x_.f(), hidden_.f() + offsets_[i] * config_.d_model, static_cast<std::size_t>(S) * D * sizeof(float),
                                  cudaMemcpyDeviceToDevice, stream_),
                  "hidden copy");
            run_block(b, x_.f(), S, &col);  // on a copy: capture does not move the streams
        }
        std::vector<InputStats> out(kBlockInputs);
        for (std::size_t k = 0; k < kBlockInputs; ++k) {
            const std::int64_t n = col.cols[k];
            out[k].rows = col.rows[k];
            if (gram) {
                mirror_lower(col.grams[k].f(), n, stream_);  // symmetric on the device: no host pass over n^2
                out[k].gram = model::Matrix(n, n);
                check(cudaMemcpyAsync(out[k].gram.data.data(), col.grams[k].f(), col.grams[k].bytes(), cudaMemcpyDeviceToHost,
                                      stream_),
                      "gram");
            }
            if (channel) {
                out[k].abs_sum.resize(static_cast<std::size_t>(n));
                out[k].abs_max.resize(static_cast<std::size_t>(n));
                check(cudaMemcpyAsync(out[k].abs_sum.data(), col.sums[k].d(), col.sums[k].bytes(), cudaMemcpyDeviceToHost, stream_),
                      "channel sums");
                check(cudaMemcpyAsync(out[k].abs_max.data(), col.maxima[k].f(), col.maxima[k].bytes(), cudaMemcpyDeviceToHost,
                                      stream_),
                      "channel maxima");
            }
        }
        sync("block statistics");
        return out;
    }
    void block_advance(int slot) override {
        const Block& b = blocks_.at(static_cast<std::size_t>(slot));
        for (std::size_t i = 0; i + 1 < offsets_.size(); ++i)
            run_block(b, hidden_.f() + offsets_[i] * config_.d_model, offsets_[i + 1] - offsets_[i], nullptr);
        sync("block advance");
    }

    std::size_t device_bytes() const override {
        std::size_t b = 0;
        for (const auto* buf : {&x_, &h_, &q_, &k_, &v_, &attn_, &gate_, &up_, &scores_, &tokens_, &targets_, &nll_, &logits_,
                                &embedding_, &output_norm_, &lm_head_, &rope_cos_, &rope_sin_, &hidden_})
            b += buf->bytes();
        for (const auto& blk : blocks_) {
            b += blk.attn_norm.bytes() + blk.ffn_norm.bytes();
            for (const auto& l : blk.linear) b += l.bytes();
        }
        return b;
    }
    std::size_t peak_device_bytes() const override { return peak_used_; }

    void set_activation_quant(const ActivationQuant& q) override {
        if (q.kind == ActivationQuant::Kind::int_symmetric && (q.bits < 2 || q.bits > 16 || q.group < 0))
            throw_internal("E8152", fmt::format("activation quantizer of {} bits, group {}", q.bits, q.group));
        act_ = q;
    }
    void quantize_activations(float* host, std::int64_t rows, std::int64_t cols, ActivationUse use) override {
        DeviceBuffer buf(static_cast<std::size_t>(rows * cols) * sizeof(float), "the activations to quantize", kLowerTokens);
        check(cudaMemcpyAsync(buf.f(), host, buf.bytes(), cudaMemcpyHostToDevice, stream_), "upload");
        if (use == ActivationUse::linear) quantize_input(buf.f(), rows, cols);
        else if (use == ActivationUse::attention_rows) act_rows(buf.f(), rows, cols, cols, 1, act_.attention_format, stream_);
        else act_rows(buf.f(), cols, rows, 1, cols, act_.attention_format, stream_);  // column c: a row of `rows` values, stride cols
        check(cudaMemcpyAsync(host, buf.f(), buf.bytes(), cudaMemcpyDeviceToHost, stream_), "download");
        sync("activation quantization");
    }

private:
    // The forward's activation quantizer on one linear input [rows x cols] (the CPU's hooks).
    void quantize_input(float* x, std::int64_t rows, std::int64_t cols) {
        switch (act_.kind) {
            case ActivationQuant::Kind::none: return;
            case ActivationQuant::Kind::int8_per_token: return act_int8_per_token(x, rows, cols, stream_);
            case ActivationQuant::Kind::int_symmetric: return act_int_symmetric(x, rows, cols, act_.group, act_.bits, stream_);
            case ActivationQuant::Kind::row_format: return act_rows(x, rows, cols, cols, 1, act_.format, stream_);
        }
    }
    void note_usage() { peak_used_ = std::max(peak_used_, device_used_bytes()); }
    void sync(const char* what) {
        check(cudaStreamSynchronize(stream_), what);
        check(cudaGetLastError(), "kernels");
        note_usage();
    }
    std::size_t sequence_bytes(std::size_t i) const {
        return static_cast<std::size_t>((offsets_.at(i + 1) - offsets_.at(i)) * config_.d_model) * sizeof(float);
    }
    // Y[rows x out] = X[rows x in] W^T (+ beta Y), W [out x in] row-major.
    void linear(const float* x, std::int64_t rows, std::int64_t in, const float* w, std::int64_t out, float* y, float beta) {
        const float one = 1.0f;
        check(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(rows), static_cast<int>(in),
                          &one, w, static_cast<int>(in), x, static_cast<int>(in), &beta, y, static_cast<int>(out)),
              "sgemm");
    }
    void attention(std::int64_t S) {
        const auto& c = config_;
        const std::int64_t hd = c.head_dim, Hq = c.n_heads, Hkv = c.n_kv_heads, G = Hq / Hkv;
        const int ldq = static_cast<int>(Hq * hd), ldkv = static_cast<int>(Hkv * hd);
        const float one = 1.0f, zero = 0.0f;
        if (act_.attention) {  // model/attention.cpp's attn_q/attn_k/attn_v hooks: per head, groups along head_dim; V along tokens
            act_rows(q_.f(), S * Hq, hd, hd, 1, act_.attention_format, stream_);
            act_rows(k_.f(), S * Hkv, hd, hd, 1, act_.attention_format, stream_);
            act_rows(v_.f(), Hkv * hd, S, 1, ldkv, act_.attention_format, stream_);
        }
        for (std::int64_t g = 0; g < Hkv; ++g) {
            // scores_h[i][j] = Q_h[i] . K_g[j] for the G query heads h = g*G .. g*G+G-1
            check(cublasSgemmStridedBatched(blas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(S), static_cast<int>(S),
                                            static_cast<int>(hd), &one, k_.f() + g * hd, ldkv, 0, q_.f() + g * G * hd, ldq, hd,
                                            &zero, scores_.f(), static_cast<int>(S), S * S, static_cast<int>(G)),
                  "scores");
            causal_softmax(scores_.f(), G, S, static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))), stream_);
            // attn_p: each head's full [S x S] probabilities, zeros above the diagonal (causal_softmax writes them).
            if (act_.attention) act_rows(scores_.f(), G * S, S, S, 1, act_.attention_format, stream_);
            // out_h[i] = sum_j P_h[i][j] V_g[j]
            check(cublasSgemmStridedBatched(blas_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(hd), static_cast<int>(S),
                                            static_cast<int>(S), &one, v_.f() + g * hd, ldkv, 0, scores_.f(), static_cast<int>(S),
                                            S * S, &zero, attn_.f() + g * G * hd, ldq, hd, static_cast<int>(G)),
                  "attention values");
        }
    }
    // X^T X into the collector's gram (cuBLAS fills the column-major upper triangle: the
    // row-major lower one), and the channel statistics.
    void collect(StatsCollector& col, BlockInput which, const float* x, std::int64_t rows, std::int64_t cols) {
        const auto k = static_cast<std::size_t>(which);
        if (col.cols[k] == 0) {
            col.cols[k] = cols;
            const auto n = static_cast<std::size_t>(cols);
            if (col.gram) {
                col.grams[k].allocate(n * n * sizeof(float), "a calibration Gram matrix", kLowerWeights);
                check(cudaMemsetAsync(col.grams[k].f(), 0, col.grams[k].bytes(), stream_), "memset");
            }
            if (col.channel) {
                col.sums[k].allocate(n * sizeof(double), "channel statistics", kLowerWeights);
                col.maxima[k].allocate(n * sizeof(float), "channel statistics", kLowerWeights);
                check(cudaMemsetAsync(col.sums[k].d(), 0, col.sums[k].bytes(), stream_), "memset");
                check(cudaMemsetAsync(col.maxima[k].f(), 0, col.maxima[k].bytes(), stream_), "memset");
            }
        }
        if (col.gram) {
            const float one = 1.0f;
            check(cublasSsyrk(blas_, CUBLAS_FILL_MODE_UPPER, CUBLAS_OP_N, static_cast<int>(cols), static_cast<int>(rows), &one, x,
                              static_cast<int>(cols), &one, col.grams[k].f(), static_cast<int>(cols)),
                  "ssyrk");
        }
        if (col.channel) column_abs_stats(x, rows, cols, col.sums[k].d(), col.maxima[k].f(), stream_);
        col.rows[k] += rows;
    }
    // One decoder block on x [S x D] in place (model/forward_core's block_forward for a
    // Llama-family block).
    void run_block(const Block& b, float* x, std::int64_t S, StatsCollector* col) {
        const auto& c = config_;
        const std::int64_t D = c.d_model, dq = c.n_heads * c.head_dim, dkv = c.n_kv_heads * c.head_dim, F = c.d_ff;
        const bool plus_one = c.norm_weight_plus_one;
        const auto W = [&](model::LinearKind k) { return b.linear[static_cast<std::size_t>(k)].f(); };
        rms_norm(x, h_.f(), S, D, b.attn_norm.f(), plus_one, c.rms_norm_eps, stream_);
        if (col) collect(*col, BlockInput::attn_norm_out, h_.f(), S, D);
        // Q, K and V share one quantized input: the CPU quantizes a copy for each with the same
        // deterministic function, so one pass gives the same three inputs.
        quantize_input(h_.f(), S, D);
        linear(h_.f(), S, D, W(model::LinearKind::attn_q), dq, q_.f(), 0.0f);
        linear(h_.f(), S, D, W(model::LinearKind::attn_k), dkv, k_.f(), 0.0f);
        linear(h_.f(), S, D, W(model::LinearKind::attn_v), dkv, v_.f(), 0.0f);
        rope(q_.f(), S, c.n_heads, c.head_dim, rope_cos_.f(), rope_sin_.f(), stream_);
        rope(k_.f(), S, c.n_kv_heads, c.head_dim, rope_cos_.f(), rope_sin_.f(), stream_);
        attention(S);
        if (col) collect(*col, BlockInput::attn_out, attn_.f(), S, dq);
        quantize_input(attn_.f(), S, dq);
        linear(attn_.f(), S, dq, W(model::LinearKind::attn_output), D, x, 1.0f);  // residual
        rms_norm(x, h_.f(), S, D, b.ffn_norm.f(), plus_one, c.rms_norm_eps, stream_);
        if (col) collect(*col, BlockInput::ffn_norm_out, h_.f(), S, D);
        quantize_input(h_.f(), S, D);
        linear(h_.f(), S, D, W(model::LinearKind::ffn_gate), F, gate_.f(), 0.0f);
        linear(h_.f(), S, D, W(model::LinearKind::ffn_up), F, up_.f(), 0.0f);
        swiglu(gate_.f(), up_.f(), gate_.f(), S * F, stream_);
        if (col) collect(*col, BlockInput::ffn_act, gate_.f(), S, F);
        quantize_input(gate_.f(), S, F);
        linear(gate_.f(), S, F, W(model::LinearKind::ffn_down), D, x, 1.0f);
    }
    // Every slot, then the final norm and LM head for rows >= first_row (into logits_ from its
    // start). Returns the clamped first row.
    std::int64_t forward(std::span<const std::int32_t> tokens, std::int64_t first_row) {
        const auto& c = config_;
        const auto S = static_cast<std::int64_t>(tokens.size());
        if (S == 0 || S > max_tokens_)
            throw_internal("E8120", fmt::format("sequence of {} tokens outside the 1..{} the CUDA model was sized for", S, max_tokens_));
        const std::int64_t D = c.d_model;
        check(cudaMemcpyAsync(tokens_.i(), tokens.data(), tokens.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice, stream_),
              "tokens");
        const float emb_scale = c.scale_embeddings ? static_cast<float>(std::sqrt(static_cast<double>(D))) : 1.0f;
        embed_rows(embedding_.f(), tokens_.i(), S, D, emb_scale, x_.f(), stream_);
        for (const auto& b : blocks_) run_block(b, x_.f(), S, nullptr);
        const std::int64_t from = std::min<std::int64_t>(std::max<std::int64_t>(first_row, 0), S);
        if (from < S) {
            rms_norm(x_.f() + from * D, h_.f(), S - from, D, output_norm_.f(), c.norm_weight_plus_one, c.rms_norm_eps, stream_);
            const float* head = lm_head_.bytes() ? lm_head_.f() : embedding_.f();
            linear(h_.f(), S - from, D, head, c.vocab_size, logits_.f(), 0.0f);
        }
        return from;
    }

    model::ModelConfig config_;
    std::int64_t max_tokens_ = 0;
    cublasHandle_t blas_ = nullptr;
    cudaStream_t stream_ = nullptr;
    std::vector<Block> blocks_;
    DeviceBuffer embedding_, output_norm_, lm_head_, rope_cos_, rope_sin_;
    DeviceBuffer x_, h_, q_, k_, v_, attn_, gate_, up_, scores_, tokens_, targets_, nll_, logits_;
    DeviceBuffer hidden_;
    std::vector<std::int64_t> offsets_;
    std::size_t peak_used_ = 0;
    ActivationQuant act_;
};

}  // namespace

ForwardEngine* make_forward_engine(int device, const model::ModelConfig& config, int slots, std::int64_t max_tokens, bool tf32) {
    return new Engine(device, config, slots, max_tokens, tf32);
}

}  // namespace halo::cuda
