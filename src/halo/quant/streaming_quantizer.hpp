// Block-streaming quantization: one decoder block resident at a time.
//   open the model lazily (model::LazyModel: mmap, shapes checked, nothing converted)
//   embed the calibration samples (the embedding is then freed); hidden states go to an
//     ActivationStore (memory when they fit --activation-budget-mb, else a spill file)
//   for each block l: materialise block l (FP32) -> capture its statistics -> quantize its
//     seven linears with quantize_model on a one-block model (the same per-layer code the
//     in-memory driver runs) -> write its .hqt files at once (QuantizedDirWriter) -> advance
//     the hidden states through the quantized block -> free the block
//   write manifest.json and rename the directory into place.
// Peak memory: one FP32 block + its Gram matrices + the calibration hidden states (or one
// sample of them when spilled) + one block's codes; never the model. Every .hqt file is
// byte-identical to `quantize_model` on the whole model (tests: RTN, GPTQ, AWQ); the manifest
// differs only in timings and the "stream" entry of its flags.
// With QuantizeOptions::device (--device cuda) the hidden states live on the device instead
// of the ActivationStore (device_backend.hpp), and the budget and spill flags do not apply.
// Not streamable (bad input E6140): k-means with Fisher sensitivity (needs whole-model
// gradients); HALO has its own driver.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "halo/model/lazy_model.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/quant_dir.hpp"

namespace halo::quant {

struct StreamingQuantizeOptions {
    QuantizeOptions quantize;                          // method, format, ... (its progress is not used)
    std::vector<std::vector<std::int32_t>> samples;    // calibration; empty for methods without
    std::int64_t activation_budget_bytes = std::int64_t{2} << 30;
    std::filesystem::path spill_dir;                   // default: the system temp directory
    // --calib-int8-inputs: the calibration's activation hooks (BlockStreamCalibration's; CPU only,
    // null: FP32 inputs). Must outlive the call.
    const model::ForwardHooks* calib_hooks = nullptr;
    ProgressSink block_progress;                       // one update per block ("quantize blocks")
    // After each block: its index and the time by phase so far (the CLI prints it per block, so a
    // run stopped early still says where its time went).
    std::function<void(int block, const PhaseSeconds& so_far)> block_done;
};

struct StreamingQuantizeResult {
    QuantizedModel totals;             // method, spec, bits, seconds; `linears` left empty
    int blocks = 0;
    bool activations_spilled = false;
    std::int64_t activation_bytes = 0;
    std::int64_t calibration_tokens = 0;
    PhaseSeconds phases;               // time by phase over the whole run
};

StreamingQuantizeResult quantize_streaming(const model::LazyModel& source, const StreamingQuantizeOptions& options,
                                           QuantizedDirWriter& out);

}  // namespace halo::quant
