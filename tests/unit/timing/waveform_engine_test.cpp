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
#include "halo/timing/waveform_level.hpp"

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

// The levelled form (waveform_level.hpp), the steps the CUDA level kernel takes, run on the CPU.
// Only `near` events sit in the first store, the rest in the second, as shared and global
// memory on the GPU. Overflowing transitions keep overflow set.
std::vector<WaveLaneResult> run_levelled(const WaveformEngine& engine, const std::vector<Stimulus>& stimuli,
                                         std::uint32_t near = 40, std::uint32_t capacity = kWaveLevelMaxEvents) {
    const WaveView c = engine.flat().view();
    const WaveLevelCircuit lc = level_circuit(c);
    EXPECT_TRUE(lc.supported);
    std::vector<WavePackedEvent> near_events(near), far_events(capacity);
    std::vector<std::uint32_t> range(c.slot_count), init(wave_slot_words(c)), written(wave_slot_words(c)),
        dirty(wave_position_words(c));
    WaveLevelScratch s{{near_events.data(), near, far_events.data()}, capacity, range.data(), init.data(), written.data(),
                       dirty.data()};
    std::vector<WaveLaneResult> out;
    for (const Stimulus& st : stimuli) out.push_back(simulate_wave_levelled(c, lc.view(), st.a0, st.a1, st.acc0, st.acc1, s));
    return out;
}

void check_all(const DynamicCircuit& c, const EnergyModel* energy, const std::vector<Stimulus>& stimuli, Mismatches& m,
               Mismatches* levelled = nullptr) {
    EventSimulator ref(c, energy);
    WaveformEngine fast(c, energy);
    ASSERT_TRUE(fast.supported());
    std::vector<EventSimResult> got(stimuli.size());
    fast.run(stimuli, got);
    m.acausal += fast.acausal_transitions();
    std::vector<WaveLaneResult> lev;
    if (levelled) lev = run_levelled(fast, stimuli);
    // The CUDA kernels' form of the per-gate replay (registers instead of re-reads), run here.
    WaveformEngine device_form(c, energy);
    device_form.use_device_replay(true);
    std::vector<EventSimResult> got_device(stimuli.size());
    device_form.run(stimuli, got_device);
    // The lock-step gate walk the GPU lane kernel takes by default, with that replay.
    WaveformEngine lockstep_form(c, energy);
    lockstep_form.use_lockstep(true);
    std::vector<EventSimResult> got_lockstep(stimuli.size());
    lockstep_form.run(stimuli, got_lockstep);
    Mismatches device_m, lockstep_m;
    for (std::size_t i = 0; i < stimuli.size(); ++i) {
        const EventSimResult want = ref.run(stimuli[i]);
        compare(stimuli[i], want, got[i], m);
        compare(stimuli[i], want, got_device[i], device_m);
        compare(stimuli[i], want, got_lockstep[i], lockstep_m);
        if (!levelled) continue;
        EXPECT_FALSE(lev[i].overflow);
        compare(stimuli[i], want, {lev[i].settle_ns, lev[i].toggles, lev[i].energy_fj}, *levelled);
        levelled->acausal += lev[i].acausal;
    }
    EXPECT_EQ(device_m.compared, stimuli.size());
    EXPECT_EQ(device_m.settle + device_m.toggles + device_m.energy, 0u) << "the device form of the replay: " << device_m.first;
    EXPECT_EQ(lockstep_m.compared, stimuli.size());
    EXPECT_EQ(lockstep_m.settle + lockstep_m.toggles + lockstep_m.energy, 0u) << "the lock-step gate walk: " << lockstep_m.first;
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

// Every transition of random_circuit's inputs: 4 activation bits and 2 accumulator bits,
// before and after (64 x 64).
std::vector<Stimulus> every_random_circuit_transition() {
    std::vector<Stimulus> all;
    for (std::uint64_t x0 = 0; x0 < 64; ++x0)
        for (std::uint64_t x1 = 0; x1 < 64; ++x1) all.push_back({x0 & 15, x1 & 15, x0 >> 4, x1 >> 4});
    return all;
}

TEST(WaveformEngine, EqualsReferenceOnRandomCircuitsWithTiesAndZeroDelays) {
    auto lib = test::function_library();
    std::mt19937 rng(7);
    Mismatches m, lev;
    std::size_t glitchy = 0;
    for (int trial = 0; trial < 200; ++trial) {
        DelayAnnotation ann;
        netlist::Netlist nl;
        DynamicCircuit c = random_circuit(*lib, rng, ann, nl);
        const EnergyModel energy = build_energy_model(c, nl, delays_from_annotation(ann));
        const std::vector<Stimulus> all = every_random_circuit_transition();
        check_all(c, &energy, all, m, &lev);
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
    EXPECT_EQ(lev.compared, m.compared);
    EXPECT_EQ(lev.settle + lev.toggles + lev.energy, 0u) << "levelled form: " << lev.first;
}

TEST(WaveformEngine, EqualsReferenceWithNegativeDelays) {
    // NLDM tables give negative arc delays at slow input slews (the INT8 MACs on osu035 have a
    // few): the reference then processes events out of time order; the engine follows it.
    auto lib = test::function_library();
    std::mt19937 rng(11);
    Mismatches m, lev;
    for (int trial = 0; trial < 40; ++trial) {
        DelayAnnotation ann;
        netlist::Netlist nl;
        DynamicCircuit c = random_circuit(*lib, rng, ann, nl, -1);
        const EnergyModel energy = build_energy_model(c, nl, delays_from_annotation(ann));
        const std::vector<Stimulus> all = every_random_circuit_transition();
        check_all(c, &energy, all, m, &lev);
    }
    EXPECT_EQ(m.settle, 0u) << m.first;
    EXPECT_EQ(m.toggles, 0u) << m.first;
    EXPECT_EQ(m.energy, 0u) << m.first;
    EXPECT_GT(m.acausal, m.compared / 10) << "the negative delays should act often";
    EXPECT_EQ(lev.compared, m.compared);
    EXPECT_EQ(lev.settle + lev.toggles + lev.energy, 0u) << "levelled form: " << lev.first;
    EXPECT_EQ(lev.acausal, m.acausal);
}

// The up-links (WaveLinkedEvents) give every acausal event the same leaders as the walk along its
// whole cause chain (the plain store): checked on every acausal event of every transition of
// random circuits with negative delays, with both forms of the per-gate replay, on the host's
// store and on the lane kernel's strided layout (three interleaved lanes, as threads on a GPU),
// and the linked store's order comparison (its leaders read along the up-links) equals the
// walk's. The links start poisoned, so a link read before it was written fails.
TEST(WaveformEngine, UpLinksGiveTheLeadersOfTheWholeChainWalk) {
    auto lib = test::function_library();
    std::mt19937 rng(11);
    std::size_t checked = 0, with_leaders = 0, orders = 0;
    constexpr std::uint32_t kPoison = 0xdeadbeefu, kStride = 3, kCapacity = 1u << 14;
    for (int trial = 0; trial < 20; ++trial) {
        DelayAnnotation ann;
        netlist::Netlist nl;
        DynamicCircuit c = random_circuit(*lib, rng, ann, nl, -1);
        const WaveCircuit flat = flatten_circuit(c, nullptr);
        const WaveView view = flat.view();
        std::vector<WaveEvent> events(kCapacity), lanes_events(kCapacity * kStride);
        std::vector<std::uint32_t> ups(kCapacity), lanes_ups(kCapacity * kStride);
        std::vector<WaveRange> range(view.slot_count, WaveRange{0, 0, 0, 0});
        std::vector<std::uint64_t> dirty((view.gate_count + 63) / 64, 0);
        std::uint32_t stamp = 0;
        for (const Stimulus& st : every_random_circuit_transition()) {
            const std::vector<std::uint8_t> init = evaluate_circuit(c, st.a0, st.acc0);
            auto initial = [&](std::uint32_t slot) { return init[slot]; };
            // The walk's leaders of every acausal event of events[0, n) (plain layout), and the
            // processing order of each against three others (the previous acausal event, the
            // event before it, one spread over the list): the linked store's comparison against
            // the walk's.
            auto check = [&](std::uint32_t n, auto&& leaders_of, auto&& before) {
                std::uint32_t previous_acausal = kPrimaryCause;
                for (std::uint32_t x = 0; x < n; ++x) {
                    if (events[x].flags & kCausal) continue;
                    std::uint32_t linked[kWaveMaxChain], walked[kWaveMaxChain];
                    const int n_linked = leaders_of(x, linked);
                    const int n_walked = wave_leaders(events.data(), x, walked);
                    ASSERT_EQ(n_linked, n_walked) << "event " << x;
                    for (int i = 0; i < n_walked; ++i) ASSERT_EQ(linked[i], walked[i]) << "event " << x << ", leader " << i;
                    ++checked;
                    with_leaders += n_walked > 1;
                    for (const std::uint32_t y : {previous_acausal, x - 1, static_cast<std::uint32_t>((x * 7919ull) % n)}) {
                        if (y == kPrimaryCause || y >= n || y == x) continue;
                        const bool want = wave_processed_before(events.data(), x, y);
                        ASSERT_EQ(before(x, y), want) << "events " << x << ", " << y;
                        ASSERT_EQ(before(y, x), !want) << "events " << y << ", " << x;
                        ++orders;
                    }
                    previous_acausal = x;
                }
            };
            for (const bool cached : {false, true}) {
                std::fill(ups.begin(), ups.end(), kPoison);
                WaveScratch s{WaveHostEvents{events.data(), ups.data()}, kCapacity, range.data(), dirty.data(), ++stamp};
                const WaveLaneResult r = cached ? simulate_wave_lane<true>(view, st.a1, st.acc1, initial, s)
                                                : simulate_wave_lane<false>(view, st.a1, st.acc1, initial, s);
                ASSERT_FALSE(r.overflow);
                check(r.toggles, [&](std::uint32_t x, std::uint32_t* out) { return wave_leaders(s.events, x, out); },
                      [&](std::uint32_t x, std::uint32_t y) { return wave_processed_before(s.events, x, y); });
            }
            // The lane kernel's layout: lane 1 of 3 interleaved lanes; its events copied back to
            // the plain layout for the walk.
            std::fill(lanes_ups.begin(), lanes_ups.end(), kPoison);
            using Strided = WaveLinkedEvents<WaveStrided<WaveEvent>, WaveStrided<std::uint32_t>>;
            WaveScratchOf<Strided, WaveRange*, std::uint64_t*> s{
                Strided{{lanes_events.data() + 1, kStride}, {lanes_ups.data() + 1, kStride}}, kCapacity, range.data(), dirty.data(), ++stamp};
            const WaveLaneResult r = simulate_wave_lane<true>(view, st.a1, st.acc1, initial, s);
            ASSERT_FALSE(r.overflow);
            for (std::uint32_t x = 0; x < r.toggles; ++x) events[x] = s.events[x];
            check(r.toggles, [&](std::uint32_t x, std::uint32_t* out) { return wave_leaders(s.events, x, out); },
                  [&](std::uint32_t x, std::uint32_t y) { return wave_processed_before(s.events, x, y); });
        }
    }
    EXPECT_GT(checked, 1000u) << "the negative delays should give acausal events";
    EXPECT_GT(with_leaders, checked / 20) << "some acausal events should have ancestors among their leaders";
    EXPECT_GT(orders, checked) << "the order comparisons should have partners";
    std::printf("[up-links] %zu acausal events, %zu with more than one leader, %zu order comparisons\n", checked, with_leaders,
                orders);
}

// A case the random circuits do not reach: two acausal events whose leader chains cross. Primary
// inputs R0, R1 at t = 0; p (t = 10) caused by R0 and q (t = 20) by R1, both causal; then r (t = 5)
// caused by p and s (t = 3) caused by q, both after negative arc delays. The reference processes p
// at 10, which schedules r in the past, so r is popped at once, before q is processed (20) and
// schedules s: r comes before s although s's time is earlier. The leaders (root first) are p, r
// and q, s: the first difference from the top (p vs q) decides, not the last (r vs s). Both
// stores (the walk, and the up-links set by wave_link_up) must say so.
TEST(WaveformEngine, AcausalOrderIsDecidedByTheTopmostDifferingLeaders) {
    std::vector<WaveEvent> ev = {
        {0.0f, kPrimaryCause, 0, 0, 1, kCausal},  // 0: R0
        {0.0f, kPrimaryCause, 1, 0, 1, kCausal},  // 1: R1
        {10.0f, 0, 5, 0, 1, kCausal},             // 2: p
        {20.0f, 1, 6, 0, 1, kCausal},             // 3: q
        {5.0f, 2, 7, 0, 1, 0},                    // 4: r, acausal
        {3.0f, 3, 8, 0, 1, 0},                    // 5: s, acausal
    };
    std::vector<std::uint32_t> up(ev.size(), 0xdeadbeefu);
    const WaveHostEvents linked{ev.data(), up.data()};
    wave_link_up(linked, 4);
    wave_link_up(linked, 5);
    EXPECT_EQ(up[4], 2u);
    EXPECT_EQ(up[5], 3u);
    EXPECT_TRUE(wave_processed_before(ev.data(), 4, 5));
    EXPECT_FALSE(wave_processed_before(ev.data(), 5, 4));
    EXPECT_TRUE(wave_processed_before(linked, 4, 5));
    EXPECT_FALSE(wave_processed_before(linked, 5, 4));
    // An ancestor leads its descendant's chain: p before r, though r's time is earlier.
    EXPECT_TRUE(wave_processed_before(linked, 2, 4));
    EXPECT_FALSE(wave_processed_before(linked, 4, 2));
}

// The levelled form's capacity counts the current chunk's reservations: a transition that
// would pass it is flagged (the CUDA host re-runs those on the CPU engine), the others are exact.
TEST(WaveformLevelled, FlagsTransitionsBeyondItsCapacityAndKeepsTheRestExact) {
    auto lib = test::function_library();
    std::mt19937 rng(5);
    std::size_t overflowed = 0, exact = 0, compared = 0;
    for (int trial = 0; trial < 20; ++trial) {
        DelayAnnotation ann;
        netlist::Netlist nl;
        DynamicCircuit c = random_circuit(*lib, rng, ann, nl);
        const EnergyModel energy = build_energy_model(c, nl, delays_from_annotation(ann));
        const std::vector<Stimulus> all = every_random_circuit_transition();
        WaveformEngine fast(c, &energy);
        std::vector<EventSimResult> want(all.size());
        fast.run(all, want);
        const std::vector<WaveLaneResult> got = run_levelled(fast, all, 8, 24);
        for (std::size_t i = 0; i < all.size(); ++i, ++compared) {
            if (got[i].overflow) {
                ++overflowed;
                continue;
            }
            Mismatches m;
            compare(all[i], want[i], {got[i].settle_ns, got[i].toggles, got[i].energy_fj}, m);
            exact += m.settle + m.toggles + m.energy == 0;
        }
    }
    EXPECT_GT(overflowed, 0u) << "24 events should not hold every transition";
    EXPECT_GT(exact, compared / 2);
    EXPECT_EQ(exact + overflowed, compared);
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
    Mismatches m, lev;
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
        check_all(c, &energy, all, m, &lev);
        EventSimulator ref(c, &energy);
        for (const auto& s : all) glitch_toggles += ref.run(s).toggles;
    }
    EXPECT_EQ(m.compared, 16u * 4u * 256u);
    std::printf("[int4 mac] %zu of %zu transitions acausal (negative arc delays)\n", m.acausal, m.compared);
    EXPECT_EQ(m.settle, 0u) << m.first;
    EXPECT_EQ(m.toggles, 0u) << m.first;
    EXPECT_EQ(m.energy, 0u) << m.first;
    EXPECT_GT(glitch_toggles, 0u);
    EXPECT_EQ(lev.compared, m.compared);
    EXPECT_EQ(lev.settle + lev.toggles + lev.energy, 0u) << "levelled form: " << lev.first;
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
    Mismatches m, lev;
    for (std::uint64_t w : {1u, 128u, 255u}) {
        const DynamicDelays d = delays_for_case(timer, hold_port(nl, "w", w));
        const DynamicCircuit c = build_dynamic_circuit(nl, d, {}, w);
        const EnergyModel energy = build_energy_model(c, nl, d);
        check_all(c, &energy, sample_data_transitions(3000, 5 + w, 8, 24, DataDistribution{}), m, &lev);
    }
    EXPECT_EQ(m.compared, 9000u);
    EXPECT_EQ(m.settle, 0u) << m.first;
    EXPECT_EQ(m.toggles, 0u) << m.first;
    EXPECT_EQ(m.energy, 0u) << m.first;
    EXPECT_GT(m.acausal, 0u);
    std::printf("[int8 mac, osu035] %zu of %zu transitions acausal (negative arc delays)\n", m.acausal, m.compared);
    EXPECT_EQ(lev.compared, m.compared);
    EXPECT_EQ(lev.settle + lev.toggles + lev.energy, 0u) << "levelled form: " << lev.first;
    EXPECT_EQ(lev.acausal, m.acausal);
}

}  // namespace
}  // namespace halo::timing
