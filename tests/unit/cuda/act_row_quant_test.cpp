// The GPU's activation-format table and its row quantizers, without a GPU: every name the CPU's
// --act-format takes has a row; act_row_quant.hpp's functions, compiled here for the host, give
// the CPU reference's bits on hostile rows (zeros, -0, ties, all-equal, huge, tiny, subnormal,
// NaN and inf), for the linears' rows and the attention's (Q rows, V columns). The same
// functions run in the GPU kernel (cuda_activation_test.cpp checks them there).
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "activation_rows.hpp"
#include "halo/cuda/act_row_format.hpp"
#include "halo/cuda/act_row_quant.hpp"
#include "halo/cuda/cuda_model.hpp"
#include "halo/model/activation_quant.hpp"
#include "halo/quant/amove_activation.hpp"
#include "halo/quant/format.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/scale_format.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {
namespace {

using test::cpu_quantize;
using test::differing;
using test::hostile_rows;
using test::nonfinite_rows;
using test::row_examples;

std::string error_code(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().code;
    }
    return "";
}

// The row of the table a name's linear operand runs on.
GpuActRow row_of(std::string_view name) {
    if (name == "int8_per_token") return GpuActRow::int8_per_token;
    return gpu_activation_row(quant::parse_activation_plan(name)->linear);
}

TEST(GpuActivationTable, EveryExampleRunsOnItsOwnRow) {
    const auto rows = gpu_activation_rows();
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const auto names = row_examples(rows[r]);
        EXPECT_FALSE(names.empty()) << rows[r].family;
        for (const auto& name : names) {
            SCOPED_TRACE(name);
            EXPECT_EQ(static_cast<std::size_t>(row_of(name)), r) << rows[r].family;
            EXPECT_NO_THROW((void)device_activation_quant(name));
        }
    }
}

// Every row of the CPU's tables, as --act-format spells it: each runs on the GPU, and what the
// CPU refuses the GPU refuses with the CPU's code.
TEST(GpuActivationTable, EveryNameTheCpuTakesHasARow) {
    for (const auto& f : model::activation_formats()) EXPECT_NO_THROW((void)device_activation_quant(f.name)) << f.name;
    std::size_t taken = 0;
    for (const quant::FormatTraits& f : quant::formats()) {
        std::vector<std::string> names;
        if (f.custom || f.uses_codebook()) names = {std::string(f.name), fmt::format("{}@g128", f.name)};
        else if (f.block_cols > 0) names = {std::string(f.name)};
        else names = {fmt::format("{}@g32", f.name), fmt::format("{}@row", f.name), fmt::format("{}@g48+attn", f.name)};
        for (const auto& name : names) {
            SCOPED_TRACE(name);
            const std::string cpu = error_code([&] { (void)quant::activation_hooks_for(name); });
            const std::string gpu = error_code([&] { (void)device_activation_quant(name); });
            EXPECT_EQ(gpu, cpu);
            taken += cpu.empty();
        }
    }
    EXPECT_EQ(taken, 77u);  // 22 plain rows x 3 spellings, 9 block formats, olive4 and ant4
    for (const char* e : {"int2", "int3", "int4", "int5", "int6", "int7", "int8", "fp4", "e2m1", "e3m2", "e2m3", "e4m3", "e5m2"})
        for (const char* rule : {"", "-mse", "-scale", "-mean"}) {
            const std::string name = fmt::format("amove-{}-g32c4{}", e, rule);
            EXPECT_EQ(row_of(name), GpuActRow::amove) << name;
        }
    for (const char* name : {"amove-aggressive", "amove-conservative", "amove-aggressive-int3", "amove-conservative-fp4"}) {
        const ActivationQuant q = device_activation_quant(name);
        EXPECT_EQ(q.kind, ActivationQuant::Kind::row_format) << name;
        EXPECT_TRUE(q.attention) << name;  // the presets quantize the attention matmuls
        EXPECT_EQ(q.attention_format.family, ActFamily::amove) << name;
    }
}

TEST(GpuActivationTable, KindsAndAttention) {
    EXPECT_EQ(device_activation_quant("").kind, ActivationQuant::Kind::none);
    EXPECT_EQ(device_activation_quant("int8_per_token").kind, ActivationQuant::Kind::int8_per_token);
    const ActivationQuant g64 = device_activation_quant("int4@g64");
    EXPECT_EQ(g64.kind, ActivationQuant::Kind::int_symmetric);
    EXPECT_EQ(g64.bits, 4);
    EXPECT_EQ(g64.group, 64);
    EXPECT_FALSE(g64.attention);
    const ActivationQuant attn = device_activation_quant("int8@row+attn=mxfp4");
    EXPECT_EQ(attn.kind, ActivationQuant::Kind::int_symmetric);
    EXPECT_TRUE(attn.attention);
    EXPECT_EQ(attn.attention_format.family, ActFamily::mx_floor);
    EXPECT_EQ(attn.attention_format.group, 32);
    const ActivationQuant asym = device_activation_quant("int4-asym@g64+attn");
    EXPECT_EQ(asym.kind, ActivationQuant::Kind::row_format);
    EXPECT_TRUE(asym.format.asymmetric);
    EXPECT_EQ(asym.format.group, 64);
    EXPECT_TRUE(asym.attention_format.asymmetric);
    EXPECT_EQ(device_activation_quant("olive4").format.family, ActFamily::olive4);
    EXPECT_EQ(device_activation_quant("ant4").format.family, ActFamily::ant4);
    // What the CPU refuses keeps the CPU's error.
    EXPECT_EQ(error_code([] { (void)device_activation_quant("no-such-format"); }), "E5510");
    EXPECT_EQ(error_code([] { (void)device_activation_quant("int4@q64"); }), "E6804");
    EXPECT_EQ(error_code([] { (void)device_activation_quant("bitmod-fp4@g128"); }), "E6804");
    EXPECT_EQ(error_code([] { (void)device_activation_quant("amove-int4-g30c4"); }), "E6802");
}

// act_quantize_row on every row of a matrix (what the kernel does, one block per row).
void port_rows(const ActRowFormat& f, float* x, std::int64_t rows, std::int64_t cols) {
    for (std::int64_t r = 0; r < rows; ++r) act_quantize_row(f, ActRow{x + r * cols, 1}, cols);
}
// The same on the columns of a [rows x cols] matrix (V: groups along tokens).
void port_columns(const ActRowFormat& f, float* x, std::int64_t rows, std::int64_t cols) {
    for (std::int64_t c = 0; c < cols; ++c) act_quantize_row(f, ActRow{x + c, cols}, rows);
}

struct Shape {
    std::int64_t rows, cols;
};
constexpr Shape kShapes[] = {{23, 320}, {13, 1000}, {12, 50}};

TEST(ActRowQuant, HostPortEqualsTheCpuOnEveryRow) {
    std::size_t checked = 0, names = 0;
    for (const auto& row : gpu_activation_rows()) {
        for (const auto& name : row_examples(row)) {
            if (name == "int8_per_token") continue;  // its own kernel (cuda_activation_test.cpp)
            ++names;
            const auto plan = quant::parse_activation_plan(name);
            const ActRowFormat f = act_row_format(plan->linear);
            for (const Shape s : kShapes) {
                SCOPED_TRACE(fmt::format("{} {}x{}", name, s.rows, s.cols));
                std::vector<float> want = hostile_rows(s.rows, s.cols, 17), got = want;
                cpu_quantize(name, want.data(), s.rows, s.cols);
                port_rows(f, got.data(), s.rows, s.cols);
                EXPECT_EQ(differing(want, got), 0u) << "of " << want.size();
                EXPECT_NE(differing(want, hostile_rows(s.rows, s.cols, 17)), 0u);  // the format did something
                // NaN and inf: the port takes the CPU's path (the x86 conversions, glibc's frexpf).
                std::vector<float> nf = nonfinite_rows(s.cols, 5), nf_got = nf;
                cpu_quantize(name, nf.data(), 4, s.cols);
                port_rows(f, nf_got.data(), 4, s.cols);
                EXPECT_EQ(differing(nf, nf_got), 0u) << "non-finite rows";
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, names * std::size(kShapes));
    EXPECT_GE(names, 40u);
}

// act_int_symmetric (the symmetric integer rows' own kernel) as the GPU runs it: per group the
// max |x| (fmaxf leaves NaNs out), int_symmetric_scale, int_symmetric_value. Its first device run
// (session 9) kept -0 where a negative value rounds to zero; the CPU decodes code 0 as +0.
void fast_int_symmetric(float* x, std::int64_t rows, std::int64_t cols, std::int64_t group, int bits) {
    const std::int64_t g = group > 0 && group < cols ? group : cols;
    for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t b = 0; b < cols; b += g) {
            float* p = x + r * cols;
            const std::int64_t e = std::min(cols, b + g);
            float amax = 0;
            for (std::int64_t c = b; c < e; ++c) amax = std::fmax(amax, std::fabs(p[c]));
            const float s = int_symmetric_scale(amax, bits);
            for (std::int64_t c = b; c < e; ++c) p[c] = int_symmetric_value(p[c], s, bits);
        }
}

TEST(ActRowQuant, FastIntSymmetricEqualsTheCpu) {
    const auto names = row_examples(gpu_activation_row_info(GpuActRow::int_symmetric));
    ASSERT_GE(names.size(), 5u);
    for (const auto& name : names) {
        const ActivationQuant q = device_activation_quant(name);
        ASSERT_EQ(q.kind, ActivationQuant::Kind::int_symmetric) << name;
        for (const Shape s : kShapes) {
            SCOPED_TRACE(fmt::format("{} {}x{}", name, s.rows, s.cols));
            std::vector<float> want = hostile_rows(s.rows, s.cols, 17), got = want;
            cpu_quantize(name, want.data(), s.rows, s.cols);
            fast_int_symmetric(got.data(), s.rows, s.cols, q.group, q.bits);
            EXPECT_EQ(differing(want, got), 0u);
            std::vector<float> nf = nonfinite_rows(s.cols, 5), nf_got = nf;
            cpu_quantize(name, nf.data(), 4, s.cols);
            fast_int_symmetric(nf_got.data(), 4, s.cols, q.group, q.bits);
            EXPECT_EQ(differing(nf, nf_got), 0u) << "non-finite rows";
        }
    }
}

// "+attn": the attention operand on Q's rows and on V's columns (model/attention.cpp's hooks).
TEST(ActRowQuant, HostPortEqualsTheCpuOnTheAttentionOperands) {
    for (const char* name : {"int4@g64+attn", "int4-asym@g32+attn", "amove-conservative", "amove-aggressive-int3",
                             "int8@row+attn=mxfp4", "int8@row+attn=nvfp4", "int8@row+attn=fp8-e4m3@g16", "int8@row+attn=olive4",
                             "int8@row+attn=ant4", "int8@row+attn=amove-int4-g32c4-mse"}) {
        const auto plan = quant::parse_activation_plan(name);
        const model::ForwardHooks hooks = quant::activation_plan_hooks(*plan);
        const ActRowFormat f = device_activation_quant(name).attention_format;
        for (const Shape s : {Shape{96, 64}, Shape{40, 128}, Shape{33, 17}}) {
            SCOPED_TRACE(fmt::format("{} {}x{}", name, s.rows, s.cols));
            std::vector<float> want = hostile_rows(s.rows, s.cols, 3), got = want;
            hooks.attn_q(want.data(), s.rows, s.cols, 0);
            port_rows(f, got.data(), s.rows, s.cols);
            EXPECT_EQ(differing(want, got), 0u) << "Q rows";
            want = hostile_rows(s.rows, s.cols, 4), got = want;
            hooks.attn_v(want.data(), s.rows, s.cols, 0);
            port_columns(f, got.data(), s.rows, s.cols);
            EXPECT_EQ(differing(want, got), 0u) << "V columns";
        }
    }
}

// The primitive helpers against what the CPU's own code does with the same inputs.
TEST(ActRowQuant, HelpersFollowTheCpu) {
    for (float x : {0.0f, 1.0f, 0.75f, 3.0f, 1e-42f, 1.17549435e-38f, 3.4e38f, 0.3f, 1e-7f}) {
        int e = 0;
        (void)std::frexp(x, &e);
        EXPECT_EQ(frexp_exponent(x), e) << x;
        if (x > 0) {
            EXPECT_EQ(floor_log2(x), static_cast<int>(std::floor(std::log2(static_cast<double>(x))))) << x;
        }
        EXPECT_EQ(fp16_decode(fp16_code(x)), quant::scale_format(quant::ScaleFormat::fp16).round(x)) << x;
        EXPECT_EQ(e8m0_code(x), quant::scale_format(quant::ScaleFormat::e8m0).encode(x)) << x;
    }
    EXPECT_EQ(frexp_exponent(std::numeric_limits<float>::infinity()), 0);
    EXPECT_EQ(frexp_exponent(std::numeric_limits<float>::quiet_NaN()), 0);
    EXPECT_EQ(x86_int(std::numeric_limits<float>::quiet_NaN()), INT_MIN);
    EXPECT_EQ(x86_int(3e9f), INT_MIN);
    EXPECT_EQ(x86_int(-2147483648.0f), INT_MIN);
    EXPECT_EQ(x86_int(-7.9f), -7);
    EXPECT_EQ(e8m0_code(std::numeric_limits<float>::infinity()),
              quant::scale_format(quant::ScaleFormat::e8m0).encode(std::numeric_limits<float>::infinity()));
}

}  // namespace
}  // namespace halo::cuda
