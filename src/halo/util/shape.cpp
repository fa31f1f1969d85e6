#include "halo/util/shape.hpp"

#include <charconv>
#include <string>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo {

namespace {

bool parse_int(std::string_view s, std::int64_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

ShapeRc parse_shape_rc(std::string_view place, std::string_view text, std::int64_t max_side) {
    const std::size_t x = text.find('x');
    ShapeRc s;
    if (x == std::string_view::npos || !parse_int(text.substr(0, x), s.rows) || !parse_int(text.substr(x + 1), s.cols) ||
        s.rows < 1 || s.cols < 1 || s.rows > max_side || s.cols > max_side)
        throw_bad_flag("E0010", std::string(place), "bad shape", fmt::format("RxC with 1..{} each, e.g. 128x128", max_side),
                       fmt::format("\"{}\"", text));
    return s;
}

}  // namespace halo
