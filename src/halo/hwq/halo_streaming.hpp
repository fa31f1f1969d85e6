// HALO with one decoder block resident (`halo quantize --method halo --stream`): the block loop
// of quant/streaming_quantizer.hpp around the per-block step of quantize_model_halo.
//   open the model lazily; embed the calibration samples (model::BlockStreamCalibration: hidden
//     states in memory up to the budget, else in a spill file; with a device, its calibration
//     source keeps them on the GPU); for each block l:
//     materialise block l -> capture its Grams -> quantize_block_halo (sensitivity, sparse split,
//     tile fitting per level, assignment, GPTQ rounding: the in-memory code) -> write its seven
//     .hqt files (QuantizedDirWriter) and add their tile levels and information bits -> advance
//     the hidden states through the quantized block -> free the block and its codes.
//   finish: manifest.json with the "halo" section (codebooks, tile counts), tile_levels.json,
//     sim_config.json, mac_profile.json, then rename the directory into place.
// What stays resident across blocks is per-linear metadata only: the codebook registry, tile
// counters, the tile_levels.json entries (levels and code histograms per tile), the manifest
// entries. Every output file is byte-identical to the in-memory `quantize --method halo` except
// the manifest's timings, flags and provenance (tests/unit/hwq/halo_streaming_test.cpp).
// --quantize-head: after the last block the head (the token embedding's table when tied) is
// quantized from the final-normed hidden states the block loop left (BlockStreamCalibration::
// capture_head; with --device, cuda::CudaCalibration::capture_head from the device's hidden
// states) and written as output.hqt, identical to the in-memory one.
// Not streamable: Fisher sensitivity (whole-model gradients; E9076) and the model-wide budget
// (E9074).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "halo/accel/simulate.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "halo/hwq/ladder.hpp"
#include "halo/mac/profile.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/quant/device_backend.hpp"
#include "halo/quant/phase_seconds.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/progress.hpp"

namespace halo::hwq {

struct StreamingHaloOptions {
    HaloOptions halo;
    std::vector<std::vector<std::int32_t>> samples;  // calibration; empty -> RTN rounding, w^2 sensitivity
    unsigned threads = 1;
    std::int64_t activation_budget_bytes = std::int64_t{2} << 30;
    std::filesystem::path spill_dir;                 // default: the system temp directory
    ProgressSink block_progress;                     // one update per block ("halo blocks")
    // --device cuda: the hidden states live on the device and its calibration captures the
    // Grams (the activation budget and spill directory do not apply); halo.fitter and
    // halo.gptq_options.device say where the tiles are fitted and GPTQ's algebra runs.
    quant::DeviceBackend* device = nullptr;
    // --calib-int8-inputs: the calibration's activation hooks (CPU only; null: FP32 inputs),
    // the head's input included. Must outlive the call.
    const model::ForwardHooks* calib_hooks = nullptr;
    // After each block: its index and the time by phase so far (so a stopped run still says
    // where a block's time goes).
    std::function<void(int block, const quant::PhaseSeconds& so_far)> block_done;
};

struct StreamingHaloResult {
    HaloModelResult totals;            // books, tiles per level, switches, bits; no linears kept
    double information_bits = 0;       // per weight
    int blocks = 0;
    bool activations_spilled = false;
    std::int64_t activation_bytes = 0;
    std::int64_t calibration_tokens = 0;
    quant::PhaseSeconds phases;        // whole run: load, capture, HALO's steps, GPTQ, decode, advance, write
};

// E9076 (bad input) for options that cannot stream (Fisher sensitivity); the driver checks too.
void check_streamable(const HaloOptions& options);

// Quantizes every block into `out` and finishes it (manifest + the simulator's files): `info`
// is the run's manifest header (its "halo" section is added here), `machine` and
// `energy_profile` as in write_halo_dir.
StreamingHaloResult quantize_halo_streaming(const model::LazyModel& source, const Ladder& ladder,
                                            const StreamingHaloOptions& options, quant::QuantizedDirWriter& out,
                                            const quant::RunInfo& info, const accel::SystolicOptions& machine,
                                            const mac::MacProfile* energy_profile);

}  // namespace halo::hwq
