// A model opened lazily: the files are memory-mapped and every tensor's presence and shape is
// checked against the config up front (metadata only, nothing converted), then each piece is
// materialised to FP32 on demand and owned by the caller, who frees it when done. This is what
// lets quantize and eval keep one decoder block resident at a time (model/streaming_*,
// quant/streaming_quantizer): peak memory grows with one block, not with the model.
//
// Sources: a GGUF file (any type of the dequant table), or a safetensors checkpoint directory,
// single (model.safetensors) or sharded (model.safetensors.index.json), F32/F16/BF16. After a
// tensor is converted its mapped pages are dropped from the resident set (MappedFile::release),
// so reading a 14 GB checkpoint block by block does not count 14 GB against the process.
//
// load_model(path) is LazyModel(path).load_all(): the eager and the streaming paths convert
// every tensor with the same code, so their weights are bit-identical.
//
// Errors (bad input, exit 2), all at construction: what the readers reject (E50xx GGUF, E52xx
// safetensors: a missing shard file E0001, a tensor in two shards E5212, an index naming a
// tensor its shard lacks E5210), config errors (E5220/E5305), a missing tensor (E5301) or a
// shape that disagrees with the config (E5302). A non-finite weight is E5303 when materialised.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "halo/model/weights.hpp"

namespace halo::model {

class LazyModel {
public:
    explicit LazyModel(const std::filesystem::path& path);
    ~LazyModel();
    LazyModel(const LazyModel&) = delete;
    LazyModel& operator=(const LazyModel&) = delete;

    const ModelConfig& config() const;
    const std::string& source_path() const;
    const std::string& source_format() const;  // "gguf:Q4_1", "safetensors:bf16"

    // config, source and n_layers empty LayerWeights; no tensor data.
    ModelWeights skeleton() const;
    Matrix token_embedding() const;        // [vocab x d_model]
    LayerWeights layer(int index) const;   // block `index`, FP32, Q/K rows in HF order
    std::vector<float> output_norm() const;
    Matrix output() const;                 // [vocab x d_model]; empty when tied to the embedding
    // FP32 bytes of one decoder block and of the whole model (for memory planning and messages).
    std::int64_t layer_bytes() const;
    std::int64_t model_bytes() const;

    // Everything, as load_model returns it.
    ModelWeights load_all() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace halo::model
