// The one parser of 2-D shapes "RxC" (rows x cols, e.g. 128x128): the systolic array
// (`--array`), a quantization or HALO tile (`--tile`). The CLI's flags and the Python package's
// options both come here, so a shape has one syntax and one error everywhere.
#pragma once

#include <cstdint>
#include <string_view>

namespace halo {

struct ShapeRc {
    std::int64_t rows = 0;
    std::int64_t cols = 0;
};

inline constexpr std::int64_t kMaxShapeSide = 16384;

// "RxC" with 1 <= R, C <= max_side. Otherwise a usage error E0010 at `place` (the flag or option
// name, "--tile"), with what was expected and what was found.
ShapeRc parse_shape_rc(std::string_view place, std::string_view text, std::int64_t max_side = kMaxShapeSide);

}  // namespace halo
