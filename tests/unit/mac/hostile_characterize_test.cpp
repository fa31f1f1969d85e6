// Hostile characterize inputs (issue #17 classes 3 and 7): a 301-byte netlist with a 24-bit weight
// port used to abort on bad_alloc (16M profile rows); a float weight format wider than its port,
// and a NaN or negative --load-pf, are refused before any analysis.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "halo/mac/characterize.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {
namespace {

namespace fs = std::filesystem;

// A one-inverter netlist over tests/data/liberty/tiny.lib with a `width`-bit weight port w.
fs::path inverter_netlist(int width) {
    std::string bits;
    for (int i = 0; i < width; ++i) bits += (i ? "," : "") + std::to_string(2 + i);
    const fs::path p = fs::temp_directory_path() / ("halo_w" + std::to_string(width) + "_" + std::to_string(::getpid()) + ".json");
    write_file_atomic(p, R"({"modules":{"m":{"attributes":{"top":"1"},"ports":{"w":{"direction":"input","bits":[)" + bits +
                             R"(]},"y":{"direction":"output","bits":[99]}},"cells":{"g":{"type":"INV","connections":{"A":[2],"Y":[99]}}}}}})");
    return p;
}

Diagnostic error_of(const CharacterizeOptions& o) {
    try {
        (void)characterize(o);
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "expected an error";
    return {};
}

CharacterizeOptions options(const fs::path& netlist) {
    CharacterizeOptions o;
    o.netlist_json = netlist;
    o.liberty = fs::path(HALO_TEST_DATA_DIR) / "liberty/tiny.lib";
    o.threads = 1;
    return o;
}

TEST(HostileCharacterize, TwentyFourBitWeightPortIsRefused) {
    const fs::path nl = inverter_netlist(24);
    const auto d = error_of(options(nl));
    EXPECT_EQ(d.code, "E4503");
    EXPECT_EQ(d.render(), nl.string() + ": error E4503: weight port \"w\" of module m has the wrong width (expected 1 to 16 bits, "
                                        "found 24 bits); hint: check --weight-format / --weight-port");
    fs::remove(nl);
}

TEST(HostileCharacterize, FloatFormatWiderThanItsPort) {
    const fs::path nl = inverter_netlist(4);
    auto o = options(nl);
    o.weight_format = "fp8-e4m3";
    const auto d = error_of(o);
    EXPECT_EQ(d.code, "E4503");
    EXPECT_EQ(d.expected, "8 bits for the weight format");
    EXPECT_EQ(d.found, "4 bits");
    fs::remove(nl);
}

TEST(HostileCharacterize, NanOrNegativeLoadIsAFlagError) {
    const fs::path nl = inverter_netlist(4);
    for (double load : {std::nan(""), -0.01}) {
        auto o = options(nl);
        o.load_pf = load;
        try {
            (void)characterize(o);
            ADD_FAILURE() << "expected E4541";
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E4541");
            EXPECT_EQ(e.exit_code(), 1);
            EXPECT_NE(std::string(e.what()).find("--load-pf: output load is not a physical capacitance (expected a finite load >= 0 pF, found "),
                      std::string::npos) << e.what();
        }
    }
    fs::remove(nl);
}

}  // namespace
}  // namespace halo::mac
