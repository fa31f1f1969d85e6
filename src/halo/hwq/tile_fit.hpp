// Fitting one weight tile to one DVFS level: choose at most k of the integer codes the level
// allows (the tile's codebook C), a scale s and an integer zero point z so that
//   w ~ s * (c - z),  c in C,
// minimizes the squared error over the tile's (dense) weights. A zero point lets a set of fast
// codes that is all non-negative (osu018 INT8: every negative weight is slow) represent signed
// weights; the array computes sum a*c as usual and subtracts z * sum(a) once per output.
//
// Selection (accuracy, then energy): Lloyd iterations in the code domain u = w/s0 + z0 (s0, z0
// map the tile's range onto the allowed range), each centroid snapped to the allowed code that
// minimizes count * (code - mean)^2 + energy_weight * count * energy(code) / mean energy, so
// among equally accurate codes the lower-energy one wins. Then s and z are refitted on a grid of
// clip ratios with a least-squares scale step. All of this runs on a 1024-bin histogram of the
// tile (exact for the final rounding, which uses every weight).
//
// The work splits in two steps: tile_histogram (the only step that reads the tile's weights)
// and fit_histogram (everything after, on at most 1024 bins). fit_tile is the two in a row and
// is the reference every other fitter (tile_fit_batch.hpp: the CPU batch fitter and the CUDA
// one) must equal bit for bit: the histogram sums and every score run sequentially in bin order
// in double, with no fused multiply-add (this file is built with -ffp-contract=off).
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace halo::hwq {

struct TileFitOptions {
    int max_codes = 0;           // k: codebook size; 0 = every allowed code (16 = 4 bits of information)
    double energy_weight = 0.0;  // energy's weight against squared code distance in the selection
    int zero_min = -128, zero_max = 127;  // z + 128 is the u8 zero of quant's int8-asym format
};

struct TileFit {
    std::vector<int> codes;    // ascending
    float scale = 1.0f;
    int zero = 0;
    double sse = 0;            // sum of squared errors over the fitted weights (histogram estimate)
    double count = 0;          // weights fitted
    double energy_fj = 0;      // mean MAC energy per weight under the fit (NaN energies count 0)
    double mse() const { return count > 0 ? sse / count : 0; }
};

// Bin b of 1024 equal bins over [lo, hi] holds the weights with (w - lo) / ((hi - lo) / 1024)
// in [b, b+1) (the top one the maximum too); only non-empty bins are kept, ascending, each as
// its mean (the weights summed in index order, in double) and its weight count.
struct TileHistogram {
    static constexpr int kBins = 1024;
    std::vector<double> center, count;
    double lo = 0, hi = 0, total = 0;
};
// `mask` (optional, same size as w) excludes weights (the sparse part) when false.
TileHistogram tile_histogram(std::span<const float> w, std::span<const std::uint8_t> mask);
// The fit of a tile from its histogram (the selection and the scale/zero search above).
TileFit fit_histogram(const TileHistogram& h, std::span<const int> allowed, std::span<const double> allowed_energy_fj,
                      const TileFitOptions& options);

// `allowed` ascending integer codes; `energy_fj(code value)` by index into allowed (may be empty).
// `mask` (optional, same size as w) excludes weights (the sparse part) when false.
TileFit fit_tile(std::span<const float> w, std::span<const std::uint8_t> mask, std::span<const int> allowed,
                 std::span<const double> allowed_energy_fj, const TileFitOptions& options);

// The exact step after a histogram fit. The histogram's bins are (hi - lo) / 1024 wide, so for
// a codebook of unit gaps over 256 codes (L0 with every INT8 code) a bin is a quarter of a code
// step and its SSE estimate cannot rank scales; and squared weight error is not what a layer
// loses: a weight on an input channel with large activations (SmolLM2's ffn_down) costs far more
// when clipped. Without a sparse part HALO at L0 had 6.6x the ffn_down output error of GPTQ on
// the same per-tile INT8 grid (docs/results/halo.md, part E). Two candidates:
//   the histogram fit's scale and zero, and
//   the min/max rule of quant's asymmetric integer formats (quant::fit_group, the DVFS-aware
//   baselines' fit): lo = min(0, min w), hi = max(0, max w), s = fp16((hi - lo) / (cmax - cmin)),
//   z = round(cmin - lo / s) clamped to the zero range;
// each scored on every dense weight by sum_i h_i (w_i - q_i)^2 with h_i = `importance` (the
// input channel's X^T X diagonal, GPTQ's Hessian diagonal; empty = 1 for every weight); the
// lower wins (the histogram fit on ties). The codes stay the fit's; sse, count and energy_fj
// become the exact unweighted values of the winner. With every INT8 code (cmin -128, cmax 127)
// the min/max candidate is the baseline's scale and zero bit for bit, so a tile's weighted
// error is never above the baseline's on the same weights. Every fitter's output goes through
// this step on the CPU (fit_tiles_exact, tile_fit_batch.hpp), so CPU and CUDA fitters still agree.
// Except on a level whose codebook is every INT8 code (the level constrains nothing: L0): there
// the min/max candidate is kept without a contest (issue #15 part G). The histogram candidate
// is a clipped grid (clip ~0.95 on most tiles where it won): at 8 bits clipping trades a 5 % finer
// step for a systematic error on the tile's largest weights, and the weighted proxy, from
// 4 x 128 calibration tokens, preferred it on 45 % of SmolLM2's tiles (the same tiles on every
// calibration seed, by a median 2.5 % of weighted error) while perplexity rose: without GPTQ and
// sparse part 38.42 / 39.07 / 38.34 against 37.33 with min/max on every seed (docs/results/halo.md
// part G; on the means of five configurations lower in four, 0.12 higher in one). Levels with fewer
// codes (16, 9, or 128 non-negative ones) keep the contest.
TileFit refit_exact(const TileFit& fit, std::span<const float> w, std::span<const std::uint8_t> mask, std::span<const int> allowed,
                    std::span<const double> allowed_energy_fj, const TileFitOptions& options,
                    std::span<const float> importance = {});
// The min/max candidate alone (scale and zero of the rule above for `codes`; codes.size() >= 2).
void min_max_scale_zero(std::span<const float> w, std::span<const std::uint8_t> mask, std::span<const int> codes,
                        const TileFitOptions& options, float& scale, int& zero);

// Whether `codes` is every INT8 code, -128..127 (refit_exact's uncontested min/max case).
bool is_every_int8_code(std::span<const int> codes);

// Nearest codebook entry to u (ties to the lower entry): reference (linear scan) and fast (binary search).
int nearest_code_ref(std::span<const int> codes, float u);
int nearest_code(std::span<const int> codes, float u);
// round_to_code by table, for scoring many weights against one codebook (refit_exact, so the
// exact step scores the codes the final rounding gives): the index into `codes` of
// round_to_code(codes, u), bit for bit. The binary search finds the bracket j = #{c : c < u}; for
// integer codes c < u <=> c <= ceil(u) - 1, so j is a table entry at ceil(u) - 1 (clamped to
// [cmin - 1, cmax]; NaN lands on cmin - 1 as round_to_code gives the first code) and the tie
// rule is applied to the same two floats. Without branches: the choice between the two
// neighbours is a coin flip for weights near a midpoint, and as a branch it mispredicted on
// most weights.
class NearestCodeTable {
public:
    explicit NearestCodeTable(std::span<const int> codes);
    std::size_t index(float u) const {
        float k = std::ceil(u) - 1.0f;
        k = k >= lowest_ ? k : lowest_;  // NaN too; comparisons, not fmaxf/fminf (library calls without -ffast-math)
        k = k <= highest_ ? k : highest_;
        const std::size_t j = at_or_below_[static_cast<std::size_t>(static_cast<int>(k) - cmin_ + 1)];
        const std::size_t jl = j == 0 ? 0 : j - 1, jh = j < n_ ? j : n_ - 1;
        const float lo = static_cast<float>(codes_[jl]), hi = static_cast<float>(codes_[jh]);
        const float dl = u - lo, dh = hi - u;
        const bool hi_even_lo_odd = ((codes_[jh] & 1) == 0) & ((codes_[jl] & 1) != 0);
        const bool take_lo = (dl < dh) | ((dl == dh) & !hi_even_lo_odd);
        return jh - static_cast<std::size_t>(take_lo) * (jh - jl);
    }

private:
    std::span<const int> codes_;
    int cmin_ = 0;
    float lowest_ = 0, highest_ = 0;  // cmin - 1 and cmax
    std::size_t n_ = 0;
    std::vector<std::size_t> at_or_below_;  // [v - cmin + 1] = #{c : c <= v}, v in [cmin - 1, cmax]
};
// The rounding of a weight to its tile's codebook (quantize_with): nearest entry, an exact tie
// between an odd and an even neighbour to the even one (IEEE round-half-to-even, the rule of
// quant's integer encode, std::nearbyint, so a tile on the baseline's scale and zero gets the
// baseline's codes bit for bit), other ties to the lower entry as nearest_code. Ties to the
// lower entry are biased: on weights that sit on a coarse grid (a model dequantized from Q4_1)
// exact ties are common, and rounding them all down cost HALO at L0 0.24 perplexity against
// rtn-w8-asym-dvfs on the same scales and zeros (docs/results/halo.md, part G). The fitters'
// scores keep nearest_code: a tie's squared error is the same either way.
// Reference (linear scan) and fast (nearest_code's binary search) forms, tested equal.
int round_to_code_ref(std::span<const int> codes, float u);
int round_to_code(std::span<const int> codes, float u);

inline float quantize_with(const TileFit& f, float w, int* code_out = nullptr) {
    const int c = round_to_code(f.codes, w / f.scale + static_cast<float>(f.zero));
    if (code_out) *code_out = c;
    return f.scale * static_cast<float>(c - f.zero);
}

}  // namespace halo::hwq
