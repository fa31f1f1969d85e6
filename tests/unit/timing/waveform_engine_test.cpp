// The fast exact engine (waveform_engine.hpp) against the reference event simulator: random
// circuits whose arc delays come from a small grid (so equal arrival times, zero delays and
// glitches are everywhere), and a signed INT4 MAC synthesized onto osu018 exhaustively (every
// weight, every activation pair, several accumulator pairs). Settle time, toggle count and
// energy must agree on every transition: delay to 1e-6 ns, energy to 1e-9 relative.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <unistd.h>

#include "dynamic_test_support.hpp"
#include "int4_mac_suite.hpp"
#include "halo/timing/energy.hpp"
#include "halo/timing/dynamic_sweep.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/timing/static_timing.hpp"
#include "halo/timing/ternary_timing.hpp"
#include "halo/timing/transition_set.hpp"
#include "halo/timing/waveform_engine.hpp"

namespace halo::timing {
namespace {

struct Mismatches {
    std::size_t compared = 0, settle = 0, toggles = 0, energy = 0, acausal = 0;
    std::string first;
};

void compare(const Stimulus& s, const EventSimResult& ref, const EventSimResult& fast, Mismatches& m) {
    ++m.compared;
    const bool settle_ok = (ref.settle_ns == kNever && fast.settle_ns == kNever) ||
                           std::fabs(static_cast<double>(ref.settle_ns) - fast.settle_ns) <= 1e-6;
    const double scale = std::max(1e-30, std::fabs(ref.switching_energy_fj));
    const bool energy_ok = std::fabs(ref.switching_energy_fj - fast.switching_energy_fj) <= 1e-9 * scale;
    if (!settle_ok) ++m.settle;
    if (ref.toggles != fast.toggles) ++m.toggles;
    if (!energy_ok) ++m.energy;
    if ((!settle_ok || !energy_ok || ref.toggles != fast.toggles) && m.first.empty())
        m.first = "a " + std::to_string(s.a0) + "->" + std::to_string(s.a1) + " acc " + std::to_string(s.acc0) + "->" +
                  std::to_string(s.acc1) + ": settle " + std::to_string(ref.settle_ns) + " vs " +
                  std::to_string(fast.settle_ns) + ", toggles " + std::to_string(ref.toggles) + " vs " +
                  std::to_string(fast.toggles);
}

void check_all(const DynamicCircuit& c, const EnergyModel* energy, const std::vector<Stimulus>& stimuli, Mismatches& m) {
    EventSimulator ref(c, energy);
    WaveformEngine fast(c, energy);
    ASSERT_TRUE(fast.supported());
    std::vector<EventSimResult> got(stimuli.size());
    fast.run(stimuli, got);
    m.acausal += fast.acausal_transitions();
    for (std::size_t i = 0; i < stimuli.size(); ++i) compare(stimuli[i], ref.run(stimuli[i]), got[i], m);
}

// A random DAG of the test library's cells over w (1 bit, tied), a (4 bits), acc (2 bits).
DynamicCircuit random_circuit(const liberty::Library& lib, std::mt19937& rng, DelayAnnotation& ann, netlist::Netlist& out,
                              int lowest_grid = 0) {
    test::DesignBuilder b(lib);
    auto w = b.input("w", 1);
    auto a = b.input("a", 4);
    auto acc = b.input("acc", 2);
    std::vector<netlist::NetId> nets = a;
    nets.insert(nets.end(), acc.begin(), acc.end());
    nets.push_back(w[0]);
    const char* cells[] = {"BUF", "INV", "AND2", "OR2", "XOR2", "AOI22", "MUX2"};
    const int arity[] = {1, 1, 2, 2, 2, 4, 3};
    for (int k = 0; k < 24; ++k) {
        const int c = std::uniform_int_distribution<int>(0, 6)(rng);
        std::vector<netlist::NetId> ins;
        for (int j = 0; j < arity[c]; ++j) {
            // Mostly recent nets (deep reconvergence), sometimes the same net on two pins.
            const int lo = std::max(0, static_cast<int>(nets.size()) - 8);
            ins.push_back(nets[std::uniform_int_distribution<int>(lo, static_cast<int>(nets.size()) - 1)(rng)]);
        }
        nets.push_back(b.gate(cells[c], ins, {1.0}, {1.0}));
    }
    b.output("y", {nets.end() - 4, nets.end()});
    ann = b.finish();
    out = b.netlist();
    DynamicCircuit circuit = build_dynamic_circuit(out, delays_from_annotation(ann), {}, 1);
    // Delays on a coarse grid, zero included: equal arrival times from different paths.
    std::uniform_int_distribution<int> grid(lowest_grid, 3);
    for (auto& g : circuit.gates)
        for (auto& arc : g.delay_ns)
            for (auto& o : arc)
                for (auto& i : o) i = 0.25f * static_cast<float>(grid(rng));
    return circuit;
}

TEST(WaveformEngine, EqualsReferenceOnRandomCircuitsWithTiesAndZeroDelays) {
    auto lib = test::function_library();
    std::mt19937 rng(7);
    Mismatches m;
    std::size_t glitchy = 0;
    for (int trial = 0; trial < 200; ++trial) {
        DelayAnnotation ann;
        netlist::Netlist nl;
        DynamicCircuit c = random_circuit(*lib, rng, ann, nl);
        const EnergyModel energy = build_energy_model(c, nl, delays_from_annotation(ann));
        std::vector<Stimulus> all;
        for (std::uint64_t x0 = 0; x0 < 64; ++x0)
            for (std::uint64_t x1 = 0; x1 < 64; ++x1) all.push_back({x0 & 15, x1 & 15, x0 >> 4, x1 >> 4});
        check_all(c, &energy, all, m);
        // Glitches: more toggles than nets that differ between the two settled states.
        EventSimulator ref(c, &energy);
        for (const auto& s : all) {
            const auto v0 = evaluate_circuit(c, s.a0, s.acc0), v1 = evaluate_circuit(c, s.a1, s.acc1);
            std::uint64_t differ = 0;
            for (std::size_t k = 0; k < v0.size(); ++k) differ += v0[k] != v1[k];
            if (ref.run(s).toggles > differ) ++glitchy;
        }
    }
    EXPECT_EQ(m.compared, 200u * 4096u);
    EXPECT_EQ(m.settle, 0u) << m.first;
    EXPECT_EQ(m.toggles, 0u) << m.first;
    EXPECT_EQ(m.energy, 0u) << m.first;
    EXPECT_GT(glitchy, m.compared / 20) << "the random circuits should glitch often";
}

TEST(WaveformEngine, EqualsReferenceWithNegativeDelays) {
    // NLDM tables give negative arc delays at slow input slews (the INT8 MACs on osu035 have a
    // few): the reference then processes events out of time order; the engine follows it.
    auto lib = test::function_library();
    std::mt19937 rng(11);
    Mismatches m;
    for (int trial = 0; trial < 40; ++trial) {
        DelayAnnotation ann;
        netlist::Netlist nl;
        DynamicCircuit c = random_circuit(*lib, rng, ann, nl, -1);
        const EnergyModel energy = build_energy_model(c, nl, delays_from_annotation(ann));
        std::vector<Stimulus> all;
        for (std::uint64_t x0 = 0; x0 < 64; ++x0)
            for (std::uint64_t x1 = 0; x1 < 64; ++x1) all.push_back({x0 & 15, x1 & 15, x0 >> 4, x1 >> 4});
        check_all(c, &energy, all, m);
    }
    EXPECT_EQ(m.settle, 0u) << m.first;
    EXPECT_EQ(m.toggles, 0u) << m.first;
    EXPECT_EQ(m.energy, 0u) << m.first;
    EXPECT_GT(m.acausal, m.compared / 10) << "the negative delays should act often";
}

TEST(WaveformEngine, RefusesNonFiniteDelays) {
    auto lib = test::function_library();
    std::mt19937 rng(3);
    DelayAnnotation ann;
    netlist::Netlist nl;
    DynamicCircuit c = random_circuit(*lib, rng, ann, nl);
    EXPECT_TRUE(WaveformEngine(c, nullptr).supported());
    c.gates.front().delay_ns[0][0][0] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_FALSE(WaveformEngine(c, nullptr).supported());
}

class WaveformMac : public test::Int4MacSuite {};

TEST(ExhaustiveDataTransitions, EveryActivationPairOnceA0Major) {
    const auto all = exhaustive_data_transitions(3, 4, 10, DataDistribution{});
    ASSERT_EQ(all.size(), 256u);
    for (std::size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].a0, i / 16);
        EXPECT_EQ(all[i].a1, i % 16);
        EXPECT_LT(all[i].acc0, 1024u);
    }
    try {
        exhaustive_data_transitions(3, 13, 10, DataDistribution{});
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E3522");
    }
}

TEST_F(WaveformMac, SweepFiguresEqualOnFastAndReferenceEngines) {
    DynamicOptions o;
    o.exhaustive_data = true;
    o.threads = 2;
    o.weight_codes = {0, 3, 8, 15};
    const DynamicResult fast = dynamic_sweep(*nl_, {}, o);
    o.data_engine = DataEngine::reference;
    const DynamicResult ref = dynamic_sweep(*nl_, {}, o);
    EXPECT_EQ(fast.data_transitions_per_weight, 256u);
    EXPECT_TRUE(fast.data_exhaustive);
    EXPECT_EQ(fast.data_engine, "fast exact engine, CPU");
    EXPECT_EQ(ref.data_engine, "reference event simulator");
    ASSERT_EQ(fast.weights.size(), ref.weights.size());
    for (std::size_t i = 0; i < fast.weights.size(); ++i) {
        EXPECT_NEAR(fast.weights[i].data_delay_max_ns, ref.weights[i].data_delay_max_ns, 1e-6);
        EXPECT_NEAR(fast.weights[i].data_delay_p999_ns, ref.weights[i].data_delay_p999_ns, 1e-6);
        EXPECT_NEAR(fast.weights[i].energy_fj, ref.weights[i].energy_fj, 1e-9 * ref.weights[i].energy_fj);
        EXPECT_EQ(fast.weights[i].toggles_per_op, ref.weights[i].toggles_per_op);
        EXPECT_GT(fast.weights[i].energy_fj, 0.0);
    }
}

TEST_F(WaveformMac, Int4MacEqualsReferenceExhaustively) {
    Mismatches m;
    std::uint64_t glitch_toggles = 0;
    const std::uint64_t accs[][2] = {{0, 0}, {0, 1023}, {511, 512}, {300, 77}};
    for (std::uint64_t w = 0; w < 16; ++w) {
        const DynamicDelays d = delays_for_case(*timer_, hold_port(*nl_, "w", w));
        const DynamicCircuit c = build_dynamic_circuit(*nl_, d, {}, w);
        const EnergyModel energy = build_energy_model(c, *nl_, d);
        std::vector<Stimulus> all;
        for (const auto& acc : accs)
            for (std::uint64_t a0 = 0; a0 < 16; ++a0)
                for (std::uint64_t a1 = 0; a1 < 16; ++a1) all.push_back({a0, a1, acc[0], acc[1]});
        check_all(c, &energy, all, m);
        EventSimulator ref(c, &energy);
        for (const auto& s : all) glitch_toggles += ref.run(s).toggles;
    }
    EXPECT_EQ(m.compared, 16u * 4u * 256u);
    std::printf("[int4 mac] %zu of %zu transitions acausal (negative arc delays)\n", m.acausal, m.compared);
    EXPECT_EQ(m.settle, 0u) << m.first;
    EXPECT_EQ(m.toggles, 0u) << m.first;
    EXPECT_EQ(m.energy, 0u) << m.first;
    EXPECT_GT(glitch_toggles, 0u);
}

// The INT8 MAC on osu035, whose per-weight delays include negative arcs (NLDM at slow input
// slews): the engine follows the reference's out-of-time-order processing exactly.
TEST(WaveformMacOsu035, Int8MacEqualsReferenceOnSampledTransitions) {
    const char* lib_path = "/usr/share/qflow/tech/osu035/osu035_stdcells.lib";
    if (!std::filesystem::exists(lib_path)) GTEST_SKIP() << "osu035 missing";
    auto dir = std::filesystem::temp_directory_path() / ("halo_waveform_osu035_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "t.v") << test::mac_verilog(8, 24);
    const std::string cmd = "cd '" + dir.string() + "' && yosys -q -p \"read_verilog t.v; synth -top t -flatten; abc -liberty " +
                            lib_path + "; opt_clean; write_json t.json\" > yosys.log 2>&1";
    if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "yosys missing";
    const liberty::Library lib = liberty::read_liberty(lib_path);
    const netlist::Netlist nl = netlist::read_yosys_json(dir / "t.json", "t", lib);
    std::filesystem::remove_all(dir);
    StaticTimer timer(nl, {});
    Mismatches m;
    for (std::uint64_t w : {1u, 128u, 255u}) {
        const DynamicDelays d = delays_for_case(timer, hold_port(nl, "w", w));
        const DynamicCircuit c = build_dynamic_circuit(nl, d, {}, w);
        const EnergyModel energy = build_energy_model(c, nl, d);
        check_all(c, &energy, sample_data_transitions(3000, 5 + w, 8, 24, DataDistribution{}), m);
    }
    EXPECT_EQ(m.compared, 9000u);
    EXPECT_EQ(m.settle, 0u) << m.first;
    EXPECT_EQ(m.toggles, 0u) << m.first;
    EXPECT_EQ(m.energy, 0u) << m.first;
    EXPECT_GT(m.acausal, 0u);
    std::printf("[int8 mac, osu035] %zu of %zu transitions acausal (negative arc delays)\n", m.acausal, m.compared);
}

}  // namespace
}  // namespace halo::timing
