// Activation quantization on the GPU (`eval --device cuda --act-format`) against the CPU (the
// reference): which names the GPU takes (no GPU needed), the quantizer kernels bit for bit on
// rows with zeros, ties and outliers, and the forward's logits with the same format on both sides.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/cuda/cuda_backend.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/model/activation_quant.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/quant/amove_activation.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "have_gpu.hpp"

namespace halo::cuda {
namespace {

using test::have_gpu;

std::string error_code(std::string_view name) {
    try {
        (void)device_activation_quant(name);
    } catch (const Error& e) {
        return e.diagnostic().code;
    }
    return "";
}

TEST(CudaActivationQuant, NamesTheGpuTakes) {
    EXPECT_EQ(device_activation_quant("").kind, ActivationQuant::Kind::none);
    EXPECT_EQ(device_activation_quant("int8_per_token").kind, ActivationQuant::Kind::int8_per_token);
    const ActivationQuant g64 = device_activation_quant("int4@g64");
    EXPECT_EQ(g64.kind, ActivationQuant::Kind::int_symmetric);
    EXPECT_EQ(g64.bits, 4);
    EXPECT_EQ(g64.group, 64);
    const ActivationQuant row = device_activation_quant("int8@row");
    EXPECT_EQ(row.kind, ActivationQuant::Kind::int_symmetric);
    EXPECT_EQ(row.bits, 8);
    EXPECT_EQ(row.group, 0);
    // Not on the GPU: the attention matmuls, asymmetric and float rows, Amove, the baselines.
    for (const char* name : {"int4@g64+attn", "int4-asym@g64", "fp8-e4m3@g32", "mxfp4", "amove-conservative", "olive4"})
        EXPECT_EQ(error_code(name), "E8153") << name;
    EXPECT_EQ(error_code("no-such-format"), "E5510");
    EXPECT_EQ(error_code("int4@q64"), "E6804");
}

// The CPU quantizer of a name: model's own table (int8_per_token, its fast path: what the CPU
// forward's hooks run) or the quant plan's operand.
void cpu_quantize(std::string_view name, float* data, std::int64_t rows, std::int64_t cols) {
    if (name == "int8_per_token") return model::activation_format(name).fast(data, rows, cols);
    quant::parse_activation_plan(name)->linear.apply(data, rows, cols);
}

std::vector<float> hostile_rows(std::int64_t rows, std::int64_t cols, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> x(static_cast<std::size_t>(rows * cols));
    for (auto& v : x) v = nd(rng);
    for (std::int64_t c = 0; c < cols; ++c) x[static_cast<std::size_t>(c)] = 0.0f;  // an all-zero row
    for (std::int64_t c = 0; c < cols; ++c)  // exact ties: k/2 steps of a scale 1 (max 127 -> scale 1)
        x[static_cast<std::size_t>(cols + c)] = c == 0 ? 127.0f : static_cast<float>((c % 20) - 10) + 0.5f;
    for (std::int64_t r = 2; r < rows; r += 5) x[static_cast<std::size_t>(r * cols + (r * 7) % cols)] *= 60.0f;  // outliers
    return x;
}

TEST(CudaActivationQuant, KernelsEqualTheCpuBitForBit) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    static std::atomic<int> n{0};
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo_cuda_act_{}_{}", ::getpid(), n++);
    model::SyntheticOptions o;
    o.dtype = "f32";
    model::write_synthetic_checkpoint(dir, model::synthetic_shape("test-tiny"), o);
    const model::ModelConfig config = model::LazyModel(dir).config();
    std::unique_ptr<ForwardEngine> engine(backend_api().make_forward(0, config, 1, 16, false));
    for (const char* name : {"int8_per_token", "int8@row", "int4@g64", "int3@g32", "int4@g48"}) {
        for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{23, 320}, {7, 1000}}) {
            SCOPED_TRACE(fmt::format("{} {}x{}", name, rows, cols));
            std::vector<float> want = hostile_rows(rows, cols, 17), got = want;
            cpu_quantize(name, want.data(), rows, cols);
            engine->set_activation_quant(device_activation_quant(name));
            engine->quantize_activations(got.data(), rows, cols);
            std::size_t differ = 0;
            for (std::size_t i = 0; i < want.size(); ++i) differ += got[i] != want[i];
            EXPECT_EQ(differ, 0u) << "of " << want.size();
        }
    }
    std::filesystem::remove_all(dir);
}

// Logits of the whole forward with activations quantized on each side. The GEMMs differ in
// FP32 rounding, so a value near a rounding boundary may land one code apart; the bound says how
// far that may move the logits.
TEST(CudaActivationQuant, ForwardMatchesTheCpuWithTheSameFormat) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    static std::atomic<int> n{0};
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo_cuda_actfwd_{}_{}", ::getpid(), n++);
    model::SyntheticOptions o;
    o.dtype = "f32";
    model::write_synthetic_checkpoint(dir, model::synthetic_shape("test-tiny"), o);
    const model::LazyModel lazy(dir);
    const model::ModelWeights w = lazy.load_all();
    std::vector<std::int32_t> tokens;
    for (std::int64_t t = 0; t < 96; ++t) tokens.push_back(static_cast<std::int32_t>((t * 37 + 11) % 250));
    CudaModel gpu(lazy, 0, 96);
    const model::Matrix plain = model::forward_logits(w, tokens, {.threads = 0});
    struct Case {
        const char* name;
        double bound;
    };
    for (const Case k : {Case{"int8_per_token", 5e-3}, Case{"int8@row", 5e-3}, Case{"int4@g64", 5e-2}}) {
        SCOPED_TRACE(k.name);
        const model::ForwardHooks hooks = quant::activation_hooks_for(k.name);
        const model::Matrix cpu = model::forward_logits(w, tokens, {.threads = 0, .hooks = &hooks});
        gpu.set_activation_quant(device_activation_quant(k.name));
        const model::Matrix g = gpu.logits(tokens);
        double err = 0, scale = 0, moved = 0;
        for (std::size_t i = 0; i < cpu.data.size(); ++i) {
            err = std::max(err, std::fabs(double(g.data[i]) - cpu.data[i]));
            scale = std::max(scale, std::fabs(double(cpu.data[i])));
            moved = std::max(moved, std::fabs(double(cpu.data[i]) - plain.data[i]));
        }
        std::printf("act %s: max |gpu - cpu| / max |logit| = %.3g (quantization itself moved the logits by %.3g)\n", k.name,
                    err / scale, moved / scale);
        EXPECT_GT(moved, 0);  // the format did something on the CPU side
        EXPECT_LT(err / scale, k.bound);
    }
    gpu.set_activation_quant({});
    const model::Matrix back = gpu.logits(tokens);
    double err = 0, scale = 0;
    for (std::size_t i = 0; i < plain.data.size(); ++i) {
        err = std::max(err, std::fabs(double(back.data[i]) - plain.data[i]));
        scale = std::max(scale, std::fabs(double(plain.data[i])));
    }
    EXPECT_LT(err / scale, 1e-4);  // none again: the plain forward
    std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace halo::cuda
