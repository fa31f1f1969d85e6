// Values read by hand off /usr/share/qflow/tech/osu0{18,35}/osu0*_stdcells.lib.
#include <gtest/gtest.h>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/util/diagnostics.hpp"

using namespace halo::liberty;

namespace {

const char* kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
const char* kOsu035 = "/usr/share/qflow/tech/osu035/osu035_stdcells.lib";

const Library& osu018() {
    static const Library lib = read_liberty(kOsu018);
    return lib;
}

}  // namespace

TEST(Osu018, LibraryHeader) {
    const Library& lib = osu018();
    EXPECT_EQ(lib.name, "osu018_stdcells");
    EXPECT_EQ(lib.cells.size(), 32u);
    EXPECT_DOUBLE_EQ(lib.time_unit_ns, 1.0);
    EXPECT_DOUBLE_EQ(lib.capacitance_unit_pf, 1.0);
    EXPECT_DOUBLE_EQ(lib.voltage_unit_v, 1.0);
    EXPECT_DOUBLE_EQ(lib.leakage_unit_nw, 1.0);
    EXPECT_DOUBLE_EQ(lib.current_unit_ua, 1.0);
    EXPECT_DOUBLE_EQ(lib.pulling_resistance_unit_kohm, 1.0);
    EXPECT_DOUBLE_EQ(lib.energy_unit_fj, 1000.0);  // 1 pF x (1 V)^2 = 1 pJ
    EXPECT_DOUBLE_EQ(lib.nominal_voltage_v, 1.8);
    EXPECT_DOUBLE_EQ(lib.nominal_temperature_c, 25);
    EXPECT_EQ(lib.operating_conditions, "typical");
    EXPECT_DOUBLE_EQ(lib.slew_upper_threshold_pct_rise, 80);
    EXPECT_DOUBLE_EQ(lib.input_threshold_pct_fall, 50);
}

TEST(Osu018, Invx1) {
    const Cell* inv = osu018().find_cell("INVX1");
    ASSERT_NE(inv, nullptr);
    EXPECT_EQ(inv->name, "INVX1");
    EXPECT_EQ(inv->line, 2943u);
    EXPECT_DOUBLE_EQ(inv->area, 16);
    EXPECT_DOUBLE_EQ(inv->leakage_power_nw, 0.0221741);
    EXPECT_FALSE(inv->is_sequential);
    ASSERT_EQ(inv->pins.size(), 2u);
    EXPECT_EQ(inv->pin_index("A"), 0);
    EXPECT_EQ(inv->pin_index("Y"), 1);
    EXPECT_EQ(inv->pin_index("Z"), -1);
    EXPECT_EQ(inv->find_pin("Z"), nullptr);
    const Pin& a = *inv->find_pin("A");
    EXPECT_EQ(a.direction, PinDirection::input);
    EXPECT_DOUBLE_EQ(a.capacitance_pf, 0.00932456);
    EXPECT_DOUBLE_EQ(a.rise_capacitance_pf, 0.00932196);
    EXPECT_DOUBLE_EQ(a.fall_capacitance_pf, 0.00932456);
    const Pin& y = *inv->find_pin("Y");
    EXPECT_EQ(y.direction, PinDirection::output);
    EXPECT_EQ(y.function, "(!A)");
    ASSERT_EQ(y.timing.size(), 1u);
    const TimingArc& arc = y.timing[0];
    EXPECT_EQ(arc.related_pin, "A");
    EXPECT_EQ(arc.sense, TimingSense::negative_unate);
    EXPECT_EQ(arc.type, TimingType::combinational);
    ASSERT_TRUE(arc.cell_rise_ns && arc.cell_fall_ns && arc.rise_transition_ns && arc.fall_transition_ns);
    const LookupTable& rise = *arc.cell_rise_ns;
    EXPECT_EQ(rise.variable_1, TableVariable::output_capacitance_pf);
    EXPECT_EQ(rise.variable_2, TableVariable::input_transition_ns);
    EXPECT_EQ(rise.index_1, (std::vector<double>{0.005, 0.0125, 0.025, 0.075, 0.15}));
    EXPECT_EQ(rise.index_2, (std::vector<double>{0.06, 0.18, 0.42, 0.6, 1.2}));
    ASSERT_EQ(rise.values.size(), 25u);
    EXPECT_DOUBLE_EQ(rise.values[0], 0.037639);
    EXPECT_DOUBLE_EQ(rise.values[24], 0.653064);
    // Grid point: cap 0.0125 (row 1), slew 0.18 (column 1).
    EXPECT_DOUBLE_EQ(rise.lookup(0.18, 0.0125), 0.083003);
    // Centre of the first cell: the mean of its four corners.
    EXPECT_NEAR(rise.lookup(0.12, 0.00875), (0.037639 + 0.056898 + 0.05258 + 0.083003) / 4, 1e-12);
    // Beyond the last cap (0.2 > 0.15) at slew 0.06: the last segment extended.
    EXPECT_NEAR(rise.lookup(0.06, 0.2), 0.15767 + (0.2 - 0.075) / (0.15 - 0.075) * (0.285016 - 0.15767), 1e-12);
    // Below the first slew (0 < 0.06) at cap 0.005: 1.5 x first - 0.5 x second.
    EXPECT_NEAR(rise.lookup(0.0, 0.005), 1.5 * 0.037639 - 0.5 * 0.056898, 1e-12);
    EXPECT_DOUBLE_EQ(arc.fall_transition_ns->values[1], 0.0648);
    ASSERT_EQ(y.internal_power.size(), 1u);
    EXPECT_EQ(y.internal_power[0].related_pin, "A");
    EXPECT_DOUBLE_EQ(y.internal_power[0].rise_energy_fj->values[0], 23.555);  // 0.023555 pJ
    EXPECT_DOUBLE_EQ(y.internal_power[0].fall_energy_fj->values[0], 9.213);
    ASSERT_NE(inv->logic.function(1), nullptr);
    EXPECT_EQ(inv->logic.function(0), nullptr);
}

TEST(Osu018, And2x1ArcsAndSequentialCells) {
    const Library& lib = osu018();
    const Cell* and2 = lib.find_cell("AND2X1");
    ASSERT_NE(and2, nullptr);
    EXPECT_DOUBLE_EQ(and2->area, 32);
    const Pin& y = *and2->find_pin("Y");
    ASSERT_EQ(y.timing.size(), 2u);
    EXPECT_EQ(y.timing[1].related_pin, "B");
    EXPECT_EQ(y.timing[1].sense, TimingSense::positive_unate);
    EXPECT_DOUBLE_EQ(y.timing[1].cell_fall_ns->values[0], 0.086342);
    EXPECT_DOUBLE_EQ(y.timing[0].cell_rise_ns->lookup(1.2, 0.15), 0.325543);

    const Cell* dff = lib.find_cell("DFFPOSX1");
    ASSERT_NE(dff, nullptr);
    EXPECT_TRUE(dff->is_sequential);
    EXPECT_DOUBLE_EQ(dff->area, 96);
    EXPECT_EQ(dff->logic.function(dff->pin_index("Q")), nullptr);  // names internal state
    bool has_edge = false;
    for (const auto& arc : dff->find_pin("Q")->timing) has_edge |= arc.type == TimingType::rising_edge;
    EXPECT_TRUE(has_edge);
    EXPECT_TRUE(lib.find_cell("LATCH")->is_sequential);
    EXPECT_EQ(lib.find_cell("NOPE"), nullptr);
    int sequential = 0;
    for (const auto& c : lib.cells) sequential += c.is_sequential;
    EXPECT_EQ(sequential, 4);  // DFFNEGX1, DFFPOSX1, DFFSR, LATCH
}

TEST(Osu035, Header) {
    Library lib = read_liberty(kOsu035);
    EXPECT_EQ(lib.name, "osu035_stdcells");
    EXPECT_EQ(lib.cells.size(), 39u);
    EXPECT_DOUBLE_EQ(lib.nominal_voltage_v, 3.3);
    const Cell* inv = lib.find_cell("INVX1");
    ASSERT_NE(inv, nullptr);
    EXPECT_DOUBLE_EQ(inv->area, 64);
    EXPECT_DOUBLE_EQ(inv->leakage_power_nw, 0.0152465);
    EXPECT_DOUBLE_EQ(inv->find_pin("A")->capacitance_pf, 0.0134094);
    const LookupTable& fall = *inv->find_pin("Y")->timing[0].cell_fall_ns;
    EXPECT_DOUBLE_EQ(fall.values[5], 0.097195);
    EXPECT_DOUBLE_EQ(fall.lookup(0.42, 0.08), 0.252434);
    // Halfway between cap 0.04 and 0.08 at slew 0.06.
    EXPECT_NEAR(fall.lookup(0.06, 0.06), (0.097195 + 0.165859) / 2, 1e-12);
}

TEST(Osu018, ReadFromMissingFile) {
    try {
        read_liberty("/nonexistent/x.lib");
        FAIL();
    } catch (const halo::Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E1101");
        EXPECT_EQ(e.diagnostic().file, "/nonexistent/x.lib");
        EXPECT_EQ(e.exit_code(), 2);
    }
}
