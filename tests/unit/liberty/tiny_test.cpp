// tests/data/liberty/tiny.lib: ps, fF, mV, pW, mA, ohm units; hand-computed expectations.
#include <gtest/gtest.h>

#include "halo/liberty/liberty_reader.hpp"

using namespace halo::liberty;

namespace {

const Library& tiny() {
    static const Library lib = read_liberty(std::string(HALO_TEST_DATA_DIR) + "/liberty/tiny.lib");
    return lib;
}

}  // namespace

TEST(Tiny, Units) {
    const Library& lib = tiny();
    EXPECT_EQ(lib.name, "tiny");
    EXPECT_DOUBLE_EQ(lib.time_unit_ns, 1e-3);
    EXPECT_DOUBLE_EQ(lib.capacitance_unit_pf, 1e-3);
    EXPECT_DOUBLE_EQ(lib.voltage_unit_v, 1e-3);
    EXPECT_DOUBLE_EQ(lib.leakage_unit_nw, 1e-3);
    EXPECT_DOUBLE_EQ(lib.current_unit_ua, 1e3);
    EXPECT_DOUBLE_EQ(lib.pulling_resistance_unit_kohm, 1e-3);
    EXPECT_DOUBLE_EQ(lib.energy_unit_fj, 1e-6);  // 1 fF x (1 mV)^2 = 1e-21 J
    EXPECT_DOUBLE_EQ(lib.nominal_voltage_v, 0.9);  // nom_voltage wins over operating conditions
    EXPECT_DOUBLE_EQ(lib.nominal_temperature_c, 125);  // absent nom_temperature: default conditions "slow"
    EXPECT_DOUBLE_EQ(lib.nominal_process, 1.5);
    EXPECT_DOUBLE_EQ(lib.slew_lower_threshold_pct_rise, 30);
    EXPECT_DOUBLE_EQ(lib.slew_upper_threshold_pct_rise, 80);  // default
}

TEST(Tiny, InverterTables) {
    const Cell* inv = tiny().find_cell("INV");
    ASSERT_NE(inv, nullptr);
    EXPECT_DOUBLE_EQ(inv->area, 2.5);
    EXPECT_DOUBLE_EQ(inv->leakage_power_nw, 1.5);
    const Pin& a = *inv->find_pin("A");
    EXPECT_DOUBLE_EQ(a.capacitance_pf, 0.002);
    EXPECT_DOUBLE_EQ(a.rise_capacitance_pf, 0.002);
    EXPECT_DOUBLE_EQ(a.fall_capacitance_pf, 0.0025);
    const Pin& y = *inv->find_pin("Y");
    EXPECT_EQ(y.line, 37u);
    ASSERT_EQ(y.timing.size(), 1u);
    const TimingArc& arc = y.timing[0];

    // 2-D, slew first: f(s_ps, c_ff) = 10 + 1.5 (s - 10) + 5 (c - 1) ps on the grid's plane.
    const LookupTable& rise = *arc.cell_rise_ns;
    EXPECT_EQ(rise.variable_1, TableVariable::input_transition_ns);
    EXPECT_EQ(rise.variable_2, TableVariable::output_capacitance_pf);
    EXPECT_DOUBLE_EQ(rise.index_1[1], 0.030);
    EXPECT_DOUBLE_EQ(rise.index_2[2], 0.005);
    EXPECT_DOUBLE_EQ(rise.values[4], 0.050);
    EXPECT_NEAR(rise.lookup(0.020, 0.002), 0.030, 1e-12);
    EXPECT_NEAR(rise.lookup(0.050, 0.006), 0.095, 1e-12);  // extrapolated on both axes

    // 1-D over slew: 5, 7, 11 ps at 10, 20, 40 ps.
    const LookupTable& fall = *arc.cell_fall_ns;
    EXPECT_EQ(fall.dimensions(), 1u);
    EXPECT_NEAR(fall.lookup(0.030, 123.0), 0.009, 1e-12);
    EXPECT_NEAR(fall.lookup(0.005, 0.0), 0.004, 1e-12);
    EXPECT_NEAR(fall.lookup(0.060, 0.0), 0.015, 1e-12);

    // Scalar.
    EXPECT_EQ(arc.rise_transition_ns->dimensions(), 0u);
    EXPECT_DOUBLE_EQ(arc.rise_transition_ns->lookup(5.0, 5.0), 0.012);

    // index_1 overridden to 20, 40 ps.
    const LookupTable& ft = *arc.fall_transition_ns;
    EXPECT_DOUBLE_EQ(ft.index_1[0], 0.020);
    EXPECT_NEAR(ft.lookup(0.030, 0.003), 0.0035, 1e-12);

    ASSERT_EQ(y.internal_power.size(), 1u);
    const InternalPower& p = y.internal_power[0];
    EXPECT_NEAR(p.rise_energy_fj->lookup(0.0, 0.003), 2.0, 1e-12);
    EXPECT_NEAR(p.fall_energy_fj->lookup(1.0, 1.0), 2.0, 1e-12);
}

TEST(Tiny, MultiPinGroupsRelatedPinsSequentialAndBus) {
    const Library& lib = tiny();
    const Cell* aoi = lib.find_cell("AOI");
    ASSERT_NE(aoi, nullptr);
    ASSERT_EQ(aoi->pins.size(), 4u);
    EXPECT_EQ(aoi->pins[1].name, "B");
    EXPECT_DOUBLE_EQ(aoi->pins[2].capacitance_pf, 0.001);
    const Pin& y = *aoi->find_pin("Y");
    ASSERT_EQ(y.timing.size(), 3u);  // "A B C" -> one arc per related pin
    EXPECT_EQ(y.timing[0].related_pin, "A");
    EXPECT_EQ(y.timing[2].related_pin, "C");
    EXPECT_DOUBLE_EQ(y.timing[1].cell_rise_ns->lookup(0, 0), 0.1);

    const Cell* dff = lib.find_cell("DFF");
    EXPECT_TRUE(dff->is_sequential);
    EXPECT_EQ(dff->find_pin("Q")->timing[0].type, TimingType::rising_edge);
    EXPECT_EQ(dff->logic.function(dff->pin_index("Q")), nullptr);

    const Cell* bus = lib.find_cell("BUS2");
    ASSERT_NE(bus, nullptr);
    ASSERT_EQ(bus->pins.size(), 3u);
    EXPECT_EQ(bus->pins[0].name, "D[0]");
    const CellFunction* f = bus->logic.function(bus->pin_index("Y"));
    ASSERT_NE(f, nullptr);
    std::vector<std::uint64_t> w = {0b1100, 0b1010, 0};
    EXPECT_EQ(f->eval(w) & 0xF, 0b0110u);
}
