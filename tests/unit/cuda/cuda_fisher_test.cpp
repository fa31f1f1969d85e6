// The GPU backward pass (cuda_fisher.hpp) against the CPU's (model/backward.hpp, the
// reference): every linear's gradient of one sequence, signs kept, and the Fisher diagonal over
// samples of several lengths, in strict FP32 and in TF32, on the test-tiny shape (GQA, 4 query
// heads on 2 KV heads) and on a wider GQA shape (8 query heads on 2, head_dim 32, tied
// embeddings), the LM head's entries included (untied on test-tiny, the embedding table used as
// head on the wider shape). GPU tests skip where there is no GPU; the input checks run before the device is
// touched, so they run everywhere.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/cuda/cuda_fisher.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/model/backward.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/util/diagnostics.hpp"
#include "have_gpu.hpp"

namespace halo::cuda {
namespace {

using test::have_gpu;

model::ModelWeights synthetic_model(const model::SyntheticShape& shape) {
    static std::atomic<int> n{0};
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo_cuda_fisher_{}_{}", ::getpid(), n++);
    model::SyntheticOptions o;
    o.dtype = "f32";
    model::write_synthetic_checkpoint(dir, shape, o);
    model::ModelWeights w = model::LazyModel(dir).load_all();
    std::filesystem::remove_all(dir);
    return w;
}

// 8 query heads on 2 KV heads (4 per group), head_dim 32, SwiGLU 192, tied embeddings, 3 blocks.
const model::SyntheticShape kWideGqa{"test-gqa4", "llama", 3, 256, 8, 2, 192, 300, 256, 10000.0, 1e-5, false, true,
                                     "cuda_fisher_test: a group of 4 query heads per KV head"};

std::vector<std::int32_t> sequence(int length, int salt, int vocab) {
    std::vector<std::int32_t> t;
    for (int j = 0; j < length; ++j) t.push_back(static_cast<std::int32_t>((j * 37 + salt * 11 + 5) % vocab));
    return t;
}

// ||got - want|| / ||want|| over one matrix (Frobenius).
double relative_error(const model::Matrix& got, const model::Matrix& want) {
    double d = 0, n = 0;
    for (std::size_t i = 0; i < want.data.size(); ++i) {
        d += (double(got.data[i]) - want.data[i]) * (double(got.data[i]) - want.data[i]);
        n += double(want.data[i]) * want.data[i];
    }
    return n > 0 ? std::sqrt(d / n) : std::sqrt(d);
}

// The worst relative error over every linear of every block and the LM head where `want` has
// its entries, each below `tolerance` (named when not) and nonzero on the CPU.
double worst_error(const model::FisherDiagonal& got, const model::FisherDiagonal& want, double tolerance) {
    double worst = 0;
    if (!want.head.data.empty()) {
        EXPECT_EQ(got.head.rows, want.head.rows);
        EXPECT_EQ(got.head.cols, want.head.cols);
        if (got.head.data.size() == want.head.data.size()) {
            double norm = 0;
            for (float v : want.head.data) norm += double(v) * v;
            EXPECT_GT(norm, 0) << "the LM head: the CPU gradient is zero";
            const double e = relative_error(got.head, want.head);
            EXPECT_LT(e, tolerance) << "the LM head";
            worst = e;
        }
    }
    EXPECT_EQ(got.linear.size(), want.linear.size());
    for (std::size_t l = 0; l < want.linear.size(); ++l)
        for (std::size_t k = 0; k < 7; ++k) {
            const model::Matrix& w = want.linear[l][k];
            EXPECT_EQ(got.linear[l][k].rows, w.rows);
            EXPECT_EQ(got.linear[l][k].cols, w.cols);
            double norm = 0;
            for (float v : w.data) norm += double(v) * v;
            EXPECT_GT(norm, 0) << "layer " << l << " linear " << k << ": the CPU gradient is zero";
            const double e = relative_error(got.linear[l][k], w);
            EXPECT_LT(e, tolerance) << "layer " << l << " linear " << model::linear_name(static_cast<model::LinearKind>(k));
            worst = std::max(worst, e);
        }
    return worst;
}

void check_gradients(const model::SyntheticShape& shape) {
    const model::ModelWeights w = synthetic_model(shape);
    const auto tokens = sequence(61, 3, w.config.vocab_size);
    double cpu_loss = 0, fp32_loss = 0, tf32_loss = 0;
    const model::FisherDiagonal cpu = model::linear_gradients(w, tokens, 1, &cpu_loss);
    const model::FisherDiagonal fp32 = linear_gradients_on_device(w, tokens, 0, false, &fp32_loss);
    const model::FisherDiagonal tf32 = linear_gradients_on_device(w, tokens, 0, true, &tf32_loss);
    const double e32 = worst_error(fp32, cpu, 1e-4), etf = worst_error(tf32, cpu, 2e-2);
    std::printf("%s gradients: worst relative error FP32 %.3g, TF32 %.3g; loss cpu %.9f fp32 %.9f tf32 %.9f\n",
                std::string(shape.name).c_str(), e32, etf, cpu_loss, fp32_loss, tf32_loss);
    ::testing::Test::RecordProperty("fp32_relative_error", fmt::format("{:.3g}", e32));
    ::testing::Test::RecordProperty("tf32_relative_error", fmt::format("{:.3g}", etf));
    EXPECT_NEAR(fp32_loss, cpu_loss, 1e-5 * cpu_loss);
    EXPECT_NEAR(tf32_loss, cpu_loss, 1e-2 * cpu_loss);
}

TEST(CudaFisher, GradientsMatchTheCpuOnTestTiny) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    check_gradients(model::synthetic_shape("test-tiny"));
}

TEST(CudaFisher, GradientsMatchTheCpuWithFourQueryHeadsPerKvHead) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    check_gradients(kWideGqa);
}

TEST(CudaFisher, DiagonalMatchesTheCpuOverSamplesOfSeveralLengths) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    for (const auto& shape : {model::synthetic_shape("test-tiny"), kWideGqa}) {
        SCOPED_TRACE(std::string(shape.name));
        const model::ModelWeights w = synthetic_model(shape);
        const std::vector<std::vector<std::int32_t>> samples{sequence(40, 0, w.config.vocab_size),
                                                             sequence(2, 1, w.config.vocab_size),
                                                             sequence(97, 2, w.config.vocab_size)};
        const model::FisherDiagonal cpu = model::fisher_diagonal(w, samples, 1);
        ASSERT_EQ(cpu.head.rows, w.config.vocab_size);
        FisherRun run;
        const model::FisherDiagonal gpu = fisher_diagonal_on_device(w, samples, 0, false, {}, &run, model::HeadGradient::compute);
        const double err = worst_error(gpu, cpu, 2e-4);  // squares: twice the gradients' relative error
        // Without the head's entries: none downloaded, every other entry the same bits.
        const model::FisherDiagonal no_head = fisher_diagonal_on_device(w, samples, 0, false, {}, nullptr, model::HeadGradient::skip);
        EXPECT_TRUE(no_head.head.data.empty());
        for (std::size_t l = 0; l < gpu.linear.size(); ++l)
            for (std::size_t k = 0; k < 7; ++k) EXPECT_EQ(no_head.linear[l][k].data, gpu.linear[l][k].data) << l << " " << k;
        std::printf("%s Fisher diagonal (3 samples): worst relative error FP32 %.3g, peak GPU %.0f MiB\n",
                    std::string(shape.name).c_str(), err, static_cast<double>(run.peak_device_bytes) / (1 << 20));
        EXPECT_GT(run.mean_loss, 0);
        EXPECT_GT(run.peak_device_bytes, 0u);
    }
}

// Bad input is refused before the device is opened: the same codes with or without a GPU.
std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input);
        return e.diagnostic().code;
    }
    return "no error";
}

TEST(CudaFisher, BadSamplesAreRefusedBeforeTheDevice) {
    model::ModelWeights w;  // only the config is read before the device
    w.config.vocab_size = 10;
    const std::vector<std::vector<std::int32_t>> none;
    EXPECT_EQ(code_of([&] { fisher_diagonal_on_device(w, none, 0, false); }), "E8160");
    const std::vector<std::vector<std::int32_t>> short_one{{1, 2, 3}, {4}};
    EXPECT_EQ(code_of([&] { fisher_diagonal_on_device(w, short_one, 0, false); }), "E8161");
    const std::vector<std::vector<std::int32_t>> outside{{1, 2, 3}, {4, 10}};
    EXPECT_EQ(code_of([&] { fisher_diagonal_on_device(w, outside, 0, false); }), "E8162");
    const std::vector<std::int32_t> negative{3, -1};
    EXPECT_EQ(code_of([&] { linear_gradients_on_device(w, negative, 0, false); }), "E8162");
}

// A model the CUDA forward does not run (here MoE) is E8103, never a CPU fallback.
TEST(CudaFisher, UnsupportedModelIsRefused) {
    const model::ModelWeights w = synthetic_model(model::synthetic_shape("test-tiny-moe"));
    const std::vector<std::vector<std::int32_t>> samples{sequence(8, 0, w.config.vocab_size)};
    EXPECT_EQ(code_of([&] { fisher_diagonal_on_device(w, samples, 0, false); }), "E8103");
}

}  // namespace
}  // namespace halo::cuda
