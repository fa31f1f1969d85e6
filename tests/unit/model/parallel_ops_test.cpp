// The parallel forms of the gated activation and the per-token NLL (parallel_ops.hpp) give the
// serial forms' values bit for bit, whatever the block boundaries and thread count.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "halo/model/blas.hpp"
#include "halo/model/forward_ops.hpp"
#include "halo/model/parallel_ops.hpp"

namespace halo::model {
namespace {

std::vector<float> random_values(std::size_t n, unsigned seed, float lo, float hi) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

TEST(ParallelOps, GatedActivationEqualsTheSerialFormBitForBit) {
    set_blas_threads(2);
    // Lengths: below one block, a block and a bit, several blocks with an odd tail.
    for (const std::int64_t n : {std::int64_t{100}, std::int64_t{1024 + 3}, std::int64_t{5 * 1024 + 17}}) {
        const auto gate = random_values(static_cast<std::size_t>(n), 1, -12.0f, 12.0f);
        const auto up = random_values(static_cast<std::size_t>(n), 2, -3.0f, 3.0f);
        for (const bool gelu : {false, true}) {
            std::vector<float> serial(static_cast<std::size_t>(n)), parallel(static_cast<std::size_t>(n), -1.0f);
            gated_activation(gate.data(), up.data(), serial.data(), n, gelu);
            gated_activation_parallel(gate.data(), up.data(), parallel.data(), n, gelu, 1024);
            for (std::int64_t i = 0; i < n; ++i)
                ASSERT_EQ(parallel[static_cast<std::size_t>(i)], serial[static_cast<std::size_t>(i)])
                    << "n " << n << " gelu " << gelu << " at " << i;
        }
    }
}

TEST(ParallelOps, TokenNllsEqualTheSerialLoopBitForBit) {
    set_blas_threads(2);
    const std::int64_t rows = 37, vocab = 4099;  // rows: several work items and a partial one
    Matrix logits(rows, vocab);
    logits.data = random_values(static_cast<std::size_t>(rows * vocab), 3, -20.0f, 15.0f);
    std::vector<std::int32_t> targets;
    for (std::int64_t i = 0; i < rows - 2; ++i) targets.push_back(static_cast<std::int32_t>((i * 911) % vocab));
    const auto nll = token_nlls(logits, 2, targets);
    ASSERT_EQ(nll.size(), targets.size());
    for (std::size_t i = 0; i < targets.size(); ++i) {
        const double serial = token_nll(logits.row(2 + static_cast<std::int64_t>(i)), vocab, targets[i]);
        ASSERT_EQ(nll[i], serial) << i;
        EXPECT_GT(nll[i], 0.0) << i;
    }
    EXPECT_TRUE(token_nlls(logits, 0, {}).empty());
}

}  // namespace
}  // namespace halo::model
