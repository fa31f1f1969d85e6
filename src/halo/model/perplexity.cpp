#include "halo/model/perplexity.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "halo/model/forward_ops.hpp"
#include "halo/model/parallel_ops.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {

namespace {

void check_nll(const std::vector<double>& nll, std::int64_t want) {
    if (static_cast<std::int64_t>(nll.size()) != want)
        throw_internal("E5522", "NLL function returned " + std::to_string(nll.size()) + " values for " + std::to_string(want) + " targets");
}

void add(const std::vector<double>& nll, PerplexityResult& r) {
    for (double v : nll) {
        r.nll_sum += v;
        ++r.tokens_scored;
    }
}

}  // namespace

std::string_view method_name(PerplexityMethod m) { return m == PerplexityMethod::llamacpp ? "llamacpp" : "hf"; }

PerplexityMethod parse_method(std::string_view name) {
    if (name == "llamacpp") return PerplexityMethod::llamacpp;
    if (name == "hf") return PerplexityMethod::hf;
    throw_bad_value("E5521", "--method", "unknown perplexity method", "llamacpp or hf", std::string(name));
}

PerplexityResult perplexity(const LogitsFn& logits_fn, std::span<const std::int32_t> text_tokens,
                            const PerplexityOptions& o) {
    const NllFn nll = [&](std::span<const std::int32_t> window, std::int64_t first_target, std::int64_t end_target) {
        const Matrix logits = logits_fn(window, first_target - 1);
        if (logits.rows != static_cast<std::int64_t>(window.size()) || logits.cols <= 0)
            throw_internal("E5523", "logits function returned " + std::to_string(logits.rows) + " rows for a window of " +
                                        std::to_string(window.size()) + " tokens");
        if (end_target <= first_target) return std::vector<double>{};
        return token_nlls(logits, first_target - 1,
                          window.subspan(static_cast<std::size_t>(first_target),
                                         static_cast<std::size_t>(end_target - first_target)));
    };
    return perplexity(nll, text_tokens, o);
}

PerplexityResult perplexity(const NllFn& nll_fn, std::span<const std::int32_t> text_tokens, const PerplexityOptions& o) {
    const std::string where = o.text_name.empty() ? "tokens" : o.text_name;
    if (o.ctx < 4) throw_bad_value("E5521", "--ctx", "context too small for perplexity", ">= 4", std::to_string(o.ctx));
    const int stride = o.method == PerplexityMethod::hf ? (o.stride > 0 ? o.stride : o.ctx / 2) : 0;
    if (stride > o.ctx) {
        throw_bad_value("E5521", "--stride", "stride larger than the context leaves tokens unscored",
                        "1.." + std::to_string(o.ctx), std::to_string(stride));
    }
    std::vector<std::int32_t> tokens;
    tokens.reserve(text_tokens.size() + 1);
    if (o.bos >= 0) tokens.push_back(o.bos);
    tokens.insert(tokens.end(), text_tokens.begin(), text_tokens.end());
    const auto N = static_cast<std::int64_t>(tokens.size());
    if (text_tokens.empty() || N < o.ctx) {
        throw_bad_input("E5520", where, 0, "text too short for one perplexity chunk",
                        "at least " + std::to_string(o.ctx) + " tokens", std::to_string(N) + " tokens",
                        "use a longer text or a smaller --ctx");
    }

    PerplexityResult r;
    r.method = o.method;
    r.ctx = o.ctx;
    r.stride = stride;
    std::vector<std::int32_t> window;
    if (o.method == PerplexityMethod::llamacpp) {
        std::int64_t chunks = N / o.ctx;
        if (o.max_chunks >= 0) chunks = std::min<std::int64_t>(chunks, o.max_chunks);
        Progress progress(o.progress ? o.progress : ProgressSink([](const ProgressUpdate&) {}), "perplexity chunks",
                          static_cast<std::size_t>(chunks));
        const std::int64_t first = o.ctx / 2;
        for (std::int64_t c = 0; c < chunks; ++c) {
            window.assign(tokens.begin() + c * o.ctx, tokens.begin() + (c + 1) * o.ctx);
            if (o.bos >= 0) window[0] = o.bos;
            const auto nll = nll_fn(window, first + 1, o.ctx);
            check_nll(nll, o.ctx - first - 1);
            add(nll, r);
            r.tokens_evaluated += o.ctx;
            ++r.chunks;
            progress.advance();
        }
        progress.finish();
    } else {
        // Windows start at 0, stride, 2*stride, ... until one reaches the end of the stream.
        const std::int64_t total_windows = N <= o.ctx ? 1 : 1 + (N - o.ctx + stride - 1) / stride;
        const std::int64_t windows =
            o.max_chunks >= 0 ? std::min<std::int64_t>(total_windows, o.max_chunks) : total_windows;
        Progress progress(o.progress ? o.progress : ProgressSink([](const ProgressUpdate&) {}), "perplexity windows",
                          static_cast<std::size_t>(windows));
        std::int64_t prev_end = 0;
        for (std::int64_t w = 0; w < windows; ++w) {
            const std::int64_t begin = w * stride;
            const std::int64_t end = std::min<std::int64_t>(begin + o.ctx, N);
            window.assign(tokens.begin() + begin, tokens.begin() + end);
            // Score targets [prev_end, end) (never the window's own first token).
            const std::int64_t first_target = std::max<std::int64_t>(prev_end - begin, 1);
            const auto nll = nll_fn(window, first_target, end - begin);
            check_nll(nll, end - begin - first_target);
            add(nll, r);
            r.tokens_evaluated += end - begin;
            ++r.chunks;
            prev_end = end;
            progress.advance();
        }
        progress.finish();
    }
    r.perplexity = std::exp(r.nll_sum / static_cast<double>(r.tokens_scored));
    return r;
}

PerplexityResult perplexity(const ModelWeights& weights, std::span<const std::int32_t> tokens,
                            const PerplexityOptions& options, const ForwardOptions& forward) {
    validate_weights(weights);
    const LogitsFn fn = [&](std::span<const std::int32_t> window, std::int64_t first_row) {
        ForwardOptions f = forward;
        f.logits_from_row = first_row;
        return forward_logits(weights, window, f);
    };
    return perplexity(fn, tokens, options);
}

}  // namespace halo::model
