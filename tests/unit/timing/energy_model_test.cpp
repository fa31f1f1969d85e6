// Event simulator semantics on hand circuits (glitches, overtaking, inertial filtering) and the
// switching-energy model against numbers computed by hand from the tables.
#include <gtest/gtest.h>

#include "dynamic_test_support.hpp"
#include "halo/timing/dynamic_circuit.hpp"
#include "halo/timing/energy.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/timing/ternary_timing.hpp"

namespace halo::timing {
namespace {

using test::DesignBuilder;

// y = XOR2(a, BUF(a)); a rises at 0. XOR arcs: rise 0.5, fall 0.4.
struct Glitch {
    std::unique_ptr<liberty::Library> lib = test::function_library();
    DesignBuilder b{*lib};
    DelayAnnotation ann;
    explicit Glitch(double buf_ns, double xor_fall_b_ns = 0.4) {
        b.input("w", 1);
        auto a = b.input("a", 1);
        b.input("acc", 1);
        auto d = b.gate("BUF", {a[0]}, {buf_ns}, {buf_ns});
        auto y = b.gate("XOR2", {a[0], d}, {0.5, 0.5}, {0.4, xor_fall_b_ns});
        b.output("y", {y});
        ann = b.finish();
    }
};

TEST(EventSim, TransportKeepsTheGlitchAndCountsEveryToggle) {
    Glitch g(1.0);
    DynamicCircuit c = build_dynamic_circuit(g.b.netlist(), delays_from_annotation(g.ann), {}, 0);
    EventSimulator sim(c, nullptr);
    // XOR rises at 0.5 (via A), the buffer at 1.0, the XOR falls at 1.0 + 0.4.
    EventSimResult r = sim.run({0, 1, 0, 0});
    EXPECT_EQ(r.toggles, 4u);
    EXPECT_FLOAT_EQ(r.settle_ns, 1.4f);
    EXPECT_FLOAT_EQ(sim.last_rise_ns()[c.output_slots[0]], 0.5f);
    EXPECT_FLOAT_EQ(sim.last_fall_ns()[c.output_slots[0]], 1.4f);
}

TEST(EventSim, InertialSwallowsAPulseShorterThanTheDelay) {
    // Buffer at 0.2: XOR rise due 0.5, fall due 0.2 + 0.4 = 0.6.
    Glitch g(0.2);
    DynamicCircuit c = build_dynamic_circuit(g.b.netlist(), delays_from_annotation(g.ann), {}, 0);
    EventSimulator sim(c, nullptr);
    EventSimResult t = sim.run({0, 1, 0, 0}, DelayMode::transport);
    EXPECT_EQ(t.toggles, 4u);
    EXPECT_FLOAT_EQ(t.settle_ns, 0.6f);
    EventSimResult i = sim.run({0, 1, 0, 0}, DelayMode::inertial);
    EXPECT_EQ(i.toggles, 2u);  // a and the buffer only
    EXPECT_EQ(i.settle_ns, kNever);
}

TEST(EventSim, AFasterLaterEvaluationOvertakesAPendingChange) {
    // Buffer at 0.05, XOR fall from B 0.1: the fall due at 0.15 cancels the rise due at 0.5.
    Glitch g(0.05, 0.1);
    DynamicCircuit c = build_dynamic_circuit(g.b.netlist(), delays_from_annotation(g.ann), {}, 0);
    EventSimulator sim(c, nullptr);
    EventSimResult r = sim.run({0, 1, 0, 0});
    EXPECT_EQ(r.toggles, 2u);
    EXPECT_EQ(r.settle_ns, kNever);
    // The bound: the XOR ends at 0, forced once both inputs settled (prime A=1 B=1 of !F) at
    // max(0 + 0.4, 0.05 + 0.1) = 0.4, which caps the unate rule's rise 0.05 + 0.5 as well.
    auto slots = ternary_timing_reference(c, activation_transition_inputs(c, 0, 1));
    EXPECT_FLOAT_EQ(slots[c.output_slots[0]].rise_ns, 0.4f);
    EXPECT_FLOAT_EQ(slots[c.output_slots[0]].fall_ns, 0.4f);
}

liberty::LookupTable energy_table(double k0) {
    // value = k0 + 2 * slew + 10 * load, reproduced exactly by bilinear interpolation.
    liberty::LookupTable t;
    t.variable_1 = liberty::TableVariable::input_transition_ns;
    t.variable_2 = liberty::TableVariable::output_capacitance_pf;
    t.index_1 = {0.0, 1.0};
    t.index_2 = {0.0, 0.1};
    for (double s : t.index_1)
        for (double cap : t.index_2) t.values.push_back(k0 + 2 * s + 10 * cap);
    return t;
}

TEST(Energy, OneInverterToggleIsInternalEnergyPlusHalfCV2) {
    auto lib = test::function_library();
    liberty::Cell& inv = lib->cells[1];
    ASSERT_EQ(inv.name, "INV");
    liberty::InternalPower p;
    p.related_pin = "A";
    p.rise_energy_fj = energy_table(5.0);
    p.fall_energy_fj = energy_table(1.0);
    inv.pins[1].internal_power.push_back(p);
    inv.leakage_power_nw = 3.5;
    DesignBuilder b(*lib);
    b.input("w", 1);
    auto a = b.input("a", 1);
    b.input("acc", 1);
    auto y = b.gate("INV", {a[0]}, {0.1}, {0.1});
    b.output("y", {y});
    DelayAnnotation ann = b.finish(1.8);
    ann.nets[y].load_pf = 0.02;  // the output port load
    ann.nets[a[0]].slew_rise_ns = 0.1;
    DynamicCircuit c = build_dynamic_circuit(b.netlist(), delays_from_annotation(ann), {}, 0);
    EnergyModel m = build_energy_model(c, b.netlist(), delays_from_annotation(ann));
    EventSimulator sim(c, &m);

    EventSimResult none = sim.run({1, 1, 0, 0});
    EXPECT_EQ(none.toggles, 0u);
    EXPECT_EQ(none.switching_energy_fj, 0.0);

    // a rises: 1/2 * 0.01 pF * 1.8^2 = 16.2 fJ on a; the output falls: fall table at slew 0.1,
    // load 0.02: 1 + 0.2 + 0.2 = 1.4 fJ, plus 1/2 * 0.02 * 1.8^2 = 32.4 fJ.
    EventSimResult r = sim.run({0, 1, 0, 0});
    EXPECT_EQ(r.toggles, 2u);
    EXPECT_NEAR(r.switching_energy_fj, 16.2 + 1.4 + 32.4, 1e-9);
    // a falls: rise table (5 + 0.2 + 0.2) on the output.
    EventSimResult f = sim.run({1, 0, 0, 0});
    EXPECT_NEAR(f.switching_energy_fj, 16.2 + 5.4 + 32.4, 1e-9);
    EXPECT_DOUBLE_EQ(m.leakage_nw, 3.5);
}

}  // namespace
}  // namespace halo::timing
