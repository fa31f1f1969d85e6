// LookupTable::lookup against a plain reference written differently: linear search for the
// segment, then interpolation along axis 2 first and axis 1 second (the same bilinear surface).
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "halo/liberty/liberty_reader.hpp"

using namespace halo::liberty;

namespace {

std::size_t reference_segment(const std::vector<double>& axis, double x) {
    std::size_t i = 0;
    while (i + 2 < axis.size() && axis[i + 1] <= x) ++i;
    return i;
}

double lerp_axis(const std::vector<double>& axis, double x, double y_at_i, double y_at_next, std::size_t i) {
    if (axis.size() < 2) return y_at_i;
    return y_at_i + (y_at_next - y_at_i) * (x - axis[i]) / (axis[i + 1] - axis[i]);
}

double reference_lookup(const LookupTable& t, double slew, double cap) {
    if (t.index_1.empty()) return t.values[0];
    auto pick = [&](TableVariable v) { return v == TableVariable::output_capacitance_pf ? cap : slew; };
    double x1 = pick(t.variable_1), x2 = pick(t.variable_2);
    std::size_t i = reference_segment(t.index_1, x1);
    std::size_t i1 = t.index_1.size() > 1 ? i + 1 : i;
    if (t.index_2.empty()) return lerp_axis(t.index_1, x1, t.values[i], t.values[i1], i);
    std::size_t n2 = t.index_2.size();
    std::size_t j = reference_segment(t.index_2, x2);
    std::size_t j1 = n2 > 1 ? j + 1 : j;
    double row_i = lerp_axis(t.index_2, x2, t.values[i * n2 + j], t.values[i * n2 + j1], j);
    double row_i1 = lerp_axis(t.index_2, x2, t.values[i1 * n2 + j], t.values[i1 * n2 + j1], j);
    return lerp_axis(t.index_1, x1, row_i, row_i1, i);
}

}  // namespace

TEST(Lookup, AgreesWithReferenceOnEveryOsu018DelayTable) {
    Library lib = read_liberty("/usr/share/qflow/tech/osu018/osu018_stdcells.lib");
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> slew(-0.5, 2.5), cap(-0.1, 0.4);  // inside and well outside
    int tables = 0;
    for (const auto& cell : lib.cells)
        for (const auto& pin : cell.pins)
            for (const auto& arc : pin.timing)
                for (const auto* t : {&arc.cell_rise_ns, &arc.cell_fall_ns, &arc.rise_transition_ns, &arc.fall_transition_ns}) {
                    if (!*t) continue;
                    ++tables;
                    const LookupTable& table = **t;
                    for (int k = 0; k < 200; ++k) {
                        double s = slew(rng), c = cap(rng);
                        double want = reference_lookup(table, s, c);
                        ASSERT_NEAR(table.lookup(s, c), want, 1e-9 * std::max(1.0, std::abs(want))) << cell.name;
                    }
                    // Grid points return the stored values exactly.
                    if (table.variable_1 == TableVariable::output_capacitance_pf && !table.index_2.empty()) {
                        for (std::size_t a = 0; a < table.index_1.size(); ++a)
                            for (std::size_t b = 0; b < table.index_2.size(); ++b) {
                                ASSERT_DOUBLE_EQ(table.lookup(table.index_2[b], table.index_1[a]),
                                                 table.values[a * table.index_2.size() + b]);
                            }
                    }
                }
    EXPECT_EQ(tables, 282);  // grep -cE "^\s*(cell_rise|cell_fall|rise_transition|fall_transition)\s*\(" osu018_stdcells.lib
}

TEST(Lookup, OnePointAxesAndScalar) {
    LookupTable t;
    t.variable_1 = TableVariable::input_transition_ns;
    t.variable_2 = TableVariable::output_capacitance_pf;
    t.index_1 = {0.1};
    t.index_2 = {1, 2};
    t.values = {10, 30};
    EXPECT_DOUBLE_EQ(t.lookup(5.0, 1.5), 20);  // the one-point axis is ignored
    EXPECT_DOUBLE_EQ(t.lookup(-5.0, 3.0), 50);
    LookupTable s;
    s.values = {7};
    EXPECT_DOUBLE_EQ(s.lookup(1, 1), 7);
    LookupTable empty;
    EXPECT_DOUBLE_EQ(empty.lookup(1, 1), 0);
}
