#include "halo/model/parallel_ops.hpp"

#include <algorithm>

#include "halo/model/blas.hpp"
#include "halo/model/forward_ops.hpp"

namespace halo::model {

void gated_activation_parallel(const float* gate, const float* up, float* out, std::int64_t n, bool gelu,
                               std::int64_t block) {
    if (n <= block || model_parallel_workers() <= 1) {
        gated_activation(gate, up, out, n, gelu);
        return;
    }
    const std::int64_t blocks = (n + block - 1) / block;
    model_parallel_for(static_cast<std::size_t>(blocks), [&](std::size_t b, unsigned) {
        const std::int64_t lo = static_cast<std::int64_t>(b) * block;
        gated_activation(gate + lo, up + lo, out + lo, std::min(block, n - lo), gelu);
    });
}

std::vector<double> token_nlls(const Matrix& logits, std::int64_t first_row, std::span<const std::int32_t> targets) {
    const auto n = static_cast<std::int64_t>(targets.size());
    std::vector<double> out(targets.size());
    const std::int64_t items = (n + kNllTokensPerItem - 1) / kNllTokensPerItem;
    model_parallel_for(static_cast<std::size_t>(items), [&](std::size_t item, unsigned) {
        const std::int64_t lo = static_cast<std::int64_t>(item) * kNllTokensPerItem;
        for (std::int64_t i = lo; i < std::min(n, lo + kNllTokensPerItem); ++i)
            out[static_cast<std::size_t>(i)] =
                token_nll(logits.row(first_row + i), logits.cols, targets[static_cast<std::size_t>(i)]);
    });
    return out;
}

}  // namespace halo::model
