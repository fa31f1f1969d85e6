// Calibration for a model with ONE decoder block resident (the streaming quantizer): the
// hidden states of every sample live in an ActivationStore (memory or a spill file), and the
// resident block is layers[0] of a one-block ModelWeights the caller swaps block by block.
//   BlockStreamCalibration cal(block_model, samples, ...);   // embeds with block_model.token_embedding
//   for each block l: block_model.layers[0] = lazy.layer(l);
//       stats = cal.capture(request);  quantize layers[0];  cal.advance();
// The arithmetic is LayerwiseCalibration's (same block_forward calls, same LinearStatsAccumulator,
// same sample order), so statistics and codes are bit-identical to the in-memory path.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "halo/model/activation_store.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/weights.hpp"

namespace halo::model {

class BlockStreamCalibration {
public:
    // `block_model`: config, token_embedding (read here only; the caller may free it after) and
    // layers.size() == 1. It must outlive this object; layers[0] is read at capture/advance.
    // `hooks` (optional, must outlive this): LayerwiseCalibration's, the activation quantization
    // of the evaluation (--calib-int8-inputs); they must not depend on the layer index, which is
    // the resident block's 0 here (INT8 per token does not).
    BlockStreamCalibration(const ModelWeights& block_model, const std::vector<std::vector<std::int32_t>>& samples,
                           unsigned threads, std::int64_t memory_budget_bytes, const std::filesystem::path& spill_dir = {},
                           const ForwardHooks* hooks = nullptr);

    std::array<LinearInputStats, 7> capture(const StatsRequest& request);
    void advance();
    // After the last block's advance(): the LM head's input statistics (the final RMSNorm with
    // `output_norm` of the hidden states), LayerwiseCalibration::capture_head's arithmetic, so
    // a streamed --quantize-head is bit-identical to the in-memory one (the hooks' lm_head_input too).
    LinearInputStats capture_head(const StatsRequest& request, std::span<const float> output_norm);
    std::int64_t tokens() const { return tokens_; }
    const ActivationStore& store() const { return store_; }

private:
    const ModelWeights* model_;
    unsigned threads_;
    const ForwardHooks* hooks_ = nullptr;
    std::int64_t max_tokens_ = 0, tokens_ = 0;
    ActivationStore store_;
};

}  // namespace halo::model
