#include "halo/quant/model_quantizer.hpp"

#include <array>
#include <chrono>
#include <optional>
#include <random>
#include <cmath>

#include <fmt/format.h>

#include "halo/quant/device_backend.hpp"
#include "halo/quant/expert_quantizer.hpp"
#include "halo/quant/mixed_types.hpp"
#include "halo/quant/smoothquant.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {

namespace {
constexpr CalibrationInputsTraits kCalibrationInputs[] = {
    {CalibrationInputs::sequential, "sequential", "block l calibrated on the outputs of the quantized blocks before it (default)"},
    {CalibrationInputs::unquantized, "unquantized", "every block on the unquantized model's hidden states"},
};
}  // namespace

std::span<const CalibrationInputsTraits> calibration_inputs_modes() { return kCalibrationInputs; }

const CalibrationInputsTraits& calibration_inputs(std::string_view name) {
    std::string names;
    for (const auto& m : kCalibrationInputs) {
        if (m.name == name) return m;
        names += fmt::format("{}{}", names.empty() ? "" : " or ", m.name);
    }
    throw_bad_value("E6195", "--calib-inputs", "unknown calibration inputs", names, std::string(name));
}
namespace {

// The per-layer entry points, one per row.
LinearRecord rtn_layer(const LayerInput& in, const MethodSettings& s) {
    LinearRecord rec;
    rec.tensor = quantize_rtn(in.weight, *s.spec);
    return rec;
}

LinearRecord gptq_layer(const LayerInput& in, const MethodSettings& s) {
    GptqOptions g = s.options->gptq;
    g.threads = s.options->threads;
    g.device = s.options->device;
    g.phases = s.options->phases;
    LinearRecord rec;
    rec.tensor = quantize_gptq(in.weight, in.stats.gram, *s.spec, g);
    return rec;
}

LinearRecord awq_layer(const LayerInput& in, const MethodSettings& s) {
    AwqOptions a = s.options->awq;
    a.threads = s.options->threads;
    a.device = s.options->device;
    auto r = quantize_awq(in.weight, in.stats.gram, in.stats.abs_mean, *s.spec, a);
    LinearRecord rec;
    rec.awq_alpha = r.alpha;
    rec.tensor = std::move(r.tensor);
    return rec;
}

LinearRecord kmeans_layer(const LayerInput& in, const MethodSettings& s) {
    KmeansOptions ko = s.options->kmeans;
    ko.bits = s.spec->element_bits();
    std::vector<float> hdiag;
    for (std::int64_t j = 0; j < in.stats.gram.rows; ++j) hdiag.push_back(in.stats.gram.at(j, j));
    LinearRecord rec;
    rec.tensor = quantize_kmeans(in.weight, s.options->kmeans_fisher ? in.fisher : nullptr, hdiag, ko);
    return rec;
}

// Flags of `halo quantize` that only some methods take (the grid flags: every uniform-grid row).
constexpr std::string_view kGridFlags[] = {"--format", "--bits", "--asym", "--group", "--tile", "--scale-format",
                                           "--codebook", "--act-format"};
constexpr std::string_view kGptqFlags[] = {"--format", "--bits", "--asym", "--group", "--tile", "--scale-format",
                                           "--codebook", "--act-format", "--act-order", "--damp", "--block-size", "--calib-int8-inputs"};
constexpr std::string_view kKmeansFlags[] = {"--bits", "--format", "--sparse-fraction", "--sensitivity", "--act-format"};
constexpr std::string_view kSmoothFlags[] = {"--format", "--bits", "--asym", "--group", "--tile", "--scale-format",
                                             "--codebook", "--smooth-alpha"};
// Every method-specific flag of any row, quant's and HALO's (halo/method_row.cpp lists HALO's).
constexpr std::string_view kAllMethodFlags[] = {
    "--format", "--bits", "--asym", "--group", "--tile", "--scale-format", "--codebook", "--act-format", "--act-order",
    "--damp", "--block-size", "--sparse-fraction", "--sensitivity", "--smooth-alpha", "--profile", "--objective", "--levels",
    "--counts", "--voltage-step", "--level-voltages", "--vt", "--alpha", "--guard-band", "--timing", "--budget", "--max-codes", "--salient",
    "--outlier-sigma", "--sparse-grid", "--no-gptq", "--level-codes", "--assign", "--level-shares", "--rank", "--quantize-head",
    "--calib-int8-inputs"};

constexpr std::array<MethodTraits, 5> kMethods = {{
    {Method::rtn, "rtn", false, false, false, "", "round to nearest, per group/channel/tile", false, false, false, kGridFlags,
     rtn_layer},
    {Method::gptq, "gptq", true, false, true, "", "GPTQ: error feedback through the inverse Hessian", true, false, false,
     kGptqFlags, gptq_layer},
    {Method::awq, "awq", true, true, true, "", "AWQ: activation-aware per-channel scales + clip search", true, false, false,
     kGridFlags, awq_layer},
    {Method::kmeans, "kmeans", false, false, false, "", "SqueezeLLM: sensitivity-weighted k-means per row, dense-and-sparse",
     true, true, false, kKmeansFlags, kmeans_layer},
    {Method::smoothquant, "smoothquant", false, true, false, "int8_per_token",
     "SmoothQuant: smoothing folded into norms, W RTN, A8 per token", true, false, false, kSmoothFlags, rtn_layer},
}};

using model::LinearKind;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::span<const MethodTraits> methods() { return kMethods; }
const MethodTraits& method(std::string_view name) {
    for (const auto& m : kMethods)
        if (m.name == name) return m;
    std::string names;
    for (const auto& m : kMethods) names += fmt::format("{}{}", names.empty() ? "" : ", ", m.name);
    throw_bad_value("E6007", "--method", "unknown quantization method", names, std::string(name));
}
std::span<const std::string_view> method_specific_flags() { return kAllMethodFlags; }

void MethodRegistry::add(const MethodTraits& row) {
    for (const auto& r : rows_)
        if (r.name == row.name) throw_internal("E6033", fmt::format("quantization method \"{}\" registered twice", row.name));
    rows_.push_back(row);
}

std::string MethodRegistry::names() const {
    std::string s;
    for (const auto& r : rows_) s += fmt::format("{}{}", s.empty() ? "" : ", ", r.name);
    return s;
}

const MethodTraits& MethodRegistry::find(std::string_view name) const {
    for (const auto& r : rows_)
        if (r.name == name) return r;
    throw_bad_value("E6007", "--method", "unknown quantization method", names(), std::string(name));
}

void register_quant_methods(MethodRegistry& registry) {
    for (const auto& m : kMethods) registry.add(m);
}

LayerwiseSource::LayerwiseSource(const model::ModelWeights& weights, std::vector<std::vector<std::int32_t>> samples,
                                 unsigned threads, const model::ForwardHooks* hooks)
    : cal_(weights, [&] {
          for (const auto& s : samples) tokens_ += static_cast<std::int64_t>(s.size());
          return std::move(samples);
      }(), threads, hooks) {}

model::LinearInputStats CalibrationSource::capture_head(const model::StatsRequest&) {
    throw_usage("E6051", "this calibration source cannot capture the LM head's input (--quantize-head needs a source that "
                         "keeps the hidden states after the last block: the CPU's or the CUDA one)");
}

std::array<model::LinearInputStats, 7> LayerwiseSource::capture(int layer, const model::StatsRequest& request) {
    return cal_.capture(layer, request);
}

std::vector<std::vector<std::int32_t>> calibration_samples(std::span<const std::int32_t> tokens, int samples, int seq_len,
                                                           const std::string& text_name, std::uint64_t seed) {
    if (samples < 1 || seq_len < 2)
        throw_bad_value("E6008", "--samples/--seq-len", "calibration needs at least 1 sample of at least 2 tokens",
                        "--samples >= 1, --seq-len >= 2", fmt::format("{} x {}", samples, seq_len));
    const auto need = static_cast<std::int64_t>(samples) * seq_len;
    if (static_cast<std::int64_t>(tokens.size()) < need)
        throw_bad_value("E6008", text_name, "calibration text is too short for the samples asked",
                        fmt::format("{} tokens ({} samples x {})", need, samples, seq_len),
                        fmt::format("{} tokens", tokens.size()), "use a longer text or fewer --samples / a shorter --seq-len");
    std::vector<std::vector<std::int32_t>> out;
    const auto n = static_cast<std::int64_t>(tokens.size());
    std::mt19937_64 rng(seed);
    for (int i = 0; i < samples; ++i) {
        if (seed != 0) {
            // The raw engine output (not a distribution: those differ between libraries).
            const std::int64_t start = static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n - seq_len + 1));
            out.emplace_back(tokens.begin() + start, tokens.begin() + start + seq_len);
            continue;
        }
        // Evenly spread, non-overlapping windows.
        const std::int64_t start = samples == 1 ? 0 : (n - seq_len) * i / (samples - 1);
        out.emplace_back(tokens.begin() + start, tokens.begin() + start + seq_len);
    }
    return out;
}

namespace {
// QuantizeOptions::quantize_head: the head as one more linear of the method's (cal: advanced
// through every block, or null: no statistics).
HeadRecord quantize_head_uniform(model::ModelWeights& weights, const MethodTraits& m, const MethodSettings& settings,
                                 CalibrationSource* cal) {
    const QuantizeOptions& opt = *settings.options;
    const auto tk = std::chrono::steady_clock::now();
    HeadRecord head;
    head.tied = weights.output.size() == 0;
    const model::Matrix& w = weights.lm_head();
    check_finite(w, head.tied ? "token_embd.weight (tied LM head)" : "output.weight");
    model::LinearInputStats st;
    if (cal) {
        PhaseTimer timer(phase_slot(opt.phases, &PhaseSeconds::capture));
        st = cal->capture_head({.gram = m.needs_gram, .channel_stats = m.needs_channel_stats});
    }
    const LayerInput input{w, st, nullptr, cal ? cal->tokens() : 0, static_cast<int>(weights.layers.size()), model::LinearKind::attn_q};
    head.tensor = m.quantize_layer(input, settings).tensor;
    model::Matrix q = head.tensor.decode(opt.threads);
    if (st.gram.rows == w.cols) head.output_error = output_error(w, q, st.gram);
    weights.output = std::move(q);  // a tied model: the lookup keeps token_embedding, the GEMM uses these
    head.seconds = seconds_since(tk);
    return head;
}
}  // namespace

QuantizedModel quantize_model(model::ModelWeights& weights, const QuantizeOptions& opt, CalibrationSource* cal,
                              const model::FisherDiagonal* fisher) {
    const auto t0 = std::chrono::steady_clock::now();
    if (static_cast<std::size_t>(opt.method) >= kMethods.size())
        throw_internal("E6034", "quantize_model runs quant's own rows; HALO runs through its own block driver");
    const MethodTraits& m = kMethods[static_cast<std::size_t>(opt.method)];
    const QuantSpec spec = make_spec(opt.format, opt.granularity, opt.scale, opt.codebook);
    const MethodSettings settings{&opt, &spec, nullptr};
    const bool want_stats = m.needs_gram || m.needs_channel_stats || (opt.method == Method::kmeans && !opt.kmeans_fisher);
    if (m.error_feedback) check_error_feedback(spec, m.name);
    if ((m.needs_gram || m.needs_channel_stats) && !cal)
        throw_bad_value("E6008", "--calib", fmt::format("method {} needs calibration data", m.name), "a calibration text",
                        "none");
    if (opt.method == Method::kmeans && opt.kmeans_fisher && !fisher)
        throw_bad_value("E6008", "--sensitivity", "k-means with Fisher sensitivity needs the Fisher diagonal", "fisher",
                        "none");
    if (opt.method == Method::kmeans && !spec.format->element)
        throw_bad_value("E6007", "--format", "k-means builds its own codebooks", "an integer format giving the bits",
                        std::string(spec.format->name));

    QuantizedModel out;
    out.method = std::string(m.name);
    out.spec = opt.method == Method::kmeans ? fmt::format("kmeans {}-bit per-row codebooks", spec.element_bits()) : spec.describe();
    out.activation_format = std::string(m.activation_format);
    const int n_layers = static_cast<int>(weights.layers.size());
    const model::ModelConfig& config = weights.config;
    const std::size_t per_block = config.moe() ? 4 + 3 * static_cast<std::size_t>(config.n_experts) : 7;
    Progress progress(opt.progress ? opt.progress : ProgressSink([](const ProgressUpdate&) {}), "quantize linears",
                      static_cast<std::size_t>(n_layers) * per_block);
    for (int l = 0; l < n_layers; ++l) {
        auto& layer = weights.layers[static_cast<std::size_t>(l)];
        for (auto k : model::kLinearKinds)
            check_finite(layer[k], fmt::format("blk.{}.{}.weight", l, model::linear_name(k)));
        std::array<model::LinearInputStats, 7> stats{};
        std::vector<model::ExpertInputStats> expert_stats;  // a MoE block's, from its routed tokens
        if (cal && want_stats) {
            model::StatsRequest req;
            req.gram = m.needs_gram || opt.method == Method::kmeans;
            req.channel_stats = m.needs_channel_stats;
            PhaseTimer timer(phase_slot(opt.phases, &PhaseSeconds::capture));
            stats = cal->capture(l, req);
            if (config.moe()) expert_stats = cal->take_expert_stats();
        }
        // --calib-inputs unquantized: the next block is calibrated through this one as it was.
        std::optional<model::LayerWeights> unquantized;
        if (cal && want_stats && opt.calib_inputs == CalibrationInputs::unquantized) unquantized = layer;
        if (opt.method == Method::smoothquant)
            for (auto& v : smooth_block(layer, l, stats, expert_stats, opt.smooth_alpha, config.norm_weight_plus_one))
                out.vectors.push_back(std::move(v));
        for (auto k : model::kLinearKinds) {
            if (config.moe() && model::is_expert_kind(k)) continue;  // the experts hold the FFN: below
            const auto tk = std::chrono::steady_clock::now();
            model::Matrix& w = layer[k];
            const auto& st = stats[static_cast<std::size_t>(k)];
            const LayerInput input{w, st, fisher ? &fisher->at(l, k) : nullptr, cal ? cal->tokens() : 0, l, k};
            LinearRecord rec = m.quantize_layer(input, settings);  // the row's per-layer entry point
            rec.layer = l;
            rec.kind = k;
            model::Matrix q;
            {
                PhaseTimer timer(phase_slot(opt.phases, &PhaseSeconds::decode));
                q = rec.tensor.decode(opt.threads);
            }
            if (st.gram.rows == w.cols) {
                PhaseTimer timer(phase_slot(opt.phases, &PhaseSeconds::output_error));
                rec.output_error = opt.device ? opt.device->output_error(w, q, st.gram) : output_error(w, q, st.gram);
            }
            w = std::move(q);
            rec.seconds = seconds_since(tk);
            out.bits += rec.tensor.bits();
            out.linears.push_back(std::move(rec));
            progress.advance();
        }
        if (config.moe())
            quantize_block_experts(layer, l, m, settings, expert_stats, fisher, out, progress);
        if (cal && want_stats) {
            PhaseTimer timer(phase_slot(opt.phases, &PhaseSeconds::advance));
            if (unquantized) std::swap(layer, *unquantized);  // the source reads weights.layers[l]
            cal->advance(l);
            if (unquantized) std::swap(layer, *unquantized);
        }
    }
    if (opt.quantize_head) out.head = quantize_head_uniform(weights, m, settings, cal && want_stats ? cal : nullptr);
    progress.finish();
    out.seconds = seconds_since(t0);
    return out;
}

}  // namespace halo::quant
