// Inside libhalo_cuda.so: the FisherEngine of cuda_backend_api.hpp, model/backward.cpp's
// loss_and_gradients on the GPU for a Llama-family decoder (the options cuda_model.hpp's
// check_supported lets through). cuBLAS for every product (the linears' forward, their input and
// weight gradients, the LM head, the attention's four products per KV group), fisher_kernels
// for the rest. Per sequence: embed, run every block keeping only its input (the checkpoint),
// final norm and LM head, dLoss/dlogits (and the head's own weight gradient where asked for),
// then block by block from the last: re-run the block's
// forward from its checkpoint keeping its activations, and go back through it (SwiGLU, FFN norm,
// attention with its softmax, RoPE, attention norm), summing each weight gradient (or its square)
// into the block's accumulators as soon as it is formed.
#include <array>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend_api.hpp"
#include "halo/cuda/module/cuda_kernels.hpp"
#include "halo/cuda/module/device_memory.hpp"
#include "halo/cuda/module/fisher_kernels.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

constexpr const char* kLowerWeights = "use a GPU with more memory (weights and their Fisher sums stay resident), or --device cpu";
constexpr const char* kLowerTokens = "lower --seq-len (the backward pass's buffers grow with the sequence, attention's with its square)";

struct FisherBlock {
    DeviceBuffer attn_norm, ffn_norm;
    std::array<DeviceBuffer, 7> linear, accum;
};

void upload_to(DeviceBuffer& b, const float* data, std::size_t floats, cudaStream_t s, const char* what) {
    b.allocate(floats * sizeof(float), what, kLowerWeights);
    check(cudaMemcpyAsync(b.f(), data, floats * sizeof(float), cudaMemcpyHostToDevice, s), "upload");
}

std::size_t floats(std::int64_t n) { return static_cast<std::size_t>(n) * sizeof(float); }

class Engine final : public FisherEngine {
public:
    Engine(int device, const model::ModelConfig& config, std::int64_t max_tokens, bool tf32, bool head_gradient)
        : c_(config), max_tokens_(max_tokens), head_gradient_(head_gradient), blocks_(static_cast<std::size_t>(config.n_layers)) {
        check(cudaSetDevice(device), "cudaSetDevice");
        check(cublasCreate(&blas_), "cublasCreate");
        check(cudaStreamCreate(&stream_), "cudaStreamCreate");
        check(cublasSetStream(blas_, stream_), "cublasSetStream");
        check(cublasSetMathMode(blas_, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");
        // Work buffers first: an OOM names the sequence length before the uploads.
        const std::int64_t S = max_tokens, D = c_.d_model, F = c_.d_ff, dq = dq_(), dkv = dkv_();
        const std::int64_t G = c_.n_heads / c_.n_kv_heads;
        inputs_.allocate(floats(c_.n_layers * S * D), "every block's input (the backward's checkpoints)", kLowerTokens);
        for (DeviceBuffer* b : {&x_, &x_mid_, &h1_, &h2_, &d_x_, &d_h_}) b->allocate(floats(S * D), "a hidden state", kLowerTokens);
        for (DeviceBuffer* b : {&q_, &attn_, &d_q_, &d_attn_}) b->allocate(floats(S * dq), "Q or its gradient", kLowerTokens);
        for (DeviceBuffer* b : {&k_, &v_, &d_k_, &d_v_}) b->allocate(floats(S * dkv), "K/V or their gradients", kLowerTokens);
        for (DeviceBuffer* b : {&gate_, &up_, &act_, &d_act_, &d_up_}) b->allocate(floats(S * F), "an FFN activation", kLowerTokens);
        probs_.allocate(floats(c_.n_heads * S * S), "the attention probabilities of a block", kLowerTokens);
        d_probs_.allocate(floats(G * S * S), "the attention probabilities' gradient", kLowerTokens);
        logits_.allocate(floats(S * c_.vocab_size), "the logits", kLowerTokens);
        tokens_.allocate(static_cast<std::size_t>(S) * sizeof(std::int32_t), "the token ids", kLowerTokens);
        targets_.allocate(static_cast<std::size_t>(S) * sizeof(std::int32_t), "the target ids", kLowerTokens);
        nll_.allocate(static_cast<std::size_t>(S) * sizeof(double), "the NLLs", kLowerTokens);
        grad_.allocate(floats(std::max(F, dq) * D), "a weight gradient", kLowerWeights);
        if (head_gradient_) {  // the head's gradient is formed in grad_, a slice of vocabulary rows at a time
            head_accum_.allocate(floats(c_.vocab_size * D), "the LM head's Fisher sums", kLowerWeights);
            check(cudaMemsetAsync(head_accum_.f(), 0, head_accum_.bytes(), stream_), "memset");
        }
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
        sync("upload");
    }
    void upload_block(int layer, const model::LayerWeights& w) override {
        FisherBlock& b = blocks_.at(static_cast<std::size_t>(layer));
        upload_to(b.attn_norm, w.attn_norm.data(), w.attn_norm.size(), stream_, "a norm");
        upload_to(b.ffn_norm, w.ffn_norm.data(), w.ffn_norm.size(), stream_, "a norm");
        for (std::size_t k = 0; k < 7; ++k) {
            upload_to(b.linear[k], w.linear[k].data.data(), w.linear[k].data.size(), stream_, "a block's weights");
            b.accum[k].allocate(floats(static_cast<std::int64_t>(w.linear[k].data.size())), "a block's Fisher sums",
                                kLowerWeights);
            check(cudaMemsetAsync(b.accum[k].f(), 0, b.accum[k].bytes(), stream_), "memset");
        }
        sync("upload");  // the host may free `w` now
    }

    double accumulate(std::span<const std::int32_t> tokens, float scale, bool squared) override {
        const auto S = static_cast<std::int64_t>(tokens.size());
        if (S < 2 || S > max_tokens_)
            throw_internal("E8163", fmt::format("backward pass over {} tokens, outside the 2..{} the engine was sized for", S,
                                                max_tokens_));
        const std::int64_t D = c_.d_model, V = c_.vocab_size;
        check(cudaMemcpyAsync(tokens_.i(), tokens.data(), tokens.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice, stream_),
              "tokens");
        check(cudaMemcpyAsync(targets_.i(), tokens.data() + 1, (tokens.size() - 1) * sizeof(std::int32_t), cudaMemcpyHostToDevice,
                              stream_),
              "targets");
        const float emb_scale = c_.scale_embeddings ? static_cast<float>(std::sqrt(static_cast<double>(D))) : 1.0f;
        embed_rows(embedding_.f(), tokens_.i(), S, D, emb_scale, x_.f(), stream_);
        for (int l = 0; l < c_.n_layers; ++l) {
            check(cudaMemcpyAsync(input(l), x_.f(), floats(S * D), cudaMemcpyDeviceToDevice, stream_), "checkpoint");
            block_forward(blocks_[static_cast<std::size_t>(l)], x_.f(), S);
        }
        // Head: logits = RMSNorm(x) W^T; dLoss/dlogits in place; d(normed) = dlogits W.
        const float* head = lm_head_.bytes() ? lm_head_.f() : embedding_.f();
        rms_norm(x_.f(), h1_.f(), S, D, output_norm_.f(), c_.norm_weight_plus_one, c_.rms_norm_eps, stream_);
        linear(h1_.f(), S, D, head, V, logits_.f(), 0.0f);
        next_token_loss_grad(logits_.f(), S, V, targets_.i(), nll_.d(), stream_);
        if (head_gradient_) head_weight_grad(S, scale, squared);
        input_grad(logits_.f(), S, V, head, D, d_h_.f(), 0.0f);
        rms_norm_backward(x_.f(), output_norm_.f(), c_.norm_weight_plus_one, c_.rms_norm_eps, S, D, d_h_.f(), d_x_.f(), false,
                          stream_);
        for (int l = c_.n_layers - 1; l >= 0; --l) {
            const FisherBlock& b = blocks_[static_cast<std::size_t>(l)];
            check(cudaMemcpyAsync(x_.f(), input(l), floats(S * D), cudaMemcpyDeviceToDevice, stream_), "checkpoint");
            block_forward(b, x_.f(), S);  // the activations block_backward reads
            block_backward(b, input(l), S, scale, squared);
        }
        std::vector<double> nll(static_cast<std::size_t>(S - 1));
        check(cudaMemcpyAsync(nll.data(), nll_.d(), nll.size() * sizeof(double), cudaMemcpyDeviceToHost, stream_), "nll");
        sync("backward pass");
        double loss = 0;
        for (double v : nll) loss += v / static_cast<double>(S - 1);  // model::loss_and_gradients' sum
        return loss;
    }

    void download(int layer, model::LinearKind kind, float* out) override {
        const DeviceBuffer& a = blocks_.at(static_cast<std::size_t>(layer)).accum[static_cast<std::size_t>(kind)];
        check(cudaMemcpyAsync(out, a.f(), a.bytes(), cudaMemcpyDeviceToHost, stream_), "Fisher sums");
        sync("download");
    }
    void download_head(float* out) override {
        if (!head_gradient_) throw_internal("E8164", "the LM head's Fisher sums of an engine made without them");
        check(cudaMemcpyAsync(out, head_accum_.f(), head_accum_.bytes(), cudaMemcpyDeviceToHost, stream_), "Fisher sums (head)");
        sync("download");
    }
    std::size_t peak_device_bytes() const override { return peak_used_; }

private:
    std::int64_t dq_() const { return static_cast<std::int64_t>(c_.n_heads) * c_.head_dim; }
    std::int64_t dkv_() const { return static_cast<std::int64_t>(c_.n_kv_heads) * c_.head_dim; }
    float* input(int layer) const { return inputs_.f() + static_cast<std::int64_t>(layer) * max_tokens_ * c_.d_model; }
    void note_usage() { peak_used_ = std::max(peak_used_, device_used_bytes()); }
    void sync(const char* what) {
        check(cudaStreamSynchronize(stream_), what);
        check(cudaGetLastError(), "kernels");
        note_usage();
    }

    // Row-major products through column-major cuBLAS (a row-major [r x c] matrix is the
    // column-major [c x r] one, ld c).
    // Y[rows x out] = X[rows x in] W^T (+ beta Y), W [out x in].
    void linear(const float* x, std::int64_t rows, std::int64_t in, const float* w, std::int64_t out, float* y, float beta) {
        const float one = 1.0f;
        check(cublasSgemm(blas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(rows), static_cast<int>(in),
                          &one, w, static_cast<int>(in), x, static_cast<int>(in), &beta, y, static_cast<int>(out)),
              "sgemm");
    }
    // dX[rows x in] = dY[rows x out] W (+ beta dX): the gradient reaching a linear's input.
    void input_grad(const float* dy, std::int64_t rows, std::int64_t out, const float* w, std::int64_t in, float* dx, float beta) {
        const float one = 1.0f;
        check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(in), static_cast<int>(rows), static_cast<int>(out),
                          &one, w, static_cast<int>(in), dy, static_cast<int>(out), &beta, dx, static_cast<int>(in)),
              "sgemm (input gradient)");
    }
    // accum += scale * (dY^T X)^2 (or dY^T X): the weight gradient [out x in] of a linear whose
    // output gradient is dY [rows x out] (row stride ld_dy, default out) and input X [rows x in],
    // formed in grad_ (out * in floats at most).
    void weight_grad(const float* dy, std::int64_t rows, std::int64_t out, const float* x, std::int64_t in, float* accum,
                     float scale, bool squared, std::int64_t ld_dy = 0) {
        const float one = 1.0f, zero = 0.0f;
        check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_T, static_cast<int>(in), static_cast<int>(out), static_cast<int>(rows),
                          &one, x, static_cast<int>(in), dy, static_cast<int>(ld_dy > 0 ? ld_dy : out), &zero, grad_.f(),
                          static_cast<int>(in)),
              "sgemm (weight gradient)");
        accumulate_gradient(grad_.f(), accum, out * in, scale, squared, stream_);
    }
    // The LM head's weight gradient dlogits^T RMSNorm(x) (model/backward.cpp's head GEMM) into
    // head_accum_: logits_ holds dLoss/dlogits [S x V] and h1_ the normed final hidden state.
    // grad_ holds max(d_ff, q width) rows of it, so the vocabulary goes in slices of that many
    // rows (the head is vocab x d_model: for a 128k vocabulary, 2 GB more would be needed at once).
    void head_weight_grad(std::int64_t S, float scale, bool squared) {
        const std::int64_t D = c_.d_model, V = c_.vocab_size;
        const std::int64_t slice = std::max<std::int64_t>(1, static_cast<std::int64_t>(grad_.bytes() / sizeof(float)) / D);
        for (std::int64_t v0 = 0; v0 < V; v0 += slice) {
            const std::int64_t n = std::min(slice, V - v0);
            weight_grad(logits_.f() + v0, S, n, h1_.f(), D, head_accum_.f() + v0 * D, scale, squared, V);
        }
    }

    // Causal GQA attention of q_, k_, v_ into attn_, the probabilities of every head kept in
    // probs_ [Hq x S x S] (forward_engine.cpp's attention, one scores buffer per head).
    void attention_forward(std::int64_t S) {
        const std::int64_t hd = c_.head_dim, Hkv = c_.n_kv_heads, G = c_.n_heads / Hkv;
        const int ldq = static_cast<int>(dq_()), ldkv = static_cast<int>(dkv_());
        const float one = 1.0f, zero = 0.0f;
        for (std::int64_t g = 0; g < Hkv; ++g) {
            float* p = probs_.f() + g * G * S * S;
            check(cublasSgemmStridedBatched(blas_, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(S), static_cast<int>(S),
                                            static_cast<int>(hd), &one, k_.f() + g * hd, ldkv, 0, q_.f() + g * G * hd, ldq, hd,
                                            &zero, p, static_cast<int>(S), S * S, static_cast<int>(G)),
                  "scores");
            causal_softmax(p, G, S, static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))), stream_);
            check(cublasSgemmStridedBatched(blas_, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(hd), static_cast<int>(S),
                                            static_cast<int>(S), &one, v_.f() + g * hd, ldkv, 0, p, static_cast<int>(S), S * S,
                                            &zero, attn_.f() + g * G * hd, ldq, hd, static_cast<int>(G)),
                  "attention values");
        }
    }
    // model::attention_backward: from d_attn_ and probs_, d_q_ (overwritten), d_k_ and d_v_
    // (sums over each KV group's query heads). Per group: dP = dO V^T (batched over its heads),
    // dV = sum_h P_h^T dO_h, dS = softmax backward (scale folded in), dQ = dS K (batched),
    // dK = sum_h dS_h^T Q_h.
    void attention_backward(std::int64_t S) {
        const std::int64_t hd = c_.head_dim, Hkv = c_.n_kv_heads, G = c_.n_heads / Hkv;
        const int ldq = static_cast<int>(dq_()), ldkv = static_cast<int>(dkv_()), iS = static_cast<int>(S), ihd = static_cast<int>(hd);
        const float one = 1.0f, zero = 0.0f;
        const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd)));
        for (std::int64_t g = 0; g < Hkv; ++g) {
            const float* p = probs_.f() + g * G * S * S;
            const float* d_out = d_attn_.f() + g * G * hd;
            check(cublasSgemmStridedBatched(blas_, CUBLAS_OP_T, CUBLAS_OP_N, iS, iS, ihd, &one, v_.f() + g * hd, ldkv, 0, d_out, ldq,
                                            hd, &zero, d_probs_.f(), iS, S * S, static_cast<int>(G)),
                  "dP");
            for (std::int64_t h = 0; h < G; ++h) {
                const float beta = h == 0 ? 0.0f : 1.0f;
                check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_T, ihd, iS, iS, &one, d_out + h * hd, ldq, p + h * S * S, iS, &beta,
                                  d_v_.f() + g * hd, ldkv),
                      "dV");
            }
            causal_softmax_backward(p, d_probs_.f(), G, S, scale, stream_);
            check(cublasSgemmStridedBatched(blas_, CUBLAS_OP_N, CUBLAS_OP_N, ihd, iS, iS, &one, k_.f() + g * hd, ldkv, 0, d_probs_.f(),
                                            iS, S * S, &zero, d_q_.f() + g * G * hd, ldq, hd, static_cast<int>(G)),
                  "dQ");
            for (std::int64_t h = 0; h < G; ++h) {
                const float beta = h == 0 ? 0.0f : 1.0f;
                check(cublasSgemm(blas_, CUBLAS_OP_N, CUBLAS_OP_T, ihd, iS, iS, &one, q_.f() + (g * G + h) * hd, ldq,
                                  d_probs_.f() + h * S * S, iS, &beta, d_k_.f() + g * hd, ldkv),
                      "dK");
            }
        }
    }

    // One block on x [S x D] in place, keeping what the backward reads: h1_, q_/k_ (after
    // RoPE), v_, probs_, attn_, x_mid_, h2_, gate_, up_, act_.
    void block_forward(const FisherBlock& b, float* x, std::int64_t S) {
        const std::int64_t D = c_.d_model, F = c_.d_ff, dq = dq_(), dkv = dkv_();
        const bool plus_one = c_.norm_weight_plus_one;
        const auto W = [&](model::LinearKind k) { return b.linear[static_cast<std::size_t>(k)].f(); };
        rms_norm(x, h1_.f(), S, D, b.attn_norm.f(), plus_one, c_.rms_norm_eps, stream_);
        linear(h1_.f(), S, D, W(model::LinearKind::attn_q), dq, q_.f(), 0.0f);
        linear(h1_.f(), S, D, W(model::LinearKind::attn_k), dkv, k_.f(), 0.0f);
        linear(h1_.f(), S, D, W(model::LinearKind::attn_v), dkv, v_.f(), 0.0f);
        rope(q_.f(), S, c_.n_heads, c_.head_dim, rope_cos_.f(), rope_sin_.f(), stream_);
        rope(k_.f(), S, c_.n_kv_heads, c_.head_dim, rope_cos_.f(), rope_sin_.f(), stream_);
        attention_forward(S);
        linear(attn_.f(), S, dq, W(model::LinearKind::attn_output), D, x, 1.0f);  // residual
        check(cudaMemcpyAsync(x_mid_.f(), x, floats(S * D), cudaMemcpyDeviceToDevice, stream_), "x_mid");
        rms_norm(x, h2_.f(), S, D, b.ffn_norm.f(), plus_one, c_.rms_norm_eps, stream_);
        linear(h2_.f(), S, D, W(model::LinearKind::ffn_gate), F, gate_.f(), 0.0f);
        linear(h2_.f(), S, D, W(model::LinearKind::ffn_up), F, up_.f(), 0.0f);
        swiglu(gate_.f(), up_.f(), act_.f(), S * F, stream_);
        linear(act_.f(), S, F, W(model::LinearKind::ffn_down), D, x, 1.0f);
    }

    // model::block_backward for a Llama block: d_x_ holds dLoss/d(block output) and becomes
    // dLoss/d(block input) `x_in`; the activations are block_forward's.
    void block_backward(const FisherBlock& b, const float* x_in, std::int64_t S, float scale, bool squared) {
        const std::int64_t D = c_.d_model, F = c_.d_ff, dq = dq_(), dkv = dkv_();
        const bool plus_one = c_.norm_weight_plus_one;
        using K = model::LinearKind;
        const auto W = [&](K k) { return b.linear[static_cast<std::size_t>(k)].f(); };
        const auto A = [&](K k) { return b.accum[static_cast<std::size_t>(k)].f(); };
        // FFN: x_out = x_mid + act Wd^T, act = silu(gate) * up.
        input_grad(d_x_.f(), S, D, W(K::ffn_down), F, d_act_.f(), 0.0f);
        weight_grad(d_x_.f(), S, D, act_.f(), F, A(K::ffn_down), scale, squared);
        swiglu_backward(gate_.f(), up_.f(), d_act_.f(), d_up_.f(), S * F, stream_);  // d_act_ -> d_gate
        weight_grad(d_act_.f(), S, F, h2_.f(), D, A(K::ffn_gate), scale, squared);
        weight_grad(d_up_.f(), S, F, h2_.f(), D, A(K::ffn_up), scale, squared);
        input_grad(d_act_.f(), S, F, W(K::ffn_gate), D, d_h_.f(), 0.0f);
        input_grad(d_up_.f(), S, F, W(K::ffn_up), D, d_h_.f(), 1.0f);
        rms_norm_backward(x_mid_.f(), b.ffn_norm.f(), plus_one, c_.rms_norm_eps, S, D, d_h_.f(), d_x_.f(), true, stream_);
        // Attention: x_mid = x_in + attn Wo^T.
        input_grad(d_x_.f(), S, D, W(K::attn_output), dq, d_attn_.f(), 0.0f);
        weight_grad(d_x_.f(), S, D, attn_.f(), dq, A(K::attn_output), scale, squared);
        attention_backward(S);
        rope_inverse(d_q_.f(), S, c_.n_heads, c_.head_dim, rope_cos_.f(), rope_sin_.f(), stream_);
        rope_inverse(d_k_.f(), S, c_.n_kv_heads, c_.head_dim, rope_cos_.f(), rope_sin_.f(), stream_);
        weight_grad(d_q_.f(), S, dq, h1_.f(), D, A(K::attn_q), scale, squared);
        weight_grad(d_k_.f(), S, dkv, h1_.f(), D, A(K::attn_k), scale, squared);
        weight_grad(d_v_.f(), S, dkv, h1_.f(), D, A(K::attn_v), scale, squared);
        input_grad(d_q_.f(), S, dq, W(K::attn_q), D, d_h_.f(), 0.0f);
        input_grad(d_k_.f(), S, dkv, W(K::attn_k), D, d_h_.f(), 1.0f);
        input_grad(d_v_.f(), S, dkv, W(K::attn_v), D, d_h_.f(), 1.0f);
        rms_norm_backward(x_in, b.attn_norm.f(), plus_one, c_.rms_norm_eps, S, D, d_h_.f(), d_x_.f(), true, stream_);
    }

    model::ModelConfig c_;
    std::int64_t max_tokens_ = 0;
    bool head_gradient_ = false;
    cublasHandle_t blas_ = nullptr;
    cudaStream_t stream_ = nullptr;
    std::vector<FisherBlock> blocks_;
    DeviceBuffer embedding_, output_norm_, lm_head_, rope_cos_, rope_sin_;
    DeviceBuffer inputs_, x_, x_mid_, h1_, h2_, q_, k_, v_, attn_, gate_, up_, act_, probs_;
    DeviceBuffer d_x_, d_h_, d_q_, d_k_, d_v_, d_attn_, d_act_, d_up_, d_probs_, grad_, head_accum_;
    DeviceBuffer logits_, tokens_, targets_, nll_;
    std::size_t peak_used_ = 0;
};

}  // namespace

FisherEngine* make_fisher_engine(int device, const model::ModelConfig& config, std::int64_t max_tokens, bool tf32,
                                 bool head_gradient) {
    return new Engine(device, config, max_tokens, tf32, head_gradient);
}

}  // namespace halo::cuda
