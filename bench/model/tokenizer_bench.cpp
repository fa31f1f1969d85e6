// Tokenizer throughput on 1 MB of real text (the first 1,000,000 bytes of data/text/calib.txt,
// cut back to a line end), one thread, for each tokenizer kind: the default model's GPT-2 BPE,
// the same byte-level BPE vocabulary under the Llama-3 and the Qwen2 pre-tokenizers (their split
// patterns; the vocabulary is not theirs, the split and merge work per byte is what is measured),
// and SentencePiece on a vocabulary of the same pieces (tests/unit/model/spm_from_bpe_vocab.hpp).
// Issue #17's bar: each under 1 s. Results: docs/results/model.md.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "../../tests/unit/model/spm_from_bpe_vocab.hpp"
#include "halo/model/bpe_tokenizer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/util/atomic_file.hpp"

namespace {

using namespace halo::model;

std::string one_megabyte_text() {
    std::string text = halo::read_file(default_calib_text_path());
    text.resize(std::min<std::size_t>(text.size(), 1000000));
    text.resize(text.rfind('\n') + 1);
    return text;
}

bool have_data(benchmark::State& state) {
    if (std::filesystem::exists(default_model_path()) && std::filesystem::exists(default_calib_text_path())) return true;
    state.SkipWithError("model or text not installed: run scripts/setup.sh data");
    return false;
}

void run(benchmark::State& state, const Tokenizer& tok) {
    const std::string text = one_megabyte_text();
    std::size_t tokens = 0;
    for (auto _ : state) tokens = tok.encode(text, false).size();
    state.counters["bytes"] = static_cast<double>(text.size());
    state.counters["tokens"] = static_cast<double>(tokens);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}

void BM_Tokenize1MB_Bpe(benchmark::State& state) {
    if (!have_data(state)) return;
    const auto tok = bpe_from_gguf(GgufFile(default_model_path()));
    run(state, *tok);
}
BENCHMARK(BM_Tokenize1MB_Bpe)->Unit(benchmark::kMillisecond)->Iterations(3);

// The default model's vocabulary and merges under another pre-tokenizer (GGUF tokenizer.ggml.pre).
BpeVocab default_vocab_with_pre(const std::string& pre) {
    const GgufFile f(default_model_path());
    BpeVocab v;
    v.source = f.path().string();
    v.tokens = f.find("tokenizer.ggml.tokens")->strings;
    v.merges = f.find("tokenizer.ggml.merges")->strings;
    v.pre = pre;
    return v;
}

void BM_Tokenize1MB_Llama3Bpe(benchmark::State& state) {
    if (!have_data(state)) return;
    const BpeTokenizer tok(default_vocab_with_pre("llama-bpe"));
    run(state, tok);
}
BENCHMARK(BM_Tokenize1MB_Llama3Bpe)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Tokenize1MB_Qwen2Bpe(benchmark::State& state) {
    if (!have_data(state)) return;
    const BpeTokenizer tok(default_vocab_with_pre("qwen2"));
    run(state, tok);
}
BENCHMARK(BM_Tokenize1MB_Qwen2Bpe)->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Tokenize1MB_Spm(benchmark::State& state) {
    if (!have_data(state)) return;
    const SpmTokenizer tok(halo::model::testing::spm_vocab_from_bpe_gguf(default_model_path()));
    run(state, tok);
}
BENCHMARK(BM_Tokenize1MB_Spm)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
