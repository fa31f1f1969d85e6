// The CUDA forward against the CPU forward (the reference): logits on a synthetic GQA model
// and on the installed default model. GPU tests skip where open_device fails (CI, the dev
// machine); there the failure itself is checked: a clear bad-input E8101 (no driver or GPU;
// E8108 when the driver reports zero devices) raised inside the dlopen'ed module and caught
// here as halo::Error, or E8109 (no module), never a fallback.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/cuda/cuda_model.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/util/diagnostics.hpp"
#include "have_gpu.hpp"

namespace halo::cuda {
namespace {

using test::have_gpu;

TEST(CudaDevice, ParsesDeviceNamesAndRejectsOthers) {
    EXPECT_EQ(parse_device("cpu"), std::nullopt);
    EXPECT_EQ(parse_device("cuda"), 0);
    EXPECT_EQ(parse_device("cuda:3"), 3);
    for (const char* bad : {"gpu", "cuda:", "cuda:-1", "cuda:1x", "CUDA"}) {
        try {
            parse_device(bad);
            ADD_FAILURE() << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E8100") << bad;
        }
    }
}

TEST(CudaDevice, WithoutAGpuOpeningIsABadInputErrorNotAFallback) {
    if (have_gpu()) GTEST_SKIP() << "a GPU is present";
    try {
        open_device(0);
        ADD_FAILURE() << "expected E8101, E8108 or E8109";
    } catch (const Error& e) {
        const std::string code = e.diagnostic().code;
        if (cuda_built())
            EXPECT_TRUE(code == "E8101" || code == "E8108") << code;
        else
            EXPECT_EQ(code, "E8109");
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input);
    }
}

// Max |gpu - cpu| over the scored rows, relative to the largest |cpu| logit.
double relative_logit_error(const std::filesystem::path& model_path, std::int64_t S, std::int64_t first_row) {
    const model::LazyModel lazy(model_path);
    const model::ModelWeights w = lazy.load_all();
    std::vector<std::int32_t> tokens;
    for (std::int64_t t = 0; t < S; ++t) tokens.push_back(static_cast<std::int32_t>((t * 37 + 11) % 250));
    const model::Matrix cpu = model::forward_logits(w, tokens, {.threads = 0, .hooks = nullptr, .logits_from_row = first_row});
    CudaModel gpu(lazy, 0, S);
    const model::Matrix g = gpu.logits(tokens, first_row);
    EXPECT_EQ(g.rows, cpu.rows);
    EXPECT_EQ(g.cols, cpu.cols);
    double max_err = 0, max_abs = 0;
    for (std::int64_t r = first_row; r < S; ++r)
        for (std::int64_t c = 0; c < cpu.cols; ++c) {
            max_err = std::max(max_err, std::fabs(double(g.at(r, c)) - cpu.at(r, c)));
            max_abs = std::max(max_abs, std::fabs(double(cpu.at(r, c))));
        }
    for (std::int64_t c = 0; c < cpu.cols && first_row > 0; ++c) EXPECT_EQ(g.at(0, c), 0.0f);
    EXPECT_GT(gpu.device_bytes(), 0u);
    {  // uploaded from weights in memory (a quantized model's path): the same device arithmetic
        CudaModel from_memory(w, 0, S);
        EXPECT_EQ(from_memory.logits(tokens, first_row).data, g.data);
    }
    // The GPU log-softmax: NLLs of the scored targets against token_nll of the CPU logits (which
    // exist from row first_row on, so the first target is first_row + 1).
    const std::int64_t first_target = first_row + 1;
    const auto nll = gpu.next_token_nll(tokens, first_target, S);
    EXPECT_EQ(static_cast<std::int64_t>(nll.size()), S - first_target);
    for (std::int64_t t = first_target; t < S; ++t) {
        const double want = model::token_nll(cpu.row(t - 1), cpu.cols, tokens[static_cast<std::size_t>(t)]);
        EXPECT_NEAR(nll[static_cast<std::size_t>(t - first_target)], want, 1e-3 * std::max(1.0, want)) << t;
    }
    return max_err / max_abs;
}

TEST(CudaForward, LogitsMatchTheCpuOnASyntheticGqaModel) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    static std::atomic<int> n{0};
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo_cuda_test_{}_{}", ::getpid(), n++);
    model::SyntheticOptions o;
    o.dtype = "f32";
    model::write_synthetic_checkpoint(dir, model::synthetic_shape("test-tiny"), o);
    EXPECT_LT(relative_logit_error(dir, 100, 0), 1e-4);
    EXPECT_LT(relative_logit_error(dir, 64, 32), 1e-4);
    std::filesystem::remove_all(dir);
}

TEST(CudaForward, LogitsMatchTheCpuOnTheDefaultModel) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    if (!std::filesystem::exists(model::default_model_path())) GTEST_SKIP() << "default model not installed";
    EXPECT_LT(relative_logit_error(model::default_model_path(), 256, 128), 1e-3);
}

}  // namespace
}  // namespace halo::cuda
