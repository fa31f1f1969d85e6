// Physically impossible Liberty values (issue #17 class 7): each is refused with its code, the
// file, the line, what was expected and what was found. osu018, which has small negative cell
// delays at slow input slews (legitimate for 50%-50% delays), still loads.
#include <gtest/gtest.h>

#include "error_matchers.hpp"
#include "liberty_fixture.hpp"
#include "halo/liberty/liberty_reader.hpp"

using namespace halo::liberty;

namespace {

void expect(const std::string& text, const std::string& code, long line, const std::string& rendered_part) {
    const auto d = expect_halo_error([&] { read_liberty_string(text, "p.lib"); });
    EXPECT_EQ(d.code, code) << d.render();
    EXPECT_EQ(d.file, "p.lib");
    EXPECT_EQ(d.line, line) << d.render();
    EXPECT_NE(d.render().find(rendered_part), std::string::npos) << d.render();
}

TEST(LibertyPhysics, NegativeCapacitanceAreaLeakage) {
    expect("library (p) {\n  cell (X) {\n    pin (A) { direction : input; capacitance : -0.5; }\n  }\n}\n", "E1208", 3,
           "pin A capacitance is negative (expected a value >= 0, found -0.5)");
    expect("library (p) {\n  cell (X) {\n    pin (A) { direction : input; rise_capacitance : -1; }\n  }\n}\n", "E1208", 3,
           "rise_capacitance is negative");
    expect("library (p) {\n  cell (X) {\n    area : -3;\n  }\n}\n", "E1208", 3, "cell X area is negative (expected a value >= 0, found -3)");
    expect("library (p) {\n  cell (X) {\n    cell_leakage_power : -2;\n  }\n}\n", "E1208", 3, "cell_leakage_power is negative");
}

TEST(LibertyPhysics, NegativeLoadIndex) {
    expect("library (p) {\n  lu_table_template (t) {\n    variable_1 : total_output_net_capacitance;\n"
           "    index_1 (\"-1, 2\"); }\n}\n",
           "E1209", 4, "index_1 has a negative value (expected values >= 0, found -1)");
}

TEST(LibertyPhysics, NegativeTransitionAndTooNegativeDelay) {
    expect(lib_with(output_with("!A", "        rise_transition (t2) { values (\"1, 2, 3\", \"4, -5, 6\"); }\n")), "E1210", 10,
           "rise_transition value 5 is physically impossible (expected a transition >= 0 ns, found -5 ns)");
    // Slowest input transition 3 ns: a delay of -2 ns is possible, -4 ns is not.
    EXPECT_NO_THROW(read_liberty_string(
        lib_with(output_with("!A", "        cell_fall (t2) { values (\"1, 2, -2\", \"4, 5, 6\"); }\n")), "p.lib"));
    expect(lib_with(output_with("!A", "        cell_fall (t2) { values (\"1, 2, -4\", \"4, 5, 6\"); }\n")), "E1210", 10,
           "cell_fall value 3 is physically impossible (expected a delay >= -3 ns (minus the slowest input transition), found -4 ns)");
}

TEST(LibertyPhysics, FunctionReadingItsOwnOutput) {
    expect(lib_with(output_with("!(A Y)", "        cell_rise (t2) { values (\"1, 2, 3\", \"4, 5, 6\"); }\n")), "E1409", 8,
           "cell X pin Y: function reads its own output (expected a function of the input pins, found !(A Y))");
}

TEST(LibertyPhysics, FunctionWithoutTimingArcs) {
    expect(lib_with("    pin (Y) { direction : output; function : \"!A\"; }\n"), "E1410", 8,
           "cell X pin Y has a function but no timing arcs (expected a timing () group per input it depends on, "
           "found function \"!A\" and no timing)");
    // A tie cell (constant function) has no inputs and so no arcs.
    EXPECT_NO_THROW(read_liberty_string(lib_with("    pin (Y) { direction : output; function : \"1\"; }\n"), "p.lib"));
}

TEST(LibertyPhysics, Osu018StillLoads) {
    const Library lib = read_liberty("/usr/share/qflow/tech/osu018/osu018_stdcells.lib");
    EXPECT_GT(lib.cells.size(), 30u);
}

}  // namespace
