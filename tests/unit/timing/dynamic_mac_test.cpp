// A signed INT4 MAC (y = acc + w * a, 10-bit accumulator) synthesized by Yosys + ABC onto
// osu018 in the test: the fast engine equals the reference on every transition, and the
// inequalities event simulation <= sound bound <= static hold for every weight.
#include <gtest/gtest.h>

#include <random>
#include <unistd.h>

#include "dynamic_test_support.hpp"
#include "int4_mac_suite.hpp"
#include "halo/timing/dynamic_engine.hpp"
#include "halo/timing/dynamic_sweep.hpp"
#include "halo/timing/energy.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/timing/static_sweep.hpp"
#include "halo/timing/static_timing.hpp"
#include "halo/timing/ternary_timing.hpp"

namespace halo::timing {
namespace {

class DynamicMac : public test::Int4MacSuite {
protected:
    static DynamicDelays delays(std::uint64_t w) { return delays_for_case(*timer_, hold_port(*nl_, "w", w)); }
};

TEST_F(DynamicMac, EngineEqualsReferenceOnEveryTransitionAndSlot) {
    std::size_t compared = 0;
    for (std::uint64_t w = 0; w < 16; ++w) {
        DynamicCircuit c = build_dynamic_circuit(*nl_, delays(w), {}, w);
        DynamicEngine engine(c);
        for (std::uint64_t a0 = 0; a0 < 16; ++a0) {
            std::vector<std::uint64_t> v0(16, a0), v1(16);
            for (std::uint64_t a1 = 0; a1 < 16; ++a1) v1[a1] = a1;
            float settle[64];
            engine.run_block(v0, v1, settle);
            for (int l = 0; l < 16; ++l) {
                auto ref = ternary_timing_reference(c, activation_transition_inputs(c, a0, v1[l]));
                ASSERT_EQ(settle[l], output_settle_ns(c, ref)) << "w " << w << " a " << a0 << "->" << l;
                for (const auto& g : c.gates) {
                    if (!g.drives_output) continue;
                    ASSERT_EQ(engine.rise_ns(g.output, l), ref[g.output].rise_ns);
                    ASSERT_EQ(engine.fall_ns(g.output, l), ref[g.output].fall_ns);
                    ASSERT_EQ(((engine.known_one(g.output) >> l) & 1u) != 0, ref[g.output].final_value == 1);
                    ASSERT_EQ(((engine.known_zero(g.output) >> l) & 1u) != 0, ref[g.output].final_value == 0);
                }
                ++compared;
            }
        }
    }
    EXPECT_EQ(compared, 16u * 256u);
}

TEST_F(DynamicMac, EventSimulationNeverExceedsTheBoundWhichNeverExceedsStatic) {
    std::mt19937_64 rng(7);
    auto codes = all_codes(4);
    std::vector<double> sta = static_delay_sweep(*nl_, "w", codes, StaOptions{});
    for (std::uint64_t w = 0; w < 16; ++w) {
        const DynamicDelays d = delays(w);
        DynamicCircuit c = build_dynamic_circuit(*nl_, d, {}, w);
        DynamicEngine engine(c);
        const float bound = engine.exhaustive().settle_ns;
        const float model_static = output_settle_ns(c, ternary_timing_reference(c, static_bound_inputs(c)));
        EXPECT_LE(bound, model_static) << "w " << w;
        // Same delays as the static timer for this weight: the bound cannot exceed its figure
        // (up to float rounding of the sums).
        EXPECT_LE(static_cast<double>(bound), sta[w] + 1e-5) << "w " << w;
        // With every input free the model is classical static timing: it reproduces the timer.
        EXPECT_NEAR(model_static, sta[w], 1e-5) << "w " << w;

        EnergyModel energy = build_energy_model(c, *nl_, d);
        EventSimulator sim(c, &energy);
        for (int k = 0; k < 200; ++k) {
            Stimulus s{rng() & 15, rng() & 15, rng() & 1023, rng() & 1023};
            EventSimResult r = sim.run(s);
            auto ref = ternary_timing_reference(c, activation_transition_inputs(c, s.a0, s.a1));
            ASSERT_LE(r.settle_ns, output_settle_ns(c, ref));
            ASSERT_LE(r.settle_ns, bound);
            // Per net: every rise/fall the simulator saw lies within the net's bounds, and it
            // ends at the concrete value of the new inputs.
            auto final_values = evaluate_circuit(c, s.a1, s.acc1);
            for (Slot slot = 0; slot < c.slot_count; ++slot) {
                ASSERT_EQ(sim.values()[slot], final_values[slot]);
                ASSERT_LE(sim.last_rise_ns()[slot], ref[slot].rise_ns) << "slot " << slot;
                ASSERT_LE(sim.last_fall_ns()[slot], ref[slot].fall_ns) << "slot " << slot;
                if (ref[slot].final_value >= 0) {
                    ASSERT_EQ(ref[slot].final_value, final_values[slot]);
                }
            }
            // y = acc + w * a (mod 2^10) on the outputs.
            std::int64_t wv = static_cast<std::int64_t>(w) - (w >= 8 ? 16 : 0);
            std::int64_t av = static_cast<std::int64_t>(s.a1) - (s.a1 >= 8 ? 16 : 0);
            std::uint64_t expect = static_cast<std::uint64_t>(static_cast<std::int64_t>(s.acc1) + wv * av) & 1023u;
            const netlist::Port* y = nl_->find_port("y");
            std::uint64_t got = 0;
            for (std::size_t i = 0; i < y->bits.size(); ++i) {
                std::int8_t k = c.net_constant[y->bits[i]];
                bool bit = k >= 0 ? k == 1 : false;
                if (k < 0)
                    for (Slot o = 0; o < c.slot_count; ++o)
                        if (c.slot_net[o] == y->bits[i]) bit = sim.values()[o];
                got |= std::uint64_t{bit} << i;
            }
            ASSERT_EQ(got, expect);
        }
    }
}

TEST_F(DynamicMac, SampledBoundIsAtMostTheExhaustiveOne) {
    DynamicOptions o;
    o.data_transitions = 0;
    o.threads = 1;
    o.weight_codes = {3, 12};
    DynamicResult full = dynamic_sweep(*nl_, {}, o);
    o.exhaustive_max_bits = 2;  // 4-bit activation: sampled
    o.bound_samples = 100;
    DynamicResult sampled = dynamic_sweep(*nl_, {}, o);
    EXPECT_TRUE(full.bound_exhaustive);
    EXPECT_EQ(full.bound_transitions_per_weight, 256u);
    EXPECT_FALSE(sampled.bound_exhaustive);
    EXPECT_EQ(sampled.bound_transitions_per_weight, 100u);
    for (std::size_t i = 0; i < 2; ++i) {
        EXPECT_LE(sampled.weights[i].dynamic_delay_ns, full.weights[i].dynamic_delay_ns);
        // The reported worst transition reproduces the bound in the reference.
        const DynamicCircuit c = build_dynamic_circuit(*nl_, delays(o.weight_codes[i]), {}, o.weight_codes[i]);
        auto ref = ternary_timing_reference(
            c, activation_transition_inputs(c, sampled.weights[i].worst_a0, sampled.weights[i].worst_a1));
        EXPECT_FLOAT_EQ(output_settle_ns(c, ref), static_cast<float>(sampled.weights[i].dynamic_delay_ns));
    }
}

TEST_F(DynamicMac, SweepIsSeededAndThreadInvariant) {
    DynamicOptions o;
    o.data_transitions = 300;
    o.threads = 1;
    o.weight_codes = {1, 5, 9};
    DynamicResult one = dynamic_sweep(*nl_, {}, o);
    o.threads = 2;
    DynamicResult two = dynamic_sweep(*nl_, {}, o);
    ASSERT_EQ(one.weights.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& r = one.weights[i];
        EXPECT_EQ(r.weight_code, o.weight_codes[i]);
        EXPECT_EQ(r.dynamic_delay_ns, two.weights[i].dynamic_delay_ns);
        EXPECT_EQ(r.data_delay_max_ns, two.weights[i].data_delay_max_ns);
        EXPECT_EQ(r.energy_fj, two.weights[i].energy_fj);
        EXPECT_LE(r.data_delay_p999_ns, r.data_delay_max_ns);
        EXPECT_LE(r.data_delay_max_ns, r.dynamic_delay_ns);
        EXPECT_GT(r.energy_fj, 0.0);
    }
    EXPECT_GT(one.leakage_nw, 0.0);
    o.seed = 2;
    DynamicResult other = dynamic_sweep(*nl_, {}, o);
    EXPECT_NE(other.weights[1].energy_fj, one.weights[1].energy_fj);
}

}  // namespace
}  // namespace halo::timing
