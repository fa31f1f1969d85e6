// A codebook: a finite sorted set of values a code indexes (e.g. a chosen subset of INT8 codes
// that are fast on the MAC, or k-means centroids). Rounding is to the nearest entry, a tie going
// to the even index; outside the range it saturates to the first / last entry.
#pragma once

#include <cstdint>
#include <vector>

namespace halo::quant {

class Codebook {
public:
    Codebook() = default;
    // Sorted ascending, finite, distinct, 1..256 entries; otherwise bad input E6002.
    explicit Codebook(std::vector<float> values);

    const std::vector<float>& values() const { return values_; }
    std::size_t size() const { return values_.size(); }
    int bits() const;  // ceil(log2(size)), at least 1
    float value(std::uint8_t index) const { return values_[index]; }
    float min() const { return values_.front(); }
    float max() const { return values_.back(); }
    float max_abs() const;
    std::uint8_t encode_ref(float x) const;  // linear scan
    std::uint8_t encode(float x) const;      // binary search
    float round(float x) const { return values_[encode(x)]; }

private:
    std::vector<float> values_;
};

}  // namespace halo::quant
