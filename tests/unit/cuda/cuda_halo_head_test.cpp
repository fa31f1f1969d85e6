// HALO's --quantize-head with the calibration on the GPU (session 13; E9152 retired): the block
// streamer's device source captures the head's input after the last block, and the head is
// quantized and written as on the CPU. The head's statistics themselves are compared with the
// CPU's in cuda_quant_test.cpp (CudaCalibration.StatisticsMatchTheCpuBlockAfterBlock); here the
// whole streamed run, device against CPU calibration, on a synthetic test-tiny checkpoint.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>

#include "../hwq/test_support.hpp"
#include "halo/cuda/cuda_quant_backend.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_streaming.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/quant/quant_dir.hpp"
#include "../hwq/scratch.hpp"
#include "halo/model/model_loader.hpp"
#include "have_gpu.hpp"

namespace halo::cuda {
namespace {

using test::have_gpu;

std::vector<std::vector<std::int32_t>> head_samples() {
    std::vector<std::vector<std::int32_t>> s;
    for (int i = 0; i < 3; ++i) {
        std::vector<std::int32_t> t;
        for (int j = 0; j < 48; ++j) t.push_back(static_cast<std::int32_t>((j * 29 + i * 13 + 3) % 250));
        s.push_back(t);
    }
    return s;
}

hwq::StreamingHaloResult stream_with_head(const std::filesystem::path& model, const std::filesystem::path& out_dir,
                                          quant::DeviceBackend* device) {
    hwq::HaloOptions o;
    o.tile_k = 32, o.tile_n = 16;  // the head: 320 x 64 -> 20 x 2 tiles
    o.objective = hwq::Objective::perf;
    o.quantize_head = true;
    o.threads = 2;
    o.gptq = false;  // rounding on the host both times: the difference is the calibration's alone
    const hwq::Ladder L = hwq::build_ladder(hwq::test::synthetic_int8_profile(), {});
    hwq::StreamingHaloOptions so;
    so.halo = o;
    so.samples = head_samples();
    so.threads = 2;
    so.device = device;
    accel::SystolicOptions machine;
    machine.array.rows = 32;
    machine.array.cols = 16;
    machine.dvfs = hwq::dvfs_table(L);
    quant::RunInfo info;
    info.source_model = model.string();
    info.flags = {{"method", "halo"}};
    quant::QuantizedDirWriter out(out_dir, false);
    return hwq::quantize_halo_streaming(model::LazyModel(model), L, so, out, info, machine, nullptr);
}

TEST(CudaHaloHead, StreamedHeadOnTheDeviceCalibrationAsOnTheCpu) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    const hwq::test::Scratch dir("halo_cuda_head_test");
    model::SyntheticOptions so;
    so.dtype = "f32";
    so.threads = 1;
    model::write_synthetic_checkpoint(dir / "tiny", model::synthetic_shape("test-tiny"), so);
    const auto cpu = stream_with_head(dir / "tiny", dir / "cpu", nullptr);
    CudaQuantBackend backend(0, false);
    const auto gpu = stream_with_head(dir / "tiny", dir / "gpu", &backend);
    ASSERT_TRUE(std::filesystem::exists(dir / "gpu" / "output.hqt"));
    const auto tiles = std::accumulate(gpu.totals.head_tiles_per_level.begin(), gpu.totals.head_tiles_per_level.end(), 0);
    EXPECT_EQ(tiles, 40);
    // Statistics equal to float rounding: the same levels for the head's tiles, and codes that
    // differ only where rounding sat on a tie.
    EXPECT_EQ(gpu.totals.head_tiles_per_level, cpu.totals.head_tiles_per_level);
    const int n_layers = model::LazyModel(dir / "tiny").config().n_layers;
    model::ModelWeights wc = model::load_model(dir / "tiny"), wg = model::load_model(dir / "tiny");
    quant::QuantizedDirReader(dir / "cpu", n_layers, false).apply_head(wc);
    quant::QuantizedDirReader(dir / "gpu", n_layers, false).apply_head(wg);
    const auto& a = wc.output.data;
    const auto& b = wg.output.data;
    ASSERT_EQ(a.size(), b.size());
    ASSERT_GT(a.size(), 0u);
    std::size_t same = 0;
    for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i];
    EXPECT_GE(static_cast<double>(same) / static_cast<double>(a.size()), 0.99);
}

}  // namespace
}  // namespace halo::cuda
