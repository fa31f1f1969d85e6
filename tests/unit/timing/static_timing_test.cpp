// Static timing on a hand-made library and netlist whose delays are derived by hand below.
// Every table is a plane, value = k0 + ks * slew + kc * load, which bilinear interpolation
// reproduces exactly, so the expected numbers are plain arithmetic.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <random>
#include <unistd.h>

#include "dynamic_test_support.hpp"
#include "halo/timing/delay_annotation.hpp"
#include "halo/timing/static_reference.hpp"
#include "halo/timing/static_sweep.hpp"
#include "halo/timing/static_sweep_engine.hpp"
#include "halo/timing/static_timing.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::timing {
namespace {

using liberty::TableVariable;
using liberty::TimingSense;

struct Plane {
    double k0, ks, kc;
    double operator()(double s, double c) const { return k0 + ks * s + kc * c; }
};

liberty::LookupTable plane_table(Plane p) {
    liberty::LookupTable t;
    t.variable_1 = TableVariable::input_transition_ns;
    t.variable_2 = TableVariable::output_capacitance_pf;
    t.index_1 = {0.0, 0.5, 1.0};
    t.index_2 = {0.0, 0.05, 0.2};
    for (double s : t.index_1)
        for (double c : t.index_2) t.values.push_back(p(s, c));
    return t;
}

struct ArcPlanes {
    Plane rise, fall, rise_tr, fall_tr;
};

// INV, XOR2, AND2 cells, each arc of a cell with the same planes.
constexpr ArcPlanes kInv{{0.1, 0.5, 2}, {0.08, 0.4, 1.5}, {0.05, 0.2, 1}, {0.04, 0.1, 1}};
constexpr ArcPlanes kXor{{0.2, 0.5, 3}, {0.15, 0.5, 2}, {0.1, 0.3, 2}, {0.08, 0.3, 2}};
constexpr ArcPlanes kAnd{{0.12, 0.6, 2}, {0.1, 0.5, 2}, {0.06, 0.2, 1}, {0.05, 0.2, 1}};
constexpr double kInvCap = 0.01, kXorCap = 0.02, kAndCap = 0.015;

liberty::Cell make_cell(std::string name, std::vector<std::string> inputs, double cap, std::string function,
                        TimingSense sense, const ArcPlanes& planes) {
    liberty::Cell cell;
    cell.name = std::move(name);
    for (auto& in : inputs) {
        liberty::Pin p;
        p.name = in;
        p.direction = liberty::PinDirection::input;
        p.capacitance_pf = p.rise_capacitance_pf = p.fall_capacitance_pf = cap;
        cell.pins.push_back(p);
    }
    liberty::Pin y;
    y.name = "Y";
    y.direction = liberty::PinDirection::output;
    y.function = std::move(function);
    for (auto& in : inputs) {
        liberty::TimingArc arc;
        arc.related_pin = in;
        arc.sense = sense;
        arc.cell_rise_ns = plane_table(planes.rise);
        arc.cell_fall_ns = plane_table(planes.fall);
        arc.rise_transition_ns = plane_table(planes.rise_tr);
        arc.fall_transition_ns = plane_table(planes.fall_tr);
        y.timing.push_back(arc);
    }
    cell.pins.push_back(y);
    return cell;
}

liberty::Library make_library() {
    liberty::Library lib;
    lib.name = "hand";
    lib.nominal_voltage_v = 1.5;
    lib.cells.push_back(make_cell("INV", {"A"}, kInvCap, "!A", TimingSense::negative_unate, kInv));
    lib.cells.push_back(make_cell("XOR2", {"A", "B"}, kXorCap, "A^B", TimingSense::non_unate, kXor));
    lib.cells.push_back(make_cell("AND2", {"A", "B"}, kAndCap, "A&B", TimingSense::positive_unate, kAnd));
    lib.index_cells();
    return lib;
}

// y = AND2(XOR2(INV(a), w), b). Nets: 0/1 constants, 2 a, 3 w, 4 b, 5 n1, 6 n2, 7 y.
netlist::Netlist make_netlist(const liberty::Library& lib) {
    netlist::Netlist nl;
    nl.top = "hand";
    nl.source_path = "hand.json";
    nl.library = &lib;
    nl.net_names = {"0", "1", "a", "w", "b", "n1", "n2", "y"};
    nl.ports = {{"a", netlist::PortDirection::input, {2}},
                {"w", netlist::PortDirection::input, {3}},
                {"b", netlist::PortDirection::input, {4}},
                {"y", netlist::PortDirection::output, {7}}};
    auto inst = [&](std::string name, const char* cell, std::vector<netlist::NetId> ins, netlist::NetId out) {
        netlist::Instance i;
        i.name = std::move(name);
        i.cell = lib.find_cell(cell);
        for (std::size_t k = 0; k < ins.size(); ++k) i.inputs.push_back({static_cast<int>(k), ins[k]});
        i.outputs.push_back({static_cast<int>(ins.size()), out});
        nl.instances.push_back(i);
    };
    inst("u1", "INV", {2}, 5);
    inst("u2", "XOR2", {5, 3}, 6);
    inst("u3", "AND2", {6, 4}, 7);
    nl.drivers.resize(8);
    nl.loads.resize(8);
    for (std::uint32_t i = 0; i < nl.instances.size(); ++i) {
        for (const auto& c : nl.instances[i].inputs) nl.loads[c.net].push_back({i, c.pin});
        const auto& o = nl.instances[i].outputs[0];
        nl.drivers[o.net] = {netlist::Driver::Kind::instance, i, o.pin};
    }
    nl.topo_order = {0, 1, 2};
    return nl;
}

class HandTiming : public ::testing::Test {
protected:
    liberty::Library lib_ = make_library();
    netlist::Netlist nl_ = make_netlist(lib_);
    StaOptions options_;  // output load 0.01 pF, ideal input slews

    // Loads: n1 drives XOR2.A, n2 drives AND2.A, y drives the port.
    const double c_n1 = kXorCap, c_n2 = kAndCap, c_y = 0.01;
    // n1 = INV(a), input slew 0: rise from a falling, fall from a rising.
    const double n1_arr_r = kInv.rise(0, c_n1), n1_arr_f = kInv.fall(0, c_n1);
    const double n1_slew_r = kInv.rise_tr(0, c_n1), n1_slew_f = kInv.fall_tr(0, c_n1);
    // n2's slews: OpenSTA's delay calculator takes the max over every arc from a non-constant
    // input, whatever the sense case analysis derives; with w held only n1's arcs count.
    double n2_slew_r_held() const { return std::max(kXor.rise_tr(n1_slew_r, c_n2), kXor.rise_tr(n1_slew_f, c_n2)); }
    double n2_slew_f_held() const { return std::max(kXor.fall_tr(n1_slew_r, c_n2), kXor.fall_tr(n1_slew_f, c_n2)); }
};

TEST_F(HandTiming, NominalPathIsTheWorstOverAllXorArcs) {
    StaticTimer timer(nl_, options_);
    // n2 rises latest from n1 rising (XOR is non_unate with w free).
    double n2_r = std::max({n1_arr_r + kXor.rise(n1_slew_r, c_n2), n1_arr_f + kXor.rise(n1_slew_f, c_n2),
                            kXor.rise(0, c_n2)});
    double n2_slew_r = std::max(n2_slew_r_held(), kXor.rise_tr(0, c_n2));
    double n2_f = std::max({n1_arr_r + kXor.fall(n1_slew_r, c_n2), n1_arr_f + kXor.fall(n1_slew_f, c_n2),
                            kXor.fall(0, c_n2)});
    double n2_slew_f = std::max(n2_slew_f_held(), kXor.fall_tr(0, c_n2));
    double y_r = std::max(n2_r + kAnd.rise(n2_slew_r, c_y), kAnd.rise(0, c_y));
    double y_f = std::max(n2_f + kAnd.fall(n2_slew_f, c_y), kAnd.fall(0, c_y));
    EXPECT_NEAR(timer.nominal_delay_ns(), std::max(y_r, y_f), 1e-12);
    EXPECT_NEAR(timer.nominal_delay_ns(), 0.6506, 1e-12);  // the same, worked on paper
}

TEST_F(HandTiming, HeldOneMakesXorNegativeUnateButSlewStaysTheMaxOverArcs) {
    StaticTimer timer(nl_, options_);
    auto held = hold_port(nl_, "w", 1);
    // XOR(n1, 1) = !n1: n2 rises only from n1 falling, falls only from n1 rising.
    double n2_r = n1_arr_f + kXor.rise(n1_slew_f, c_n2);
    double n2_f = n1_arr_r + kXor.fall(n1_slew_r, c_n2);
    double y = std::max(n2_r + kAnd.rise(n2_slew_r_held(), c_y), n2_f + kAnd.fall(n2_slew_f_held(), c_y));
    Endpoint e = timer.analyze(held);
    ASSERT_TRUE(e.reached);
    EXPECT_NEAR(e.delay_ns, y, 1e-12);
    EXPECT_NEAR(e.delay_ns, 0.6156, 1e-12);
    // Taking the slew of the arrival-setting arc only would give a different (smaller) number.
    EXPECT_GT(std::abs(e.delay_ns - (n2_r + kAnd.rise(kXor.rise_tr(n1_slew_f, c_n2), c_y))), 1e-3);
    EXPECT_EQ(e.edge, kRise);
}

TEST_F(HandTiming, HeldZeroMakesXorPositiveUnate) {
    StaticTimer timer(nl_, options_);
    auto held = hold_port(nl_, "w", 0);
    double n2_r = n1_arr_r + kXor.rise(n1_slew_r, c_n2);
    double n2_f = n1_arr_f + kXor.fall(n1_slew_f, c_n2);
    double y = std::max(n2_r + kAnd.rise(n2_slew_r_held(), c_y), n2_f + kAnd.fall(n2_slew_f_held(), c_y));
    EXPECT_NEAR(timer.analyze(held).delay_ns, y, 1e-12);
}

TEST_F(HandTiming, ConstantOutputHasNoPath) {
    StaticTimer timer(nl_, options_);
    auto held = hold_port(nl_, "b", 0);  // AND2 with B = 0: y is constant 0
    EXPECT_FALSE(timer.analyze(held).reached);
    EXPECT_EQ(static_delay_sweep(timer, "b", std::vector<std::uint64_t>{0}, 1)[0], 0.0);
}

TEST_F(HandTiming, CriticalPathListsEveryPinWithArrivalsAndEdges) {
    StaticTimer timer(nl_, options_);
    auto held = hold_port(nl_, "w", 1);
    StaticPath p = timer.critical_path(held);
    std::vector<std::string> pins;
    for (const auto& pt : p.points) pins.push_back(pt.pin);
    EXPECT_THAT(pins, ::testing::ElementsAre("a", "u1/A", "u1/Y", "u2/A", "u2/Y", "u3/A", "u3/Y", "y"));
    // a rises, INV falls, XOR(!) rises, AND rises.
    EXPECT_EQ(p.points[0].edge, kRise);
    EXPECT_EQ(p.points[2].edge, kFall);
    EXPECT_EQ(p.points[4].edge, kRise);
    EXPECT_EQ(p.points.back().edge, kRise);
    EXPECT_NEAR(p.points[2].arrival_ns, n1_arr_f, 1e-12);
    EXPECT_NEAR(p.points[2].slew_ns, n1_slew_f, 1e-12);
    EXPECT_NEAR(p.points.back().arrival_ns, p.endpoint.delay_ns, 1e-12);
    EXPECT_THAT(format_path(p), ::testing::HasSubstr("u2/Y (XOR2)"));
}

TEST_F(HandTiming, SweepMatchesSingleRunsAndReference) {
    StaticTimer timer(nl_, options_);
    std::vector<std::uint64_t> codes = {0, 1, 1, 0};
    auto d = static_delay_sweep(timer, "w", codes, 2);
    for (std::size_t i = 0; i < codes.size(); ++i) {
        auto held = hold_port(nl_, "w", codes[i]);
        EXPECT_DOUBLE_EQ(d[i], timer.analyze(held).delay_ns);
        EXPECT_NEAR(d[i], reference_longest_delay_ns(nl_, held, options_), 1e-12);
    }
}

TEST_F(HandTiming, AnnotationUsesWeightFreeSlews) {
    DelayAnnotation a = annotate_delays(nl_, options_);
    ASSERT_EQ(a.arcs.size(), 3u);
    ASSERT_EQ(a.arcs[0].size(), 1u);
    EXPECT_NEAR(a.arcs[0][0].rise_ns, n1_arr_r, 1e-12);
    EXPECT_NEAR(a.arcs[0][0].fall_ns, n1_arr_f, 1e-12);
    ASSERT_EQ(a.arcs[1].size(), 2u);  // XOR2 A->Y (non_unate): worse of the two input slews
    EXPECT_NEAR(a.arcs[1][0].rise_ns, std::max(kXor.rise(n1_slew_r, c_n2), kXor.rise(n1_slew_f, c_n2)), 1e-12);
    EXPECT_NEAR(a.nets[5].load_pf, c_n1, 1e-15);
    EXPECT_NEAR(a.nets[5].slew_fall_ns, n1_slew_f, 1e-12);
    EXPECT_NEAR(a.nets[7].load_pf, c_y, 1e-15);
    EXPECT_DOUBLE_EQ(a.voltage_v, 1.5);
}

TEST_F(HandTiming, BadPortsAndCodesNameThePortAndFile) {
    try {
        hold_port(nl_, "wt", 0);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E3001");
        EXPECT_EQ(e.diagnostic().file, "hand.json");
        EXPECT_EQ(e.diagnostic().found, "wt");
        EXPECT_THAT(e.diagnostic().expected, ::testing::HasSubstr("a, w, b"));
    }
    try {
        hold_port(nl_, "y", 0);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E3002");
    }
    try {
        static_delay_sweep(StaticTimer(nl_), "w", std::vector<std::uint64_t>{0, 2}, 1);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E3003");
        EXPECT_EQ(e.diagnostic().found, "2");
    }
}

TEST(SlewCurves, AgreeWithTheTwoDimensionalLookupInsideAndOutsideTheGrid) {
    liberty::LookupTable t;
    t.variable_1 = TableVariable::output_capacitance_pf;  // OSU order: load first
    t.variable_2 = TableVariable::input_transition_ns;
    t.index_1 = {0.005, 0.02, 0.08, 0.3};
    t.index_2 = {0.03, 0.1, 0.4, 1.2, 3.0};
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t i = 0; i < t.index_1.size() * t.index_2.size(); ++i) t.values.push_back(0.05 + u(rng));
    SlewCurves curves;
    for (double load : {0.0, 0.005, 0.013, 0.3, 0.5}) {
        auto c = curves.add(t, load);
        for (double s : {0.0, 0.03, 0.07, 0.4, 2.9, 3.0, 4.5})
            EXPECT_NEAR(curves.eval(c, s), t.lookup(s, load), 1e-12) << "load " << load << " slew " << s;
    }
}

// The memoized sweep evaluates a delay and a slew curve on one grid with one search: bit for bit
// the two separate evaluations.
TEST(SlewCurves, PairOnOneGridEqualsTwoEvaluationsExactly) {
    liberty::LookupTable t;
    t.variable_1 = TableVariable::input_transition_ns;
    t.variable_2 = TableVariable::output_capacitance_pf;
    t.index_1 = {0.03, 0.1, 0.4, 1.2, 3.0};
    t.index_2 = {0.005, 0.02, 0.08};
    liberty::LookupTable other = t;
    std::mt19937 rng(11);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::size_t i = 0; i < t.index_1.size() * t.index_2.size(); ++i) {
        t.values.push_back(0.05 + u(rng));
        other.values.push_back(0.01 + u(rng));
    }
    liberty::LookupTable coarse = t;
    coarse.index_1 = {0.03, 0.1, 0.4, 1.2, 2.0};
    SlewCurves curves;
    const auto a = curves.add(t, 0.013), b = curves.add(other, 0.013), c = curves.add(coarse, 0.013);
    EXPECT_TRUE(curves.same_grid(a, b));
    EXPECT_FALSE(curves.same_grid(a, c));
    for (double s : {0.0, 0.03, 0.05, 0.1, 0.7, 3.0, 4.5, u(rng), 3.0 * u(rng)}) {
        double ya = -1, yb = -1;
        curves.eval_pair(a, b, s, ya, yb);
        EXPECT_EQ(ya, curves.eval(a, s)) << s;
        EXPECT_EQ(yb, curves.eval(b, s)) << s;
    }
}

TEST(TruthTables, SenseUnderConstantsMatchesHandCases) {
    const std::uint64_t x_or = 0x6666666666666666ull;  // a ^ b (a = var 0)
    Logic b_one[] = {Logic::x, Logic::one};
    EXPECT_EQ(truth::sense(x_or, truth::consistent(b_one), 0), SimSense::negative);
    EXPECT_EQ(truth::sense(x_or, ~0ull, 0), SimSense::non_unate);
    const std::uint64_t mux = 0xCACACACACACACACAull;   // s ? b : a with a = var 0, b = var 1, s = var 2
    Logic s_zero[] = {Logic::x, Logic::x, Logic::zero};
    auto cons = truth::consistent(s_zero);
    EXPECT_EQ(truth::sense(mux, cons, 0), SimSense::positive);
    EXPECT_EQ(truth::sense(mux, cons, 1), SimSense::none);
    EXPECT_EQ(truth::eval(mux, cons), Logic::x);
    Logic a_b_one[] = {Logic::one, Logic::one, Logic::x};
    EXPECT_EQ(truth::eval(mux, truth::consistent(a_b_one)), Logic::one);  // exact, not gate-by-gate
}

}  // namespace
}  // namespace halo::timing

namespace halo::timing {
namespace {

// The sweep engine re-evaluates only the gates downstream of changed weight bits (codes in its
// measured Gray order, runs per worker): every code's figure must equal a full evaluation and
// the plain reference sweep exactly, whatever the order of the codes asked for (duplicates, jumps
// of many bits, one thread or two).
TEST(StaticSweepEngine, EqualsFullEvaluationOnEveryCodeOfAnInt8Mac) {
    if (!std::filesystem::exists(test::kOsu018)) GTEST_SKIP() << "osu018 missing";
    auto dir = std::filesystem::temp_directory_path() / ("halo_incremental_sweep_" + std::to_string(::getpid()));
    auto json = test::synthesize(test::mac_verilog(8, 24), dir);
    if (json.empty()) GTEST_SKIP() << "yosys missing";
    const auto lib = liberty::read_liberty(test::kOsu018);
    const auto nl = netlist::read_yosys_json(json, "t", lib);
    std::filesystem::remove_all(dir);
    StaticTimer timer(nl, {});
    std::vector<std::uint64_t> codes = all_codes(8);
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> shuffled = codes;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    shuffled.insert(shuffled.end(), {0, 255, 0, 128, 128, 1});
    std::size_t differ = 0, differ_reference = 0, nonzero = 0;
    for (const auto* list : {&codes, &shuffled}) {
        const std::vector<double> reference = reference_static_delay_sweep(timer, "w", *list, 2);
        for (unsigned threads : {1u, 2u}) {
            const std::vector<double> got = static_delay_sweep(timer, "w", *list, threads);
            for (std::size_t i = 0; i < list->size(); ++i) {
                const Endpoint want = timer.analyze(hold_port(nl, "w", (*list)[i]));
                differ += got[i] != (want.reached ? want.delay_ns : 0.0);
                differ_reference += got[i] != reference[i];
                nonzero += got[i] > 0;
            }
        }
    }
    EXPECT_EQ(differ, 0u);
    EXPECT_EQ(differ_reference, 0u);
    EXPECT_GT(nonzero, 1000u);
}

// The visiting order is a Gray order over the port bits permuted by measured cost: consecutive
// codes differ in exactly one bit, and the bit at Gray position k changes 2^(7-k) times.
TEST(StaticSweepEngine, VisitsCodesInAGrayOrderOfTheMeasuredBitCosts) {
    if (!std::filesystem::exists(test::kOsu018)) GTEST_SKIP() << "osu018 missing";
    auto dir = std::filesystem::temp_directory_path() / ("halo_sweep_order_" + std::to_string(::getpid()));
    auto json = test::synthesize(test::mac_verilog(8, 24), dir);
    if (json.empty()) GTEST_SKIP() << "yosys missing";
    const auto lib = liberty::read_liberty(test::kOsu018);
    const auto nl = netlist::read_yosys_json(json, "t", lib);
    std::filesystem::remove_all(dir);
    StaticTimer timer(nl, {});
    const StaticSweepEngine engine(timer, "w");
    const auto& order = engine.bit_order();
    ASSERT_EQ(order.size(), 8u);
    std::vector<unsigned> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, (std::vector<unsigned>{0, 1, 2, 3, 4, 5, 6, 7}));
    for (std::size_t k = 1; k < order.size(); ++k) EXPECT_LE(engine.bit_cost()[order[k - 1]], engine.bit_cost()[order[k]]);
    std::vector<std::uint64_t> by_rank(256);
    for (std::uint64_t c = 0; c < 256; ++c) {
        ASSERT_LT(engine.visit_rank(c), 256u);
        by_rank[engine.visit_rank(c)] = c;
    }
    std::vector<int> flips(8, 0);
    for (std::size_t r = 1; r < 256; ++r) {
        const std::uint64_t diff = by_rank[r] ^ by_rank[r - 1];
        ASSERT_EQ(__builtin_popcountll(diff), 1) << "rank " << r;
        ++flips[__builtin_ctzll(diff)];
    }
    for (std::size_t k = 0; k < 8; ++k) EXPECT_EQ(flips[order[k]], 1 << (7 - k)) << "position " << k;
}

}  // namespace
}  // namespace halo::timing
