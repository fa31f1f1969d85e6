// The CUDA tile fitter against the CPU reference (hwq::fit_tile), job by job: codebook, scale,
// zero point, error, count and energy equal to the bit, on the shared case (partial, constant
// and all-sparse tiles; four levels covering every path of the fit, the Lloyd selection too)
// and on a larger random matrix fitted a column block at a time, as GPTQ asks; then a whole
// HALO linear with GPTQ on the GPU fitter and on the CPU gives the same tile fits. Skips without
// a GPU (the backend's refusal to open is tested in cuda_quant_test.cpp).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>

#include "../hwq/test_support.hpp"
#include "../hwq/tile_fit_cases.hpp"
#include "halo/cuda/cuda_backend.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/cuda/cuda_quant_backend.hpp"
#include "halo/cuda/cuda_tile_fit.hpp"
#include "halo/hwq/halo_quantizer.hpp"
#include "halo/util/diagnostics.hpp"
#include "have_gpu.hpp"

namespace halo::cuda {
namespace {

using test::have_gpu;

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

// Jobs whose GPU fit differs from the CPU's in any field.
int count_differences(const std::vector<hwq::TileFit>& got, const hwq::tile_cases::TileFitCase& c, const std::vector<hwq::TileFitJob>& jobs) {
    int bad = 0;
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        std::vector<float> wt;
        std::vector<std::uint8_t> mt;
        hwq::gather_tile(c.w, c.mask, c.grid, jobs[i].tile, wt, mt);
        const auto& lv = c.levels[static_cast<std::size_t>(jobs[i].level)];
        const auto want = hwq::fit_tile(wt, mt, lv.allowed, lv.energy_fj, lv.options);
        const auto& f = got[i];
        const bool same = f.codes == want.codes && std::bit_cast<std::uint32_t>(f.scale) == std::bit_cast<std::uint32_t>(want.scale) &&
                          f.zero == want.zero && same_bits(f.sse, want.sse) && same_bits(f.count, want.count) &&
                          same_bits(f.energy_fj, want.energy_fj);
        if (!same && bad++ < 5)
            ADD_FAILURE() << "tile " << jobs[i].tile << " level " << jobs[i].level << ": codes " << f.codes.size() << " vs "
                          << want.codes.size() << ", scale " << f.scale << " vs " << want.scale << ", zero " << f.zero << " vs "
                          << want.zero << ", sse " << f.sse << " vs " << want.sse << ", energy " << f.energy_fj << " vs "
                          << want.energy_fj;
    }
    return bad;
}

TEST(CudaTileFit, EveryTileAndLevelEqualsTheCpuReference) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    const auto c = hwq::tile_cases::tile_fit_case();
    const auto jobs = hwq::tile_cases::every_job(c);
    CudaTileFitter fitter(0);
    const auto fits = fitter.fit(c.w, c.mask, c.grid, jobs, c.levels);
    ASSERT_EQ(fits.size(), jobs.size());
    EXPECT_EQ(count_differences(fits, c, jobs), 0);
}

TEST(CudaTileFit, ColumnBlocksOfALargerMatrixEqualTheCpuReference) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    const auto c = hwq::tile_cases::tile_fit_case(640, 1000, 128, 23);  // 5 x 8 tiles, the last column partial
    CudaTileFitter fitter(0);
    for (std::int64_t ct = 0; ct < c.grid.n_col_tiles(); ++ct) {
        std::vector<hwq::TileFitJob> jobs;
        for (std::int64_t rt = 0; rt < c.grid.n_row_tiles(); ++rt)
            jobs.push_back({rt * c.grid.n_col_tiles() + ct, static_cast<int>((rt + ct) % c.levels.size())});
        const auto fits = fitter.fit(c.w, c.mask, c.grid, jobs, c.levels);
        EXPECT_EQ(count_differences(fits, c, jobs), 0) << "column tile " << ct;
    }
    EXPECT_GT(fitter.peak_device_bytes(), 0u);
}

TEST(CudaTileFit, AHaloLinearWithGptqFitsTheSameTilesOnTheGpu) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    const hwq::Ladder L = hwq::build_ladder(hwq::test::synthetic_int8_profile(), {});
    const model::Matrix w = hwq::test::random_matrix(384, 512, 31);
    const model::Matrix x = hwq::test::random_matrix(1024, 512, 32, 1.0);
    model::Matrix g(512, 512);
    for (std::int64_t t = 0; t < x.rows; ++t)
        for (std::int64_t i = 0; i < x.cols; ++i)
            for (std::int64_t j = 0; j < x.cols; ++j) g.at(i, j) += x.at(t, i) * x.at(t, j);
    hwq::HaloOptions o;
    o.threads = 4;
    hwq::CodebookRegistry cpu_books, gpu_books;
    const auto cpu = hwq::quantize_linear_halo(w, g, x.rows, nullptr, L, o, cpu_books, "synthetic");
    CudaQuantBackend backend(0, false);
    o.fitter = backend.tile_fitter();
    ASSERT_NE(o.fitter, nullptr);
    const auto gpu = hwq::quantize_linear_halo(w, g, x.rows, nullptr, L, o, gpu_books, "synthetic");
    // GPTQ on the CPU both times: equal fits give equal codes, all of them.
    EXPECT_EQ(gpu.assignment.level, cpu.assignment.level);
    ASSERT_EQ(gpu.fits.size(), cpu.fits.size());
    for (std::size_t t = 0; t < cpu.fits.size(); ++t) {
        EXPECT_EQ(gpu.fits[t].codes, cpu.fits[t].codes) << t;
        EXPECT_EQ(gpu.fits[t].scale, cpu.fits[t].scale) << t;
        EXPECT_EQ(gpu.fits[t].zero, cpu.fits[t].zero) << t;
    }
    EXPECT_EQ(gpu.tensor.codes(), cpu.tensor.codes());
}

}  // namespace
}  // namespace halo::cuda
