#include "halo/cuda/cuda_model.hpp"

#include <cmath>
#include <vector>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <fmt/format.h>

#include "halo/cuda/cuda_kernels.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) throw_internal("E8104", fmt::format("CUDA {} failed: {}", what, cudaGetErrorString(e)));
}
void check(cublasStatus_t e, const char* what) {
    if (e != CUBLAS_STATUS_SUCCESS) throw_internal("E8110", fmt::format("cuBLAS {} failed: status {}", what, static_cast<int>(e)));
}

// One device allocation (RAII).
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(std::size_t floats, const char* what, const char* lower_with) { allocate(floats * sizeof(float), what, lower_with); }
    ~DeviceBuffer() {
        if (p_) cudaFree(p_);
    }
    DeviceBuffer(DeviceBuffer&& o) noexcept : p_(o.p_), bytes_(o.bytes_) { o.p_ = nullptr; }
    DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
        std::swap(p_, o.p_);
        std::swap(bytes_, o.bytes_);
        return *this;
    }
    void allocate(std::size_t bytes, const char* what, const char* lower_with) {
        std::size_t free = 0, total = 0;
        check(cudaMemGetInfo(&free, &total), "cudaMemGetInfo");
        if (bytes > free || cudaMalloc(&p_, bytes) != cudaSuccess) {
            cudaGetLastError();
            throw_bad_value("E8102", "--device", fmt::format("out of GPU memory for {}", what),
                            fmt::format("{:.2f} GiB free", static_cast<double>(free) / (1 << 30)),
                            fmt::format("{:.2f} GiB asked", static_cast<double>(bytes) / (1 << 30)), lower_with);
        }
        bytes_ = bytes;
    }
    float* f() const { return static_cast<float*>(p_); }
    std::int32_t* i() const { return static_cast<std::int32_t*>(p_); }
    double* d() const { return static_cast<double*>(p_); }
    std::size_t bytes() const { return bytes_; }

private:
    void* p_ = nullptr;
    std::size_t bytes_ = 0;
};

DeviceBuffer upload(const std::vector<float>& v, const char* what) {
    DeviceBuffer b(v.size(), what, "use a GPU with more memory, or --device cpu --stream");
    check(cudaMemcpy(b.f(), v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice), "upload");
    return b;
}

struct Block {
    DeviceBuffer attn_norm, ffn_norm;
    std::array<DeviceBuffer, 7> linear;
};

constexpr const char* kLowerCtx = "lower --ctx (work buffers grow with it) or use --device cpu --stream";

}  // namespace

bool cuda_built() { return true; }

DeviceInfo open_device(int index) {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();
        throw_bad_value("E8101", "--device", "no usable CUDA driver or GPU", "a GPU with a working driver",
                        cudaGetErrorString(e), "use --device cpu");
    }
    if (index < 0 || index >= count)
        throw_bad_value("E8108", "--device", "no such CUDA device", fmt::format("cuda:0..cuda:{}", count - 1),
                        fmt::format("cuda:{}", index), "use --device cpu");
    check(cudaSetDevice(index), "cudaSetDevice");
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, index), "cudaGetDeviceProperties");
    DeviceInfo d;
    d.index = index;
    d.name = prop.name;
    check(cudaMemGetInfo(&d.free_bytes, &d.total_bytes), "cudaMemGetInfo");
    return d;
}

struct CudaModel::Impl {
    DeviceInfo device;
    model::ModelConfig config;
    cublasHandle_t blas = nullptr;
    cudaStream_t stream = nullptr;
    std::int64_t max_tokens = 0;
    DeviceBuffer embedding, output_norm, lm_head;  // lm_head empty when tied
    std::vector<Block> blocks;
    DeviceBuffer rope_cos, rope_sin, tokens, targets, nll;
    DeviceBuffer x, h, q, k, v, attn, gate, up, scores, logits;
    std::size_t allocated = 0, peak_used = 0;

    void note_usage() {
        std::size_t free = 0, total = 0;
        if (cudaMemGetInfo(&free, &total) == cudaSuccess) peak_used = std::max(peak_used, total - free);
    }
    // Y[rows x out] = X[rows x in] W^T (+ beta Y), W [out x in] row-major.
    void linear(const float* x, std::int64_t rows, std::int64_t in, const float* w, std::int64_t out, float* y, float beta) {
        const float one = 1.0f;
        check(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(out), static_cast<int>(rows), static_cast<int>(in),
                          &one, w, static_cast<int>(in), x, static_cast<int>(in), &beta, y, static_cast<int>(out)),
              "sgemm");
    }
    void attention(std::int64_t S) {
        const auto& c = config;
        const std::int64_t hd = c.head_dim, Hq = c.n_heads, Hkv = c.n_kv_heads, G = Hq / Hkv;
        const int ldq = static_cast<int>(Hq * hd), ldkv = static_cast<int>(Hkv * hd);
        const float one = 1.0f, zero = 0.0f;
        for (std::int64_t g = 0; g < Hkv; ++g) {
            // scores_h[i][j] = Q_h[i] . K_g[j] for the G query heads h = g*G .. g*G+G-1
            check(cublasSgemmStridedBatched(blas, CUBLAS_OP_T, CUBLAS_OP_N, static_cast<int>(S), static_cast<int>(S),
                                            static_cast<int>(hd), &one, k.f() + g * hd, ldkv, 0, q.f() + g * G * hd, ldq, hd,
                                            &zero, scores.f(), static_cast<int>(S), S * S, static_cast<int>(G)),
                  "scores");
            causal_softmax(scores.f(), G, S, static_cast<float>(1.0 / std::sqrt(static_cast<double>(hd))), stream);
            // out_h[i] = sum_j P_h[i][j] V_g[j]
            check(cublasSgemmStridedBatched(blas, CUBLAS_OP_N, CUBLAS_OP_N, static_cast<int>(hd), static_cast<int>(S),
                                            static_cast<int>(S), &one, v.f() + g * hd, ldkv, 0, scores.f(), static_cast<int>(S),
                                            S * S, &zero, attn.f() + g * G * hd, ldq, hd, static_cast<int>(G)),
                  "attention values");
        }
    }
};

CudaModel::CudaModel(const model::LazyModel& source, int device, std::int64_t max_tokens, ProgressSink progress_sink,
                     bool tf32)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.device = open_device(device);
    m.config = source.config();
    const auto& c = m.config;
    if (c.qk_norm || c.sliding_window > 0 || c.gelu_gate || c.rope_interleaved)
        throw_bad_value("E8103", source.source_path(), "the CUDA forward does not implement this model's options",
                        "a Llama/Mistral/Qwen2 decoder without QK-norm, sliding windows, GeGLU, interleaved RoPE",
                        fmt::format("qk_norm {} sliding_window {} gelu {} interleaved {}", c.qk_norm, c.sliding_window,
                                    c.gelu_gate, c.rope_interleaved),
                        "use --device cpu");
    m.max_tokens = max_tokens;
    check(cublasCreate(&m.blas), "cublasCreate");
    check(cudaStreamCreate(&m.stream), "cudaStreamCreate");
    check(cublasSetStream(m.blas, m.stream), "cublasSetStream");
    check(cublasSetMathMode(m.blas, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_PEDANTIC_MATH), "cublasSetMathMode");

    // Work buffers first: an OOM here names --ctx before minutes of uploads.
    const std::int64_t S = max_tokens, D = c.d_model, dq = c.n_heads * c.head_dim, dkv = c.n_kv_heads * c.head_dim;
    const std::int64_t G = c.n_heads / c.n_kv_heads;
    const auto sz = [](std::int64_t n) { return static_cast<std::size_t>(n); };
    m.x = DeviceBuffer(sz(S * D), "the hidden states", kLowerCtx);
    m.h = DeviceBuffer(sz(S * D), "the normed hidden states", kLowerCtx);
    m.q = DeviceBuffer(sz(S * dq), "Q", kLowerCtx);
    m.k = DeviceBuffer(sz(S * dkv), "K", kLowerCtx);
    m.v = DeviceBuffer(sz(S * dkv), "V", kLowerCtx);
    m.attn = DeviceBuffer(sz(S * dq), "the attention output", kLowerCtx);
    m.gate = DeviceBuffer(sz(S * c.d_ff), "the FFN gate", kLowerCtx);
    m.up = DeviceBuffer(sz(S * c.d_ff), "the FFN up projection", kLowerCtx);
    m.scores = DeviceBuffer(sz(G * S * S), "the attention scores", kLowerCtx);
    m.logits = DeviceBuffer(sz(S * c.vocab_size), "the logits", kLowerCtx);
    m.tokens.allocate(sz(S) * sizeof(std::int32_t), "the token ids", kLowerCtx);
    m.targets.allocate(sz(S) * sizeof(std::int32_t), "the target ids", kLowerCtx);
    m.nll.allocate(sz(S) * sizeof(double), "the NLLs", kLowerCtx);
    {
        const model::RopeTable rope(c, S);
        const std::int64_t half = c.head_dim / 2;
        std::vector<float> cs(sz(S * half)), sn(sz(S * half));
        for (std::int64_t p = 0; p < S; ++p)
            for (std::int64_t i = 0; i < half; ++i) {
                cs[sz(p * half + i)] = static_cast<float>(rope.cos_at(p, i));
                sn[sz(p * half + i)] = static_cast<float>(rope.sin_at(p, i));
            }
        m.rope_cos = upload(cs, "the RoPE table");
        m.rope_sin = upload(sn, "the RoPE table");
    }
    Progress progress(progress_sink ? progress_sink : ProgressSink([](const ProgressUpdate&) {}), "upload blocks to the GPU",
                      static_cast<std::size_t>(c.n_layers));
    m.embedding = upload(source.token_embedding().data, "the token embedding");
    for (int l = 0; l < c.n_layers; ++l) {
        model::LayerWeights lw = source.layer(l);  // one FP32 block on the host at a time
        Block b;
        b.attn_norm = upload(lw.attn_norm, "a norm");
        b.ffn_norm = upload(lw.ffn_norm, "a norm");
        for (std::size_t k = 0; k < 7; ++k) b.linear[k] = upload(lw.linear[k].data, "a block's weights");
        m.blocks.push_back(std::move(b));
        progress.advance();
    }
    progress.finish();
    m.output_norm = upload(source.output_norm(), "the final norm");
    if (!c.tied_embeddings) m.lm_head = upload(source.output().data, "the LM head");
    check(cudaDeviceSynchronize(), "upload");
    m.note_usage();
}

CudaModel::~CudaModel() {
    if (impl_->blas) cublasDestroy(impl_->blas);
    if (impl_->stream) cudaStreamDestroy(impl_->stream);
}

const model::ModelConfig& CudaModel::config() const { return impl_->config; }
const DeviceInfo& CudaModel::device() const { return impl_->device; }
std::size_t CudaModel::peak_device_bytes() const { return impl_->peak_used; }
std::size_t CudaModel::device_bytes() const {
    const Impl& m = *impl_;
    std::size_t b = m.embedding.bytes() + m.output_norm.bytes() + m.lm_head.bytes() + m.rope_cos.bytes() + m.rope_sin.bytes() +
                    m.tokens.bytes() + m.targets.bytes() + m.nll.bytes();
    for (const auto* buf : {&m.x, &m.h, &m.q, &m.k, &m.v, &m.attn, &m.gate, &m.up, &m.scores, &m.logits}) b += buf->bytes();
    for (const auto& blk : m.blocks) {
        b += blk.attn_norm.bytes() + blk.ffn_norm.bytes();
        for (const auto& l : blk.linear) b += l.bytes();
    }
    return b;
}

// Runs the blocks and the LM head for rows >= first_row into the device logits buffer
// (rows first_row.. at its start). Returns the clamped first row.
std::int64_t CudaModel::forward(std::span<const std::int32_t> tokens, std::int64_t first_row) {
    Impl& m = *impl_;
    const auto& c = m.config;
    const auto S = static_cast<std::int64_t>(tokens.size());
    if (S == 0) throw_bad_value("E8106", "tokens", "cannot run the model on an empty sequence", "at least 1 token", "0");
    if (S > m.max_tokens)
        throw_internal("E8111", fmt::format("sequence of {} tokens exceeds the {} the CUDA model was sized for", S, m.max_tokens));
    for (std::size_t t = 0; t < tokens.size(); ++t)
        if (tokens[t] < 0 || tokens[t] >= c.vocab_size)
            throw_bad_value("E8107", "token " + std::to_string(t), "token id outside the vocabulary",
                            "0.." + std::to_string(c.vocab_size - 1), std::to_string(tokens[t]),
                            "the tokenizer and the model disagree on the vocabulary");
    const std::int64_t D = c.d_model, dq = c.n_heads * c.head_dim, dkv = c.n_kv_heads * c.head_dim, F = c.d_ff;
    check(cudaMemcpyAsync(m.tokens.i(), tokens.data(), tokens.size() * sizeof(std::int32_t), cudaMemcpyHostToDevice, m.stream),
          "tokens");
    const float emb_scale = c.scale_embeddings ? static_cast<float>(std::sqrt(static_cast<double>(D))) : 1.0f;
    embed_rows(m.embedding.f(), m.tokens.i(), S, D, emb_scale, m.x.f(), m.stream);
    const bool plus_one = c.norm_weight_plus_one;
    for (const auto& b : m.blocks) {
        const auto W = [&](model::LinearKind k) { return b.linear[static_cast<std::size_t>(k)].f(); };
        rms_norm(m.x.f(), m.h.f(), S, D, b.attn_norm.f(), plus_one, c.rms_norm_eps, m.stream);
        m.linear(m.h.f(), S, D, W(model::LinearKind::attn_q), dq, m.q.f(), 0.0f);
        m.linear(m.h.f(), S, D, W(model::LinearKind::attn_k), dkv, m.k.f(), 0.0f);
        m.linear(m.h.f(), S, D, W(model::LinearKind::attn_v), dkv, m.v.f(), 0.0f);
        rope(m.q.f(), S, c.n_heads, c.head_dim, m.rope_cos.f(), m.rope_sin.f(), m.stream);
        rope(m.k.f(), S, c.n_kv_heads, c.head_dim, m.rope_cos.f(), m.rope_sin.f(), m.stream);
        m.attention(S);
        m.linear(m.attn.f(), S, dq, W(model::LinearKind::attn_output), D, m.x.f(), 1.0f);  // residual
        rms_norm(m.x.f(), m.h.f(), S, D, b.ffn_norm.f(), plus_one, c.rms_norm_eps, m.stream);
        m.linear(m.h.f(), S, D, W(model::LinearKind::ffn_gate), F, m.gate.f(), 0.0f);
        m.linear(m.h.f(), S, D, W(model::LinearKind::ffn_up), F, m.up.f(), 0.0f);
        swiglu(m.gate.f(), m.up.f(), m.gate.f(), S * F, m.stream);
        m.linear(m.gate.f(), S, F, W(model::LinearKind::ffn_down), D, m.x.f(), 1.0f);
    }
    const std::int64_t from = std::min<std::int64_t>(std::max<std::int64_t>(first_row, 0), S);
    if (from < S) {
        rms_norm(m.x.f() + from * D, m.h.f(), S - from, D, m.output_norm.f(), plus_one, c.rms_norm_eps, m.stream);
        const float* head = c.tied_embeddings ? m.embedding.f() : m.lm_head.f();
        m.linear(m.h.f(), S - from, D, head, c.vocab_size, m.logits.f(), 0.0f);
    }
    return from;
}

model::Matrix CudaModel::logits(std::span<const std::int32_t> tokens, std::int64_t first_row) {
    Impl& m = *impl_;
    const auto S = static_cast<std::int64_t>(tokens.size());
    const std::int64_t from = forward(tokens, first_row);
    model::Matrix out(S, m.config.vocab_size);
    if (from < S)
        check(cudaMemcpyAsync(out.row(from), m.logits.f(), static_cast<std::size_t>((S - from) * m.config.vocab_size) * sizeof(float),
                              cudaMemcpyDeviceToHost, m.stream),
              "logits");
    check(cudaStreamSynchronize(m.stream), "forward");
    check(cudaGetLastError(), "kernels");
    m.note_usage();
    return out;
}

std::vector<double> CudaModel::next_token_nll(std::span<const std::int32_t> tokens, std::int64_t first_target,
                                              std::int64_t end_target) {
    Impl& m = *impl_;
    const auto S = static_cast<std::int64_t>(tokens.size());
    if (first_target < 1 || end_target > S || first_target > end_target)
        throw_internal("E8112", fmt::format("next_token_nll targets [{}, {}) outside 1..{}", first_target, end_target, S));
    const std::int64_t n = end_target - first_target;
    std::vector<double> nll(static_cast<std::size_t>(n));
    if (n == 0) return nll;
    forward(tokens, first_target - 1);  // device logits row i = position first_target - 1 + i
    check(cudaMemcpyAsync(m.targets.i(), tokens.data() + first_target, static_cast<std::size_t>(n) * sizeof(std::int32_t),
                          cudaMemcpyHostToDevice, m.stream),
          "targets");
    row_nll(m.logits.f(), n, m.config.vocab_size, m.targets.i(), m.nll.d(), m.stream);
    check(cudaMemcpyAsync(nll.data(), m.nll.d(), static_cast<std::size_t>(n) * sizeof(double), cudaMemcpyDeviceToHost, m.stream),
          "nll");
    check(cudaStreamSynchronize(m.stream), "forward");
    check(cudaGetLastError(), "kernels");
    m.note_usage();
    return nll;
}

}  // namespace halo::cuda
