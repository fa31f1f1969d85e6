// Hand-built circuits with hand-derived bounds for the timed ternary model, the gate analysis
// it rests on, the engine/reference agreement on them, and the port diagnostics.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "dynamic_test_support.hpp"
#include "halo/timing/dynamic_cell_function.hpp"
#include "halo/timing/dynamic_circuit.hpp"
#include "halo/timing/dynamic_engine.hpp"
#include "halo/timing/dynamic_sweep.hpp"
#include "halo/timing/ternary_timing.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::timing {
namespace {

using test::DesignBuilder;

std::uint64_t table(const char* text, std::vector<std::string> names) {
    auto lib = test::function_library();
    names.push_back("Y");
    return liberty::CellFunction::compile(text, names, "t").eval(std::vector<std::uint64_t>{
               0xAAAAAAAAAAAAAAAAull, 0xCCCCCCCCCCCCCCCCull, 0xF0F0F0F0F0F0F0F0ull, 0xFF00FF00FF00FF00ull, 0})
        & truth_mask(static_cast<int>(names.size()) - 1);
}

TEST(DynamicGateLogic, PrimesAndUnatenessOfClassicGates) {
    GateLogic and2 = analyze_gate(table("A&B", {"A", "B"}), 2);
    ASSERT_EQ(and2.primes_one.size(), 1u);
    EXPECT_EQ(and2.primes_one[0].care, 0b11);
    EXPECT_EQ(and2.primes_one[0].value, 0b11);
    ASSERT_EQ(and2.primes_zero.size(), 2u);  // A=0 or B=0 forces 0
    EXPECT_THAT(and2.unateness, ::testing::ElementsAre(Unateness::positive, Unateness::positive));

    GateLogic aoi = analyze_gate(table("!((A&B)|(C&D))", {"A", "B", "C", "D"}), 4);
    EXPECT_EQ(aoi.primes_zero.size(), 2u);  // AB, CD
    EXPECT_EQ(aoi.primes_one.size(), 4u);   // A'C', A'D', B'C', B'D'
    for (auto u : aoi.unateness) EXPECT_EQ(u, Unateness::negative);

    GateLogic x = analyze_gate(table("A^B", {"A", "B"}), 2);
    EXPECT_EQ(x.primes_one.size(), 2u);
    EXPECT_EQ(x.primes_zero.size(), 2u);
    for (const auto& p : x.primes_one) EXPECT_EQ(p.care, 0b11);
    EXPECT_THAT(x.unateness, ::testing::ElementsAre(Unateness::binate, Unateness::binate));

    // XOR with B tied to 1 is an inverter of A.
    std::uint64_t inv = restrict_truth(x.truth, 2, 1, true);
    EXPECT_EQ(inv, 0b01u);
    EXPECT_FALSE(truth_depends_on(table("A|(A&B)", {"A", "B"}), 2, 1));
}

// y = AND2(a, BUF(BUF(BUF(acc)))): AND arcs A rise 0.3 fall 0.2, B rise 0.5 fall 0.4; buffers 1.0.
struct AndChain {
    std::unique_ptr<liberty::Library> lib = test::function_library();
    DesignBuilder b{*lib};
    DelayAnnotation ann;
    AndChain() {
        auto w = b.input("w", 1);
        auto a = b.input("a", 1);
        auto acc = b.input("acc", 1);
        auto c1 = b.gate("BUF", {acc[0]}, {1.0}, {1.0});
        auto c2 = b.gate("BUF", {c1}, {1.0}, {1.0});
        auto c3 = b.gate("BUF", {c2}, {1.0}, {1.0});
        auto y0 = b.gate("AND2", {a[0], c3}, {0.3, 0.5}, {0.2, 0.4});
        auto y1 = b.gate("AND2", {w[0], a[0]}, {0.7}, {0.7});  // only alive when w = 1
        b.output("y", {y0, y1});
        ann = b.finish();
    }
};

TEST(DynamicTernary, ControllingInputThatSettlesEarlyBoundsTheOutput) {
    AndChain d;
    DynamicCircuit c = build_dynamic_circuit(d.b.netlist(), delays_from_annotation(d.ann), {}, 0);
    ASSERT_EQ(c.gates.size(), 4u);  // the w-gated AND is constant 0 for w = 0
    auto run = [&](int a0, int a1) {
        auto in = activation_transition_inputs(c, a0, a1);
        return output_settle_ns(c, ternary_timing_reference(c, in));
    };
    // a falls: the AND is forced to 0 by A at 0 + 0.2, however late the acc chain settles.
    EXPECT_FLOAT_EQ(run(1, 0), 0.2f);
    // a rises: the output follows the acc chain: rise 3 + 0.5, fall 3 + 0.4.
    EXPECT_FLOAT_EQ(run(0, 1), 3.5f);
    // a stays 0: the AND never changes.
    EXPECT_EQ(run(0, 0), kNever);
    // a stays 1: X output, the chain's bound.
    EXPECT_FLOAT_EQ(run(1, 1), 3.5f);

    // With w = 1 the second AND passes a: rise 0.7.
    DynamicCircuit c1 = build_dynamic_circuit(d.b.netlist(), delays_from_annotation(d.ann), {}, 1);
    auto slots = ternary_timing_reference(c1, activation_transition_inputs(c1, 0, 1));
    EXPECT_EQ(c1.gates.size(), 5u);
    EXPECT_FLOAT_EQ(output_settle_ns(c1, slots), 3.5f);
    // The sweep reports the exhaustive maximum (3.5) and a transition reaching it.
    DynamicOptions o;
    o.delay_source = DelaySource::annotation;
    o.data_transitions = 0;
    o.threads = 1;
    DynamicResult r = dynamic_sweep(d.b.netlist(), d.ann, o);
    ASSERT_EQ(r.weights.size(), 2u);
    EXPECT_TRUE(r.bound_exhaustive);
    EXPECT_EQ(r.bound_transitions_per_weight, 4u);
    EXPECT_DOUBLE_EQ(r.weights[0].dynamic_delay_ns, 3.5);
    EXPECT_EQ(r.weights[0].worst_a1, 1u);
}

TEST(DynamicTernary, FallBoundNeverLaterThanRiseWhenFinalIsOne) {
    // OR2(a, chain): a rises -> forced 1 at 0 + rise(A) = 0.25, and the chain cannot make a
    // later fall than that either.
    auto lib = test::function_library();
    DesignBuilder b(*lib);
    b.input("w", 1);
    auto a = b.input("a", 1);
    auto acc = b.input("acc", 1);
    auto c1 = b.gate("BUF", {acc[0]}, {2.0}, {2.0});
    auto y = b.gate("OR2", {a[0], c1}, {0.25, 0.5}, {0.3, 0.6});
    b.output("y", {y});
    DelayAnnotation ann = b.finish();
    DynamicCircuit c = build_dynamic_circuit(b.netlist(), delays_from_annotation(ann), {}, 0);
    auto slots = ternary_timing_reference(c, activation_transition_inputs(c, 0, 1));
    const auto& out = slots[c.output_slots[0]];
    EXPECT_EQ(out.final_value, 1);
    EXPECT_FLOAT_EQ(out.rise_ns, 0.25f);
    EXPECT_FLOAT_EQ(out.fall_ns, 0.25f);
    // Unate rule without forcing (a falls): fall = chain 2 + 0.6, rise = 2 + 0.5.
    auto s2 = ternary_timing_reference(c, activation_transition_inputs(c, 1, 0));
    EXPECT_FLOAT_EQ(s2[c.output_slots[0]].rise_ns, 2.5f);
    EXPECT_FLOAT_EQ(s2[c.output_slots[0]].fall_ns, 2.6f);
}

// Every gate kind, reconvergence, XOR and a MUX; the engine must match the reference on every
// slot and lane, for every activation pair and weight.
TEST(DynamicEngine, MatchesReferenceOnEveryTransitionOfAHandCircuit) {
    auto lib = test::function_library();
    DesignBuilder b(*lib);
    auto w = b.input("w", 2);
    auto a = b.input("a", 3);
    auto acc = b.input("acc", 2);
    auto p0 = b.gate("AND2", {w[0], a[0]}, {0.31, 0.35}, {0.27, 0.22});
    auto p1 = b.gate("XOR2", {w[1], a[1]}, {0.41}, {0.38});
    auto x = b.gate("XOR2", {p0, acc[0]}, {0.52, 0.47}, {0.44, 0.49});
    auto m = b.gate("MUX2", {p1, acc[1], a[2]}, {0.3, 0.33, 0.41}, {0.29, 0.36, 0.4});
    auto q = b.gate("AOI22", {x, m, a[0], p1}, {0.6, 0.55, 0.5, 0.45}, {0.35, 0.4, 0.42, 0.38});
    auto r = b.gate("OR2", {q, a[2]}, {0.2, 0.25}, {0.3, 0.1});
    auto inv = b.gate("INV", {x}, {0.15}, {0.12});
    b.output("y", {q, r, inv, m});
    DynamicDelays delays = delays_from_annotation(b.finish());
    // All four edge delays of every arc distinct, so a wrong edge pairing shows.
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> spread(0.05f, 0.9f);
    for (auto& arcs : delays.arcs)
        for (auto& a : arcs)
            for (auto& row : a.delay_ns)
                for (auto& d : row) d = spread(rng);
    for (std::uint64_t wc = 0; wc < 4; ++wc) {
        DynamicCircuit c = build_dynamic_circuit(b.netlist(), delays, {}, wc);
        DynamicEngine engine(c);
        std::vector<std::uint64_t> a0, a1;
        for (std::uint64_t x0 = 0; x0 < 8; ++x0)
            for (std::uint64_t x1 = 0; x1 < 8; ++x1) {
                a0.push_back(x0);
                a1.push_back(x1);
            }
        float settle[64];
        engine.run_block(a0, a1, settle);
        for (int l = 0; l < 64; ++l) {
            auto ref = ternary_timing_reference(c, activation_transition_inputs(c, a0[l], a1[l]));
            EXPECT_EQ(settle[l], output_settle_ns(c, ref)) << "w " << wc << " lane " << l;
            for (const auto& g : c.gates) {
                if (!g.drives_output) continue;
                Slot s = g.output;
                const auto& t = ref[s];
                EXPECT_EQ(((engine.known_one(s) >> l) & 1u) != 0, t.final_value == 1);
                EXPECT_EQ(((engine.known_zero(s) >> l) & 1u) != 0, t.final_value == 0);
                EXPECT_EQ(engine.rise_ns(s, l), t.rise_ns) << "w " << wc << " lane " << l << " slot " << s;
                EXPECT_EQ(engine.fall_ns(s, l), t.fall_ns) << "w " << wc << " lane " << l << " slot " << s;
            }
        }
    }
}

TEST(DynamicCircuitErrors, PortsAreCheckedWithNumberedMessages) {
    AndChain d;
    DynamicPorts p;
    p.weight = "weights";
    try {
        build_dynamic_circuit(d.b.netlist(), delays_from_annotation(d.ann), p, 0);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E3501");
        EXPECT_EQ(e.exit_code(), 2);
        EXPECT_THAT(e.what(), ::testing::HasSubstr("the weight port \"weights\" is not an input port of module t"));
        EXPECT_THAT(e.what(), ::testing::HasSubstr("expected one of: w, a, acc"));
    }
    d.b.input("clk", 1);
    DelayAnnotation ann = d.b.finish();
    try {
        build_dynamic_circuit(d.b.netlist(), delays_from_annotation(ann), {}, 0);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E3502");
        EXPECT_THAT(e.what(), ::testing::HasSubstr("input port \"clk\" is none of the MAC's three inputs"));
    }
    DynamicOptions o;
    o.delay_source = DelaySource::annotation;
    o.weight_codes = {2};
    try {
        dynamic_sweep(d.b.netlist(), d.ann, o);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E3531");
    }
}

}  // namespace
}  // namespace halo::timing
