#include <charconv>

#include <fmt/format.h>

#include "halo/cuda/cuda_model.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cuda {

std::optional<int> parse_device(std::string_view text) {
    if (text == "cpu") return std::nullopt;
    if (text == "cuda") return 0;
    if (text.substr(0, 5) == "cuda:") {
        int n = -1;
        const auto digits = text.substr(5);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec == std::errc() && end == digits.data() + digits.size() && n >= 0) return n;
    }
    throw_usage("E8100", fmt::format("--device: unknown device \"{}\" (expected cpu, cuda or cuda:N)", text));
}

}  // namespace halo::cuda
