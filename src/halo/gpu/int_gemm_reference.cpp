#include "halo/gpu/int_gemm_reference.hpp"

#include <cstddef>

namespace halo::gpu {

std::vector<std::int32_t> int8_gemm_reference(const std::vector<std::int8_t>& a, const std::vector<std::int8_t>& w,
                                              std::int64_t m, std::int64_t n, std::int64_t k) {
    std::vector<std::int32_t> c(static_cast<std::size_t>(m * n), 0);
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t j = 0; j < n; ++j) {
            std::int32_t acc = 0;
            for (std::int64_t p = 0; p < k; ++p) acc += std::int32_t{a[static_cast<std::size_t>(i * k + p)]} * w[static_cast<std::size_t>(j * k + p)];
            c[static_cast<std::size_t>(i * n + j)] = acc;
        }
    return c;
}

}  // namespace halo::gpu
