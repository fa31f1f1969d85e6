// Activation quantization on the GPU (`eval --device cuda --act-format`) against the CPU (the
// reference): every row of the GPU's activation-format table (act_row_format.hpp) bit for bit
// on hostile rows, the attention operands, and the forward's logits with the same format on
// both sides. The names and the host-compiled row functions: act_row_quant_test.cpp (no GPU).
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <random>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/cuda/act_row_format.hpp"
#include "halo/cuda/cuda_backend.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/model/activation_quant.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/quant/amove_activation.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"
#include "activation_rows.hpp"
#include "have_gpu.hpp"

namespace halo::cuda {
namespace {

using test::have_gpu;

using test::cpu_quantize;
using test::differing;
using test::hostile_rows;
using test::nonfinite_rows;
using test::row_examples;

// Where the CPU's result for a row holding an inf runs through a NaN that inf/inf or 0*inf made
// and then reads its sign (minifloat encode of the NaN scale): x86 makes a negative NaN, the GPU
// a positive one, so such rows may differ (act_row_quant.hpp). Rows with NaN inputs and no inf
// do not (both propagate the input's positive NaN).
bool inf_rows_defined(GpuActRow row) { return row != GpuActRow::nvfp4 && row != GpuActRow::amove && row != GpuActRow::olive4; }

model::ModelConfig tiny_config() {
    static std::atomic<int> n{0};
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo_cuda_act_{}_{}", ::getpid(), n++);
    model::SyntheticOptions o;
    o.dtype = "f32";
    model::write_synthetic_checkpoint(dir, model::synthetic_shape("test-tiny"), o);
    const model::ModelConfig config = model::LazyModel(dir).config();
    std::filesystem::remove_all(dir);
    return config;
}

// Every example of every row of the GPU's activation-format table (act_row_format.hpp), on the
// linears' rows; the operands also as "+attn" on Q-like rows and V-like columns. Bit for bit.
// One line per name ("act-kernel ...": the differing values of each check), so that a device
// log shows every result, not only the first failures.
TEST(CudaActivationQuant, KernelsEqualTheCpuBitForBit) {
    if (!have_gpu()) GTEST_SKIP() << "no GPU";
    std::unique_ptr<ForwardEngine> engine(backend_api().make_forward(0, tiny_config(), 1, 16, false));
    std::size_t names = 0, values = 0;
    for (const auto& row : gpu_activation_rows()) {
        const auto id = static_cast<GpuActRow>(&row - gpu_activation_rows().data());
        for (const auto& name : row_examples(row)) {
            std::size_t rows_differ = 0, nan_differ = 0, inf_differ = 0, q_differ = 0, v_differ = 0;
            for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{23, 320}, {7, 1000}, {12, 50}}) {
                std::vector<float> want = hostile_rows(rows, cols, 17), got = want;
                cpu_quantize(name, want.data(), rows, cols);
                engine->set_activation_quant(device_activation_quant(name));
                engine->quantize_activations(got.data(), rows, cols, ActivationUse::linear);
                rows_differ += differing(want, got);
                values += want.size();
                std::vector<float> nf = nonfinite_rows(cols, 5), nf_got = nf;
                cpu_quantize(name, nf.data(), 4, cols);
                engine->quantize_activations(nf_got.data(), 4, cols, ActivationUse::linear);
                const auto c = static_cast<std::ptrdiff_t>(cols);
                const std::vector<float> nan_row(nf.begin(), nf.begin() + c), nan_row_got(nf_got.begin(), nf_got.begin() + c);
                nan_differ += differing(nan_row, nan_row_got);
                inf_differ += differing(nf, nf_got) - differing(nan_row, nan_row_got);
            }
            // A preset (amove-aggressive, amove-conservative-fp4) already names its attention
            // operands, and "<preset>+attn" is not a name the CPU takes (E6801): test it as is.
            const auto own_plan = quant::parse_activation_plan(name);
            const bool names_attn = name.find('+') != std::string::npos || (own_plan && own_plan->attention);
            const std::string attn = names_attn ? name : name + "+attn";
            const bool has_attn = name != "int8_per_token" && device_activation_quant(attn).attention;
            if (has_attn) {
                const model::ForwardHooks hooks = quant::activation_plan_hooks(*quant::parse_activation_plan(attn));
                engine->set_activation_quant(device_activation_quant(attn));
                for (const auto& [rows, cols] : {std::pair<std::int64_t, std::int64_t>{96, 64}, {33, 17}}) {
                    std::vector<float> want = hostile_rows(rows, cols, 3), got = want;
                    hooks.attn_q(want.data(), rows, cols, 0);
                    engine->quantize_activations(got.data(), rows, cols, ActivationUse::attention_rows);
                    q_differ += differing(want, got);
                    want = hostile_rows(rows, cols, 4), got = want;
                    hooks.attn_v(want.data(), rows, cols, 0);
                    engine->quantize_activations(got.data(), rows, cols, ActivationUse::attention_columns);
                    v_differ += differing(want, got);
                }
                ++names;
            }
            std::printf("act-kernel %s: rows %zu, NaN row %zu, inf rows %zu%s, +attn Q %zu, V %zu\n", name.c_str(), rows_differ,
                        nan_differ, inf_differ, inf_rows_defined(id) ? "" : " (NaN sign not defined)", q_differ, v_differ);
            EXPECT_EQ(rows_differ, 0u) << name;
            EXPECT_EQ(nan_differ, 0u) << name;
            if (inf_rows_defined(id)) {
                EXPECT_EQ(inf_differ, 0u) << name;
            }
            EXPECT_EQ(q_differ, 0u) << name;
            EXPECT_EQ(v_differ, 0u) << name;
        }
    }
    std::printf("act kernels: %zu names with +attn, %zu finite values compared\n", names, values);
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
    // Bounds on max |gpu - cpu| / max |logit|: the GEMMs differ in FP32 rounding, so a value near
    // a rounding boundary may land one code apart on the two devices; coarser formats move more.
    for (const Case k : {Case{"int8_per_token", 5e-3}, Case{"int8@row", 5e-3}, Case{"int4@g64", 5e-2},
                         Case{"int4-asym@g64", 5e-2}, Case{"fp8-e4m3@g32", 5e-2}, Case{"mxfp4", 0.1}, Case{"nvfp4", 0.1},
                         Case{"amove-int4-g32c4", 0.1}, Case{"olive4", 0.1}, Case{"ant4", 0.1}, Case{"int8@row+attn", 2e-2},
                         Case{"int4@g64+attn", 0.15}, Case{"amove-conservative", 0.15}, Case{"int8@row+attn=mxfp4", 0.15}}) {
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
