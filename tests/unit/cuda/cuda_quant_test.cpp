// The CUDA calibration and GPTQ against the CPU path (the reference): statistics of every
// linear input and the hidden states after a block on the synthetic GQA model, and GPTQ codes
// on random weights with a real-shaped Gram (groups, per-channel, act_order). GPU tests skip
// where there is no GPU; there, the backend's failure to open is checked instead (no fallback).
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <random>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/cuda/cuda_calibration.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/cuda/cuda_quant_backend.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/quant/gptq.hpp"
#include "halo/quant/methods.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/util/diagnostics.hpp"
#include "have_gpu.hpp"

namespace halo::cuda {
namespace {

using test::have_gpu;

TEST(CudaQuantBackend, WithoutAGpuTheBackendRefusesToOpen) {
    if (have_gpu()) GTEST_SKIP() << "a GPU is present";
    try {
        CudaQuantBackend backend(0, false);
        ADD_FAILURE() << "expected a bad-input error";
    } catch (const Error& e) {
        const std::string code = e.diagnostic().code;
        EXPECT_TRUE(code == "E8101" || code == "E8108" || code == "E8109") << code;
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input);
    }
}

double max_relative(const std::vector<float>& got, const std::vector<float>& want) {
    double err = 0, scale = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        err = std::max(err, std::fabs(double(got[i]) - want[i]));
        scale = std::max(scale, std::fabs(double(want[i])));
    }
    return scale > 0 ? err / scale : err;
}

std::vector<std::vector<std::int32_t>> samples_for_test() {
    std::vector<std::vector<std::int32_t>> s;
    for (int i = 0; i < 3; ++i) {
        std::vector<std::int32_t> t;
        for (int j = 0; j < 40 + 7 * i; ++j) t.push_back(static_cast<std::int32_t>((j * 37 + i * 11 + 5) % 250));
        s.push_back(t);
    }
    return s;
}

// Block after block: each block's statistics on both sides come from hidden states that both
// advanced through the blocks before, so the GPU's advance is checked through them.
TEST(CudaCalibration, StatisticsMatchTheCpuBlockAfterBlock) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    static std::atomic<int> n{0};
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo_cuda_cal_{}_{}", ::getpid(), n++);
    model::SyntheticOptions o;
    o.dtype = "f32";
    model::write_synthetic_checkpoint(dir, model::synthetic_shape("test-tiny"), o);
    const model::ModelWeights w = model::LazyModel(dir).load_all();
    const auto samples = samples_for_test();
    model::LayerwiseCalibration cpu(w, samples, 1);
    CudaCalibration gpu(w, samples, 0, false);
    EXPECT_EQ(gpu.tokens(), 40 + 47 + 54);
    const model::StatsRequest req{.gram = true, .channel_stats = true};
    for (int l = 0; l < w.config.n_layers; ++l) {
        const auto want = cpu.capture(l, req);
        const auto got = gpu.capture(l, req);
        for (std::size_t k = 0; k < 7; ++k) {
            SCOPED_TRACE(fmt::format("layer {} linear {}", l, k));
            EXPECT_EQ(got[k].tokens, want[k].tokens);
            ASSERT_EQ(got[k].gram.rows, want[k].gram.rows);
            EXPECT_LT(max_relative(got[k].gram.data, want[k].gram.data), 1e-4);
            const auto& g = got[k].gram;  // mirrored on the device: exactly symmetric
            for (std::int64_t i = 0; i < g.rows; ++i)
                for (std::int64_t j = 0; j < i; ++j) ASSERT_EQ(g.at(i, j), g.at(j, i)) << i << "," << j;
            EXPECT_LT(max_relative(got[k].abs_mean, want[k].abs_mean), 1e-5);
            EXPECT_LT(max_relative(got[k].abs_max, want[k].abs_max), 1e-5);
        }
        if (l + 1 == w.config.n_layers) {  // the head's input needs every block advanced
            try {
                (void)gpu.capture_head(req);
                ADD_FAILURE() << "expected E8170 before the last advance";
            } catch (const Error& e) {
                EXPECT_EQ(e.diagnostic().code, "E8170");
            }
        }
        cpu.advance(l);
        gpu.advance(l);
    }
    // The LM head's input (--quantize-head with --device): the final-normed hidden states.
    const auto want = cpu.capture_head(req);
    const auto got = gpu.capture_head(req);
    EXPECT_EQ(got.tokens, want.tokens);
    ASSERT_EQ(got.gram.rows, w.config.d_model);
    ASSERT_EQ(got.gram.rows, want.gram.rows);
    EXPECT_LT(max_relative(got.gram.data, want.gram.data), 1e-4);
    EXPECT_LT(max_relative(got.abs_mean, want.abs_mean), 1e-5);
    EXPECT_LT(max_relative(got.abs_max, want.abs_max), 1e-5);
    std::filesystem::remove_all(dir);
}

// Random weights with a few large columns and a Gram from correlated activations.
struct GptqCase {
    model::Matrix w, gram;
};
GptqCase make_case(std::int64_t rows, std::int64_t cols, std::int64_t tokens, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    GptqCase c{model::Matrix(rows, cols), model::Matrix(cols, cols)};
    for (auto& v : c.w.data) v = 0.02f * nd(rng);
    model::Matrix x(tokens, cols);
    for (std::int64_t t = 0; t < tokens; ++t) {
        const float common = nd(rng);
        for (std::int64_t j = 0; j < cols; ++j) x.at(t, j) = nd(rng) + 0.5f * common + (j % 17 == 0 ? 4.0f * nd(rng) : 0.0f);
    }
    for (std::int64_t i = 0; i < cols; ++i)
        for (std::int64_t j = 0; j < cols; ++j) {
            double s = 0;
            for (std::int64_t t = 0; t < tokens; ++t) s += double(x.at(t, i)) * x.at(t, j);
            c.gram.at(i, j) = static_cast<float>(s);
        }
    return c;
}

double equal_code_fraction(const quant::QuantizedTensor& a, const quant::QuantizedTensor& b) {
    const auto& ca = a.codes();
    const auto& cb = b.codes();
    if (ca.size() != cb.size() || ca.empty()) return 0;
    std::size_t same = 0;
    for (std::size_t i = 0; i < ca.size(); ++i) same += ca[i] == cb[i];
    return static_cast<double>(same) / static_cast<double>(ca.size());
}

TEST(CudaGptq, CodesMatchTheCpuGptq) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    CudaQuantBackend backend(0, false);
    const GptqCase c = make_case(96, 320, 600, 7);
    struct Variant {
        const char* format;
        quant::Granularity g;
        bool act_order;
        std::int64_t block;
    };
    const Variant variants[] = {{"int4", quant::Granularity::per_group(128), false, 128},
                                {"int4-asym", quant::Granularity::per_group(64), false, 128},
                                {"int3", quant::Granularity::per_channel(), false, 32},
                                {"int4", quant::Granularity::per_group(128), true, 128},
                                {"int4", quant::Granularity::per_group(256), false, 128}};
    for (const auto& v : variants) {
        SCOPED_TRACE(fmt::format("{} {} act_order {}", v.format, v.g.describe(), v.act_order));
        const auto spec = quant::make_spec(v.format, v.g);
        quant::GptqOptions opt;
        opt.block_size = v.block;
        opt.act_order = v.act_order;
        const auto cpu = quant::quantize_gptq(c.w, c.gram, spec, opt);
        opt.device = &backend;
        const auto gpu = quant::quantize_gptq(c.w, c.gram, spec, opt);
        EXPECT_GE(equal_code_fraction(cpu, gpu), 0.999);
        EXPECT_LT(max_relative(gpu.decode().data, cpu.decode().data), 0.2);  // a flipped code moves one step at most
    }
}

// The default model's FFN-up shape (1536 x 576), W4 g128: one matrix, the same Gram on both sides.
TEST(CudaGptq, CodesMatchTheCpuGptqAtAModelShape) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    CudaQuantBackend backend(0, false);
    const GptqCase c = make_case(1536, 576, 2048, 11);
    const auto spec = quant::make_spec("int4", quant::Granularity::per_group(128));
    quant::GptqOptions opt;
    opt.threads = 4;
    const auto cpu = quant::quantize_gptq(c.w, c.gram, spec, opt);
    opt.device = &backend;
    const auto gpu = quant::quantize_gptq(c.w, c.gram, spec, opt);
    const double equal = equal_code_fraction(cpu, gpu);
    RecordProperty("equal_code_fraction", fmt::format("{:.6f}", equal));
    std::printf("GPTQ 1536x576 W4 g128, same Gram: %.4f %% of codes equal\n", 100.0 * equal);
    EXPECT_GE(equal, 0.999);
}

// The output error tr((W-Q) G (W-Q)^T) on the device against quant::output_error, on shapes that
// are no multiple of the GEMM tiles. Q is an RTN decode: the CPU side needs no LAPACK (a CPU GPTQ
// here ran potrf, which segfaults inside Debian's OpenBLAS 0.3.21 on CPUs it takes for Prescott).
TEST(CudaQuantBackend, OutputErrorMatchesTheCpu) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    CudaQuantBackend backend(0, false);
    for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{96, 320}, {301, 517}}) {
        SCOPED_TRACE(fmt::format("{}x{}", rows, cols));
        const GptqCase c = make_case(rows, cols, 700, 3);
        const model::Matrix q = quant::quantize_rtn(c.w, quant::make_spec("int4", quant::Granularity::per_group(128))).decode();
        const double cpu = quant::output_error(c.w, q, c.gram);
        ASSERT_GT(cpu, 0);
        const double gpu = backend.output_error(c.w, q, c.gram);
        EXPECT_LT(std::abs(gpu - cpu) / cpu, 1e-5) << "cpu " << cpu << " gpu " << gpu;
    }
}

// AWQ's per-row candidate errors against a plain double-precision reference (no BLAS):
// e_r = sum_i sum_j d_ri G_ij d_rj; several candidates through one upload of W and G.
TEST(CudaAwq, RowErrorsMatchAPlainReference) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    CudaQuantBackend backend(0, false);
    const GptqCase c = make_case(77, 203, 500, 9);
    const auto errors = backend.row_errors(c.w, c.gram);
    for (const float clip : {1.0f, 0.8f, 0.6f}) {
        SCOPED_TRACE(fmt::format("clip {}", clip));
        const model::Matrix q = quant::quantize_rtn(c.w, quant::make_spec("int3", quant::Granularity::per_channel()), clip).decode();
        const std::vector<double> got = errors->of(q);
        ASSERT_EQ(got.size(), 77u);
        double largest = 0;
        std::vector<double> want(77, 0.0);
        for (std::int64_t r = 0; r < 77; ++r) {
            for (std::int64_t i = 0; i < 203; ++i)
                for (std::int64_t j = 0; j < 203; ++j)
                    want[r] += (double(c.w.at(r, i)) - q.at(r, i)) * c.gram.at(i, j) * (double(c.w.at(r, j)) - q.at(r, j));
            largest = std::max(largest, want[r]);
        }
        ASSERT_GT(largest, 0);
        for (std::size_t r = 0; r < want.size(); ++r) EXPECT_LT(std::abs(got[r] - want[r]) / largest, 1e-5) << r;
    }
}

// AWQ with the candidate errors on the GPU against the CPU search: the same alpha and codes (a
// choice flips only where two candidates' errors agree to FP32 rounding).
TEST(CudaAwq, CodesMatchTheCpuAwq) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    CudaQuantBackend backend(0, false);
    struct Case {
        std::int64_t rows, cols;
        const char* format;
        quant::Granularity g;
    };
    const Case cases[] = {{96, 320, "int4", quant::Granularity::per_group(128)},
                          {96, 320, "int3-asym", quant::Granularity::per_channel()},
                          {1536, 576, "int4", quant::Granularity::per_group(128)}};  // the default model's FFN up
    for (const Case& k : cases) {
        SCOPED_TRACE(fmt::format("{}x{} {} {}", k.rows, k.cols, k.format, k.g.describe()));
        const GptqCase c = make_case(k.rows, k.cols, 1000, 13);
        std::vector<float> abs_mean(static_cast<std::size_t>(k.cols));
        for (std::int64_t j = 0; j < k.cols; ++j) abs_mean[j] = std::sqrt(c.gram.at(j, j) / 1000.0f);  // an RMS stand-in
        const auto spec = quant::make_spec(k.format, k.g);
        quant::AwqOptions o;
        o.threads = 4;
        const auto cpu = quant::quantize_awq(c.w, c.gram, abs_mean, spec, o);
        o.device = &backend;
        const auto gpu = quant::quantize_awq(c.w, c.gram, abs_mean, spec, o);
        const double equal = equal_code_fraction(cpu.tensor, gpu.tensor);
        std::printf("AWQ %lldx%lld %s %s, same Gram: alpha cpu %.2f gpu %.2f, %.4f %% of codes equal\n",
                    static_cast<long long>(k.rows), static_cast<long long>(k.cols), k.format, k.g.describe().c_str(), cpu.alpha,
                    gpu.alpha, 100.0 * equal);
        EXPECT_EQ(gpu.alpha, cpu.alpha);
        EXPECT_GE(equal, 0.999);
        EXPECT_LT(std::abs(gpu.error - cpu.error) / cpu.error, 1e-4);
        EXPECT_EQ(gpu.tensor.input_scale, cpu.tensor.input_scale);
    }
}

TEST(CudaGptq, NonPositiveDefiniteHessianIsBadInput) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    CudaQuantBackend backend(0, false);
    model::Matrix w(4, 8), gram(8, 8);
    for (auto& v : w.data) v = 0.1f;
    for (std::int64_t i = 0; i < 8; ++i)
        for (std::int64_t j = 0; j < 8; ++j) gram.at(i, j) = i == j ? 1.0f : -2.0f;  // indefinite
    quant::GptqOptions opt;
    opt.damp = 0;
    opt.device = &backend;
    try {
        quant::quantize_gptq(w, gram, quant::make_spec("int4", quant::Granularity::per_channel()), opt);
        ADD_FAILURE() << "expected E8124";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E8124");
    }
}

}  // namespace
}  // namespace halo::cuda
