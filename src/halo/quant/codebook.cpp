#include "halo/quant/codebook.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::quant {

Codebook::Codebook(std::vector<float> values) : values_(std::move(values)) {
    if (values_.empty() || values_.size() > 256)
        throw_bad_value("E6002", "codebook", "a codebook needs 1 to 256 values", "1..256 entries",
                        fmt::format("{} entries", values_.size()), "codes are stored in at most 8 bits");
    for (std::size_t i = 0; i < values_.size(); ++i) {
        if (!std::isfinite(values_[i]))
            throw_bad_value("E6002", fmt::format("codebook[{}]", i), "codebook value is not finite", "a finite number",
                            fmt::format("{}", values_[i]));
        if (i > 0 && !(values_[i] > values_[i - 1]))
            throw_bad_value("E6002", fmt::format("codebook[{}]", i), "codebook values must be sorted and distinct",
                            fmt::format("a value > {}", values_[i - 1]), fmt::format("{}", values_[i]),
                            "sort the values and drop duplicates");
    }
}

int Codebook::bits() const {
    int b = 1;
    while ((std::size_t{1} << b) < values_.size()) ++b;
    return b;
}

float Codebook::max_abs() const { return std::max(std::fabs(values_.front()), std::fabs(values_.back())); }

std::uint8_t Codebook::encode_ref(float x) const {
    std::size_t best = 0;
    for (std::size_t i = 1; i < values_.size(); ++i) {
        const float d = std::fabs(values_[i] - x), db = std::fabs(values_[best] - x);
        if (d < db || (d == db && i % 2 == 0 && best % 2 != 0)) best = i;
    }
    return static_cast<std::uint8_t>(best);
}

std::uint8_t Codebook::encode(float x) const {
    const auto it = std::lower_bound(values_.begin(), values_.end(), x);
    if (it == values_.begin()) return 0;
    if (it == values_.end()) return static_cast<std::uint8_t>(values_.size() - 1);
    const auto hi = static_cast<std::size_t>(it - values_.begin()), lo = hi - 1;
    const float dl = x - values_[lo], dh = values_[hi] - x;
    if (dl < dh) return static_cast<std::uint8_t>(lo);
    if (dh < dl) return static_cast<std::uint8_t>(hi);
    return static_cast<std::uint8_t>(lo % 2 == 0 ? lo : hi);
}

}  // namespace halo::quant
