// The one "RxC" parser (--array, --tile): accepted shapes and the E0010 usage error naming the place.
#include <gtest/gtest.h>

#include "halo/util/diagnostics.hpp"
#include "halo/util/shape.hpp"

namespace halo {
namespace {

TEST(ShapeRc, ParsesRowsAndCols) {
    const ShapeRc s = parse_shape_rc("--tile", "128x64");
    EXPECT_EQ(s.rows, 128);
    EXPECT_EQ(s.cols, 64);
    EXPECT_EQ(parse_shape_rc("--array", "1x16384").cols, 16384);
    EXPECT_EQ(parse_shape_rc("--array", "8x8", 8).rows, 8);
}

TEST(ShapeRc, BadShapesAreUsageErrorsAtThePlace) {
    for (const char* bad : {"128", "x8", "8x", "0x8", "8x0", "-1x8", "8x8x8", "8 x8", "16385x1", "axb", ""}) {
        try {
            (void)parse_shape_rc("--tile", bad);
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E0010") << bad;
            EXPECT_EQ(e.diagnostic().place, "--tile");
            EXPECT_EQ(e.diagnostic().kind, ErrorKind::usage);
            EXPECT_EQ(e.diagnostic().found, std::string("\"") + bad + "\"");
        }
    }
    EXPECT_THROW((void)parse_shape_rc("--array", "9x8", 8), Error);
}

}  // namespace
}  // namespace halo
