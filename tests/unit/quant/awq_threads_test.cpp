// AWQ's CPU rounding runs row-parallel (quantize_rtn's group rows, decode's rows): every thread
// count must give the very tensor of the serial reference loop: codes, group parameters, input
// scales, the chosen alpha and the objective, bit for bit.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include "halo/quant/methods.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

void expect_same_tensor(const QuantizedTensor& a, const QuantizedTensor& b) {
    EXPECT_EQ(a.codes(), b.codes());
    ASSERT_EQ(a.all_params().size(), b.all_params().size());
    for (std::size_t i = 0; i < a.all_params().size(); ++i) {
        EXPECT_EQ(a.all_params()[i].scale, b.all_params()[i].scale) << i;
        EXPECT_EQ(a.all_params()[i].zero, b.all_params()[i].zero) << i;
    }
    EXPECT_EQ(a.tensor_scale, b.tensor_scale);
    EXPECT_EQ(a.input_scale, b.input_scale);
}

// Row counts that do not divide by the thread count or the group rows; a tensor-scaled format
// (nvfp4) checks that its one tensor-wide scale is fitted before the parallel rows.
TEST(RtnThreads, EveryThreadCountGivesTheSerialTensor) {
    const auto w = testing::random_matrix(37, 160, 5);
    for (const char* f : {"int4", "int3-asym", "nvfp4"}) {
        for (const Granularity g : {Granularity::per_group(32), Granularity::per_channel()}) {
            SCOPED_TRACE(fmt::format("{} {}", f, g.describe()));
            const auto spec = make_spec(f, f == std::string("nvfp4") ? Granularity::per_group(16) : g);
            const QuantizedTensor serial = quantize_rtn(w, spec, 0.9f, 1);
            for (const unsigned threads : {2u, 3u, 8u}) expect_same_tensor(quantize_rtn(w, spec, 0.9f, threads), serial);
        }
    }
}

TEST(AwqThreads, EveryThreadCountGivesTheSerialResult) {
    const auto w = testing::random_matrix(45, 96, 21);
    const auto x = testing::correlated_activations(256, 96, 22);
    const auto g = testing::gram_of(x);
    for (const Granularity gran : {Granularity::per_group(32), Granularity::per_channel()}) {
        SCOPED_TRACE(gran.describe());
        const auto spec = make_spec("int4", gran);
        const AwqResult serial = quantize_awq(w, g, testing::abs_mean_of(x), spec);
        for (const unsigned threads : {2u, 4u, 0u}) {
            AwqOptions o;
            o.threads = threads;
            const AwqResult r = quantize_awq(w, g, testing::abs_mean_of(x), spec, o);
            EXPECT_EQ(r.alpha, serial.alpha);
            EXPECT_EQ(r.error, serial.error);
            EXPECT_EQ(r.rtn_error, serial.rtn_error);
            expect_same_tensor(r.tensor, serial.tensor);
        }
    }
}

}  // namespace
}  // namespace halo::quant
