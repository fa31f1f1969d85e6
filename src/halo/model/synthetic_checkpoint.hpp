// Synthetic checkpoints of published model shapes, for scale tests without downloads.
//
// write_synthetic_checkpoint writes a Hugging Face style directory that load_model and
// load_tokenizer accept:
//   config.json                      the shape's config (plus "halo_synthetic": {shape, seed})
//   model.safetensors                one shard, or
//   model-0000i-of-0000n.safetensors + model.safetensors.index.json (weight_map, total_size)
//   tokenizer.json, tokenizer_config.json
//                                    a byte-level BPE tokenizer: the 256 byte tokens (GPT-2 byte
//                                    alphabet, no merges) plus <s> (256) and </s> (257); every
//                                    shape's vocabulary is larger, the other ids are never
//                                    produced by the tokenizer but exist in the embedding.
//
// Values are seeded and counter-based: element i of tensor T is a function of (seed, T's name,
// i) only, so a checkpoint is the same whatever the shard count, thread count or dtype order.
//   linear W [out x in]: w = z * 0.02 * r_out * c_in, z ~ approx. N(0,1) (Irwin-Hall, 4 uniforms),
//     r_out = exp(0.25 z') a log-normal per-output-channel scale, c_in = 1 except a few outlier
//     input channels (kOutlierChannels per matrix, positions seeded) where c_in = 8. Real LLMs
//     show both: spread per-channel weight scales and a handful of large input channels.
//   norms: 1 + 0.1 z, and on a few hidden dimensions (the same for every block) 4 + 0.5 z, so the
//     residual stream carries outlier channels as trained models do.
//   embeddings / lm_head: 0.02 z.   QKV biases (qwen2.5-7b): 0.02 z, written but see below.
// ModelWeights has no bias yet: load_model ignores the bias tensors of the qwen2.5-7b shape (its
// checkpoint is still the published tensor set, for readers and size tests).
//
// Memory: tensors are generated and written in row chunks of about 4 MiB, never whole.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "halo/util/progress.hpp"

namespace halo::model {

struct SyntheticShape {
    std::string_view name;        // "llama2-7b"
    std::string_view model_type;  // config.json model_type
    int n_layers, d_model, n_heads, n_kv_heads, d_ff, vocab_size, context_length;
    double rope_theta, rms_norm_eps;
    bool qkv_bias;
    bool tied_embeddings;
    std::string_view source;  // where the numbers come from
    int n_experts = 0;        // mixture-of-experts (model_type mixtral): experts per block, 0 = dense MLP
    int n_experts_used = 0;   // experts per token (top-k)
};
// The table: tinyllama-1.1b, llama2-7b, llama3-8b, qwen2.5-7b, mixtral-8x7b, smollm2-135m (the
// default model's shape, tied embeddings), test-tiny (a 2-block
// model for unit tests) and test-tiny-moe (test-tiny's attention with 8 experts, top-2, Mixtral's
// tensor names: block_sparse_moe.gate, block_sparse_moe.experts.E.w1/w2/w3).
std::span<const SyntheticShape> synthetic_shapes();
// Unknown name: bad value E5600 listing the shapes.
const SyntheticShape& synthetic_shape(std::string_view name);

struct SyntheticOptions {
    std::string dtype = "bf16";  // f32, f16, bf16
    int shards = 1;
    std::uint64_t seed = 1;
    unsigned threads = 0;  // generation threads (0 = all cores)
    bool overwrite = false;
    ProgressSink progress;  // one update per tensor
};

struct SyntheticSummary {
    std::int64_t parameters = 0;
    std::int64_t bytes = 0;  // tensor data, all shards
    int shards = 0;
};

// Writes the checkpoint into `dir` atomically (staged as <dir>.partial). Bad dtype or shard
// count: E5601; an existing dir without overwrite: E0003.
SyntheticSummary write_synthetic_checkpoint(const std::filesystem::path& dir, const SyntheticShape& shape,
                                            const SyntheticOptions& options);

// One synthetic value of a tensor (the generator above), exposed for tests.
float synthetic_value(std::uint64_t tensor_seed, std::uint64_t index);

}  // namespace halo::model
