// Host side of the CUDA forward: reads the model, computes the RoPE table, and drives the
// module's ForwardEngine (cuda_backend_api.hpp).
#include "halo/cuda/cuda_model.hpp"

#include <fmt/format.h>

#include "halo/cuda/act_row_format.hpp"
#include "halo/cuda/cuda_backend.hpp"
#include "halo/model/activation_quant.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/quant/amove_activation.hpp"
#include "halo/quant/element_type.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

void check_supported(const model::ModelConfig& c, const std::string& where) {
    if (c.qk_norm || c.sliding_window > 0 || c.gelu_gate || c.rope_interleaved || c.qkv_bias || c.post_norms ||
        c.final_logit_softcap > 0 || c.moe())
        throw_bad_value("E8103", where, "the CUDA backend does not implement this model's options",
                        "a Llama/Mistral decoder without QK-norm, sliding windows, GeGLU, QKV biases, post-norms, soft-capping, "
                        "interleaved RoPE",
                        fmt::format("qk_norm {} sliding_window {} gelu {} qkv_bias {} post_norms {} softcap {} interleaved {}",
                                    c.qk_norm, c.sliding_window, c.gelu_gate, c.qkv_bias, c.post_norms, c.final_logit_softcap,
                                    c.rope_interleaved),
                        "use --device cpu");
}

RopeFloats rope_floats(const model::ModelConfig& c, std::int64_t positions) {
    const model::RopeTable rope(c, positions);
    const std::int64_t half = c.head_dim / 2;
    const auto sz = [](std::int64_t n) { return static_cast<std::size_t>(n); };
    RopeFloats t{std::vector<float>(sz(positions * half)), std::vector<float>(sz(positions * half))};
    for (std::int64_t p = 0; p < positions; ++p)
        for (std::int64_t i = 0; i < half; ++i) {
            t.cos[sz(p * half + i)] = static_cast<float>(rope.cos_at(p, i));
            t.sin[sz(p * half + i)] = static_cast<float>(rope.sin_at(p, i));
        }
    return t;
}

void upload_rope_table(ForwardEngine& engine, const model::ModelConfig& c, std::int64_t positions) {
    const RopeFloats t = rope_floats(c, positions);
    engine.upload_rope(t.cos, t.sin);
}

ActivationQuant device_activation_quant(std::string_view name) {
    ActivationQuant q;
    if (name.empty()) return q;
    const auto plan = quant::parse_activation_plan(name);  // E6804 when malformed
    if (!plan) {
        (void)model::activation_format(name);  // E5510 when unknown
        if (name != "int8_per_token")         // a row added to model's table without a GPU kernel
            throw_internal("E8191", fmt::format("activation format {} of the model's table has no GPU kernel", name));
        q.kind = ActivationQuant::Kind::int8_per_token;
        return q;
    }
    const quant::ActivationOperand& lin = plan->linear;
    if (gpu_activation_row(lin) == GpuActRow::int_symmetric) {  // symmetric integer, FP16 scales: act_int_symmetric
        q.kind = ActivationQuant::Kind::int_symmetric;
        q.bits = quant::element_type(*lin.spec->format->element).bits;
        q.group = lin.spec->granularity.group_cols;
    } else {
        q.kind = ActivationQuant::Kind::row_format;
        q.format = act_row_format(lin);  // E8190 when the table has no row for it
    }
    if (plan->attention) {
        q.attention = true;
        q.attention_format = act_row_format(*plan->attention);
    }
    return q;
}

struct CudaModel::Impl {
    DeviceInfo device;
    model::ModelConfig config;
    std::int64_t max_tokens = 0;
    std::unique_ptr<ForwardEngine> engine;

    void open(const model::ModelConfig& c, const std::string& where, int index, std::int64_t tokens, bool tf32) {
        check_supported(c, where);
        device = open_device(index);
        config = c;
        max_tokens = tokens;
        engine.reset(backend_api().make_forward(index, c, c.n_layers, tokens, tf32));
        upload_rope_table(*engine, c, tokens);
    }
};

CudaModel::CudaModel(const model::LazyModel& source, int device, std::int64_t max_tokens, ProgressSink progress_sink, bool tf32)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.open(source.config(), source.source_path(), device, max_tokens, tf32);
    const auto& c = m.config;
    Progress progress(progress_sink ? progress_sink : ProgressSink([](const ProgressUpdate&) {}), "upload blocks to the GPU",
                      static_cast<std::size_t>(c.n_layers));
    m.engine->upload_embedding(source.token_embedding());
    for (int l = 0; l < c.n_layers; ++l) {
        m.engine->upload_block(l, source.layer(l));  // one FP32 block on the host at a time
        progress.advance();
    }
    progress.finish();
    const model::Matrix head = c.tied_embeddings ? model::Matrix() : source.output();
    m.engine->upload_head(source.output_norm(), c.tied_embeddings ? nullptr : &head);
}

CudaModel::CudaModel(const model::ModelWeights& w, int device, std::int64_t max_tokens, bool tf32)
    : impl_(std::make_unique<Impl>()) {
    Impl& m = *impl_;
    m.open(w.config, w.source_path, device, max_tokens, tf32);
    m.engine->upload_embedding(w.token_embedding);
    for (int l = 0; l < w.config.n_layers; ++l) m.engine->upload_block(l, w.layers[static_cast<std::size_t>(l)]);
    m.engine->upload_head(w.output_norm, w.output.size() ? &w.output : nullptr);
}

CudaModel::~CudaModel() = default;

const model::ModelConfig& CudaModel::config() const { return impl_->config; }
const DeviceInfo& CudaModel::device() const { return impl_->device; }
std::size_t CudaModel::peak_device_bytes() const { return impl_->engine->peak_device_bytes(); }
std::size_t CudaModel::device_bytes() const { return impl_->engine->device_bytes(); }
void CudaModel::set_activation_quant(const ActivationQuant& quant) { impl_->engine->set_activation_quant(quant); }

namespace {

void check_tokens(std::span<const std::int32_t> tokens, const model::ModelConfig& c, std::int64_t max_tokens) {
    if (tokens.empty()) throw_bad_value("E8106", "tokens", "cannot run the model on an empty sequence", "at least 1 token", "0");
    if (static_cast<std::int64_t>(tokens.size()) > max_tokens)
        throw_internal("E8111", fmt::format("sequence of {} tokens exceeds the {} the CUDA model was sized for", tokens.size(),
                                            max_tokens));
    for (std::size_t t = 0; t < tokens.size(); ++t)
        if (tokens[t] < 0 || tokens[t] >= c.vocab_size)
            throw_bad_value("E8107", "token " + std::to_string(t), "token id outside the vocabulary",
                            "0.." + std::to_string(c.vocab_size - 1), std::to_string(tokens[t]),
                            "the tokenizer and the model disagree on the vocabulary");
}

}  // namespace

model::Matrix CudaModel::logits(std::span<const std::int32_t> tokens, std::int64_t first_row) {
    Impl& m = *impl_;
    check_tokens(tokens, m.config, m.max_tokens);
    const auto S = static_cast<std::int64_t>(tokens.size());
    const std::int64_t from = std::min<std::int64_t>(std::max<std::int64_t>(first_row, 0), S);
    model::Matrix out(S, m.config.vocab_size);
    m.engine->logits(tokens, from, out.row(from < S ? from : 0));
    return out;
}

std::vector<double> CudaModel::next_token_nll(std::span<const std::int32_t> tokens, std::int64_t first_target,
                                              std::int64_t end_target) {
    Impl& m = *impl_;
    check_tokens(tokens, m.config, m.max_tokens);
    const auto S = static_cast<std::int64_t>(tokens.size());
    if (first_target < 1 || end_target > S || first_target > end_target)
        throw_internal("E8112", fmt::format("next_token_nll targets [{}, {}) outside 1..{}", first_target, end_target, S));
    std::vector<double> nll(static_cast<std::size_t>(end_target - first_target));
    m.engine->next_token_nll(tokens, first_target, end_target, nll.data());
    return nll;
}

}  // namespace halo::cuda
