#include "halo/model/perplexity_text.hpp"

#include <chrono>

#include "halo/model/gguf_reader.hpp"
#include "halo/model/input_checks.hpp"
#include "halo/util/atomic_file.hpp"

namespace halo::model {

TextPerplexity perplexity_of_text(const ModelWeights& weights, const Tokenizer& tokenizer,
                                  const std::filesystem::path& text_file, PerplexityOptions options,
                                  const ForwardOptions& forward) {
    const std::string text = read_file(text_file);
    if (options.text_name.empty()) options.text_name = text_file.string();
    const std::vector<std::int32_t> tokens = text.empty() ? std::vector<std::int32_t>{} : tokenizer.encode(text, false);
    TextPerplexity out;
    out.text_tokens = static_cast<std::int64_t>(tokens.size());
    check_ctx_fits(weights.config, options.ctx);
    const auto t0 = std::chrono::steady_clock::now();
    out.result = perplexity(weights, tokens, options, forward);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    check_finite_result(out.result.perplexity, "perplexity",
                        weights.source_path.empty() ? weights.config.name : weights.source_path, options.text_name);
    return out;
}

bool model_adds_bos(const std::filesystem::path& model_path) {
    if (model_path.extension() != ".gguf") return false;
    const GgufFile file(model_path);
    return file.get_bool("tokenizer.ggml.add_bos_token").value_or(false);
}

}  // namespace halo::model
