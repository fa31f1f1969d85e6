// Where a quantization run's time goes, phase by phase (issue #13: the 7B-shape GPTQ on the GPU
// took ~30 s a block and nothing said why). The drivers, GPTQ and the device backend add to it
// when QuantizeOptions::phases / GptqOptions::phases point at one; null costs nothing. Host wall
// time: every device step it wraps ends in a synchronising copy, so device time lands in the
// phase that asked for it.
#pragma once

#include <chrono>
#include <string>

namespace halo::quant {

struct PhaseSeconds {
    double load = 0;          // materialise a block from the file (F16/BF16 -> FP32)
    double capture = 0;       // calibration statistics: block forward, X^T X, channel stats (incl. gram_host)
    double gram_host = 0;     // device Grams on the host: download and per-linear copies (part of capture)
    double factor = 0;        // GPTQ: Hessian preparation and the inverse Hessian factor
    double columns = 0;       // GPTQ: the per-column rounding loop, with fetching each block's columns
    double update = 0;        // GPTQ: the lazy block updates
    double output_error = 0;  // tr((W-Q) G (W-Q)^T) for the manifest
    double decode = 0;        // codes -> the FP32 weight the next block's calibration runs through
    double advance = 0;       // calibration: hidden states through the quantized block
    double write = 0;         // the block's .hqt files (HALO: with its tile-level table and information bits)
    // HALO (hwq/halo_quantizer.hpp), per linear:
    double halo_prepare = 0;  // Hessian sensitivity, sparse split, tile scores
    double halo_costs = 0;    // every tile fitted at every level, then the tile-to-level assignment
    double halo_refit = 0;    // the tile fits of GPTQ's column blocks (part of gptq columns)
    double halo_records = 0;  // sparse part (CSR, values, its level), codebook ids, counters
    // "load 1.2 s, capture 3.4 s (gram on host 0.5 s), ..." (phases that took no time are left out).
    std::string describe() const;
};

// Adds the wall time of its scope to `*slot` (nothing when null).
class PhaseTimer {
public:
    explicit PhaseTimer(double* slot) : slot_(slot), t0_(std::chrono::steady_clock::now()) {}
    ~PhaseTimer() {
        if (slot_) *slot_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    }
    PhaseTimer(const PhaseTimer&) = delete;
    PhaseTimer& operator=(const PhaseTimer&) = delete;

private:
    double* slot_;
    std::chrono::steady_clock::time_point t0_;
};

// The slot of `field` in `phases`, or null.
inline double* phase_slot(PhaseSeconds* phases, double PhaseSeconds::*field) { return phases ? &(phases->*field) : nullptr; }

}  // namespace halo::quant
