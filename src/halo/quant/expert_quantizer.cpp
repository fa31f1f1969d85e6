#include "halo/quant/expert_quantizer.hpp"

#include <chrono>

#include <fmt/format.h>

#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {

void quantize_block_experts(model::LayerWeights& layer, int l, const MethodTraits& m, const MethodSettings& settings,
                            const std::vector<model::ExpertInputStats>& stats, const model::FisherDiagonal* fisher,
                            QuantizedModel& out, Progress& progress) {
    const bool with_stats = !stats.empty();
    if (with_stats && stats.size() != layer.experts.size())
        throw_internal("E6161", fmt::format("block {}: statistics for {} experts, the block has {}", l, stats.size(),
                                            layer.experts.size()));
    ExpertTokens coverage{l, {}};
    std::int64_t pairs = 0;  // (token, expert) pairs of the block: tokens x top-k
    for (const auto& st : stats) pairs += st[0].tokens;
    const model::LinearInputStats none{};
    for (std::size_t e = 0; e < layer.experts.size(); ++e) {
        const std::string place = fmt::format("blk.{}.ffn_*_exps expert {}", l, e);
        if (with_stats) {
            const std::int64_t routed = stats[e][0].tokens;  // rows the expert's gate saw
            coverage.tokens.push_back(routed);
            if (routed == 0 && (m.needs_gram || m.needs_channel_stats))
                throw_bad_value("E6160", place, fmt::format("expert saw no calibration token, {} cannot calibrate it", m.name),
                                "at least 1 routed token", fmt::format("0 of the block's {} token-expert pairs", pairs),
                                "use more or longer calibration samples (--samples, --seq-len)");
        }
        for (auto k : model::kExpertKinds) {
            const auto t0 = std::chrono::steady_clock::now();
            model::Matrix& w = layer.experts[e][k];
            check_finite(w, fmt::format("blk.{}.{}_exps.weight[{}]", l, model::linear_name(k), e));
            const model::LinearInputStats& st = with_stats ? stats[e][model::ExpertWeights::slot(k)] : none;
            const LayerInput input{w, st, fisher ? &fisher->at(l, k, static_cast<int>(e)) : nullptr, st.tokens, l, k};
            LinearRecord rec = m.quantize_layer(input, settings);
            rec.layer = l;
            rec.kind = k;
            rec.expert = static_cast<int>(e);
            model::Matrix q = rec.tensor.decode();
            if (st.gram.rows == w.cols) rec.output_error = output_error(w, q, st.gram);
            w = std::move(q);
            rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            out.bits += rec.tensor.bits();
            out.linears.push_back(std::move(rec));
            progress.advance();
        }
    }
    if (with_stats) out.expert_tokens.push_back(std::move(coverage));
}

std::vector<std::string> expert_coverage_warnings(const std::vector<ExpertTokens>& coverage, std::int64_t min_tokens) {
    std::vector<std::string> lines;
    for (const auto& block : coverage)
        for (std::size_t e = 0; e < block.tokens.size(); ++e)
            if (block.tokens[e] < min_tokens)
                lines.push_back(fmt::format("block {} expert {}: {} calibration tokens (< {})", block.layer, e, block.tokens[e],
                                            min_tokens));
    return lines;
}

}  // namespace halo::quant
