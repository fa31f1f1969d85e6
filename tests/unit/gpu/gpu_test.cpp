#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <set>
#include <filesystem>

#include "halo/util/atomic_file.hpp"

#include "halo/gpu/int_gemm_reference.hpp"
#include "halo/gpu/value_sets.hpp"
#include "halo/util/diagnostics.hpp"
#ifdef HALO_HAVE_CUDA
#include "halo/gpu/cublaslt_gemm.hpp"
#include "halo/gpu/gemm_bench.hpp"
#include "halo/gpu/nvml_probe.hpp"
#endif

using namespace halo::gpu;

TEST(ValueSets, SingleAndZerosFillExactly) {
    auto w = make_weights("single:-77", 16, 32, 1);
    ASSERT_EQ(w.size(), 512u);
    EXPECT_TRUE(std::all_of(w.begin(), w.end(), [](std::int8_t v) { return v == -77; }));
    auto z = make_weights("zeros", 4, 8, 1);
    EXPECT_TRUE(std::all_of(z.begin(), z.end(), [](std::int8_t v) { return v == 0; }));
}

TEST(ValueSets, CodebookWeightsUseOnlyCodebookValuesAndSpanIt) {
    auto w = make_weights("codebook:0,8,16,32,48,64,80,96,112", 64, 256, 7);
    std::set<int> seen(w.begin(), w.end());
    std::set<int> allowed = {0, 8, 16, 32, 48, 64, 80, 96, 112};
    for (int v : seen) EXPECT_TRUE(allowed.count(v)) << v;
    // Each channel's min and max map onto the codebook's ends.
    EXPECT_TRUE(seen.count(0));
    EXPECT_TRUE(seen.count(112));
}

TEST(ValueSets, PopcountAndSignClasses) {
    auto w = make_weights("popcount:3", 32, 64, 2);
    for (auto v : w) EXPECT_EQ(std::popcount(static_cast<unsigned>(static_cast<std::uint8_t>(v))), 3);
    auto n = make_weights("sign:neg", 32, 64, 2);
    for (auto v : n) EXPECT_LT(v, 0);
}

TEST(ValueSets, RtnStaysInRangeAndUsesTheExtremes) {
    auto w = make_weights("rtn4_studentt", 8, 512, 3);
    EXPECT_EQ(*std::min_element(w.begin(), w.end()) >= -7, true);
    EXPECT_EQ(*std::max_element(w.begin(), w.end()) <= 7, true);
    // Symmetric per-channel RTN puts each channel's largest |w| at +-7.
    for (int r = 0; r < 8; ++r) {
        int amax = 0;
        for (int c = 0; c < 512; ++c) amax = std::max(amax, std::abs(int(w[r * 512 + c])));
        EXPECT_EQ(amax, 7);
    }
}

TEST(ValueSets, BadSpecsAreBadInput) {
    try {
        make_weights("nonsense", 2, 2, 1);
        FAIL();
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E8010");
        EXPECT_EQ(e.exit_code(), 2);
    }
    EXPECT_THROW(make_weights("single:300", 2, 2, 1), halo::Error);
    EXPECT_THROW(make_weights("single", 2, 2, 1), halo::Error);
    EXPECT_THROW(make_weights("codebook:5", 2, 2, 1), halo::Error);
}

TEST(ValueSets, NearestCodeTiesGoLow) {
    std::vector<int> cb = {0, 8, 16};
    EXPECT_EQ(nearest_code(cb, 4.0), 0);
    EXPECT_EQ(nearest_code(cb, 4.01), 8);
    EXPECT_EQ(nearest_code(cb, -5), 0);
    EXPECT_EQ(nearest_code(cb, 100), 16);
}

TEST(IntGemmReference, HandComputed) {
    // A = [[1, 2], [3, 4]], W = [[5, 6], [7, 8], [-1, 0]] -> C = A W^T
    std::vector<std::int8_t> a = {1, 2, 3, 4}, w = {5, 6, 7, 8, -1, 0};
    auto c = int8_gemm_reference(a, w, 2, 3, 2);
    EXPECT_EQ(c, (std::vector<std::int32_t>{17, 23, -1, 39, 53, -3}));
}

#ifdef HALO_HAVE_CUDA
TEST(GpuGemm, Int8MatchesCpuReference) {
    if (!cuda_device_available()) GTEST_SKIP() << "no CUDA device";
    GemmShape s{64, 96, 128};
    auto w = make_weights("uniform_random", s.n, s.k, 11);
    auto a = make_activations(s.m, s.k, 40, 12);
    LtGemm g(GemmKind::int8, s);
    g.upload_weights(w);
    g.upload_activations(a);
    g.enqueue(1);
    auto out = g.download_output();
    auto ref = int8_gemm_reference(a, w, s.m, s.n, s.k);
    for (size_t i = 0; i < ref.size(); ++i) ASSERT_EQ(out[i], ref[i]) << i;
}

TEST(GpuGemm, EnergyReadingsGrowWithWork) {
    if (!cuda_device_available() || !NvmlProbe::available()) GTEST_SKIP() << "no CUDA device with NVML";
    NvmlProbe probe;
    GemmShape s{4096, 4096, 4096};
    LtGemm g(GemmKind::int8, s);
    g.upload_weights(make_weights("uniform_random", s.n, s.k, 1));
    g.upload_activations(make_activations(s.m, s.k, 32, 2));
    // Warm the card up first (2 s), then measure windows of ~1 s: see measure_energy_growth.
    const EnergyGrowth r = measure_energy_growth(g, probe);
    EXPECT_GT(r.joules_n, 0);
    EXPECT_TRUE(r.grows_linearly()) << r.gemms << " GEMMs " << r.joules_n << " J, " << 2 * r.gemms << " GEMMs " << r.joules_2n << " J";
}
#endif

// ---- INT8 operands of quantized layers (what the GPU GEMM multiplies) ----
#include "halo/gpu/quantized_operands.hpp"
#include "halo/quant/format.hpp"
#include "halo/quant/quantized_tensor.hpp"

namespace {
halo::model::Matrix ramp_matrix(std::int64_t rows, std::int64_t cols) {
    halo::model::Matrix w(rows, cols);
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c) w.at(r, c) = static_cast<float>(c - cols / 2) * 0.1f * static_cast<float>(r + 1);
    return w;
}
}  // namespace

TEST(QuantizedOperands, SignedIntCodesAreTheirValues) {
    auto w = ramp_matrix(3, 16);
    auto spec = halo::quant::make_spec("int8", {1, 0});
    auto q = halo::quant::quantize_rtn(w, spec);
    auto ops = int8_operands(q, "t");
    // Decoded weight = scale * operand, for every element.
    for (std::int64_t r = 0; r < 3; ++r)
        for (std::int64_t c = 0; c < 16; ++c) {
            float scale = q.params(q.group_index(r, c)).scale;
            EXPECT_NEAR(q.decode(r, c), scale * ops[static_cast<size_t>(r * 16 + c)], 1e-6f * std::abs(scale) * 128);
        }
    // Symmetric per-row INT8: the largest |w| of each row (the negative end of the ramp) maps to
    // -127, and the positive end (7/8 of it) to round(127 * 7 / 8) = 111.
    EXPECT_EQ(*std::min_element(ops.begin(), ops.end()), -127);
    EXPECT_EQ(*std::max_element(ops.begin(), ops.end()), 111);
}

TEST(QuantizedOperands, UnsignedCodesShiftIntoTheSignedRange) {
    auto w = ramp_matrix(2, 32);
    auto spec = halo::quant::make_spec("int4-asym", {1, 0});
    auto q = halo::quant::quantize_rtn(w, spec);
    auto ops = int8_operands(q, "t");
    for (std::size_t i = 0; i < ops.size(); ++i) {
        EXPECT_GE(ops[i], -8);
        EXPECT_LE(ops[i], 7);
        EXPECT_EQ(ops[i], static_cast<int>(q.codes()[i]) - 8);
    }
}

TEST(QuantizedOperands, MinifloatsAreRefused) {
    auto q = halo::quant::quantize_rtn(ramp_matrix(2, 32), halo::quant::make_spec("fp8-e4m3", {1, 0}));
    try {
        int8_operands(q, "blk.0.attn_q");
        FAIL();
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E8050");
        EXPECT_EQ(e.diagnostic().place, "blk.0.attn_q");
    }
}

TEST(QuantizedOperands, MixedTypeRowsAreRefused) {
    // bitmod-fp4: each group picks its own value set, so a code has no single integer.
    auto q = halo::quant::quantize_rtn(ramp_matrix(2, 128), halo::quant::make_spec("bitmod-fp4", {1, 0}));
    try {
        int8_operands(q, "blk.0.ffn_up");
        FAIL();
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E8050");
        EXPECT_EQ(e.diagnostic().place, "blk.0.ffn_up");
        EXPECT_NE(std::string(e.what()).find("bitmod-fp4"), std::string::npos) << e.what();
    }
}

TEST(ValueSets, TiledFileRepeatsTheLayerPeriodically) {
    auto path = std::filesystem::temp_directory_path() / "halo_tiled_codes.i8";
    std::vector<std::int8_t> src = {1, 2, 3, -4, -5, -6};  // 2 x 3
    halo::write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(src.data()), src.size()));
    auto w = make_weights("tiled_file:" + path.string() + "@2x3", 3, 7, 1);
    ASSERT_EQ(w.size(), 21u);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 7; ++j) EXPECT_EQ(w[i * 7 + j], src[(i % 2) * 3 + j % 3]);
    EXPECT_THROW(make_weights("tiled_file:" + path.string() + "@4x3", 3, 7, 1), halo::Error);  // file too short
    std::filesystem::remove(path);
}
