// Cross-check of the event simulator against Icarus Verilog running the same gate netlist with
// an SDF written by OpenSTA (the osu018 cell models; the SDF's empty typical fields filled,
// since Icarus picks the typical value and would silently keep the cells' own specify delays).
// Slow (Yosys + OpenSTA + Icarus on the INT8 MAC): runs only when HALO_ICARUS_CHECK is set, e.g.
//   HALO_ICARUS_CHECK=2000 ./build/tests/unit/timing/test_timing --gtest_filter='DynamicIcarus.*'
// (the value is the number of random transitions per weight). Prints the agreement table; results
// in docs/results/dynamic_timing.md.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <regex>
#include <unordered_map>
#include <algorithm>
#include <sstream>
#include <unistd.h>

#include <fmt/format.h>

#include "dynamic_test_support.hpp"
#include "halo/timing/event_sim.hpp"
#include "halo/timing/static_timing.hpp"
#include "halo/timing/transition_set.hpp"

namespace halo::timing {
namespace {

int run(const std::string& cmd) { return std::system(cmd.c_str()); }

// The SDF's IOPATH delays as halo delays (the value Icarus reads: the typical field, which we
// filled with the max), so the simulators can be compared on identical numbers.
DynamicDelays delays_from_sdf(const std::string& sdf, const netlist::Netlist& nl, const DynamicDelays& like) {
    DynamicDelays d = like;
    for (auto& arcs : d.arcs) arcs.clear();
    std::unordered_map<std::string, std::uint32_t> by_name;
    for (std::uint32_t i = 0; i < nl.instances.size(); ++i) by_name[nl.instances[i].name] = i;
    auto typical = [](const std::string& triple) {
        auto p = triple.find(':');
        return p == std::string::npos ? std::stof(triple) : std::stof(triple.substr(p + 1, triple.find(':', p + 1) - p - 1));
    };
    std::regex inst_re(R"(\(INSTANCE\s+([^)\s]+)\))"), path_re(R"(\(IOPATH\s+(\S+)\s+(\S+)\s+\(([^)]*)\)\s*(?:\(([^)]*)\))?\))");
    std::istringstream in(sdf);
    std::string line;
    std::int64_t current = -1;
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, inst_re)) {
            std::string name = m[1];
            name.erase(std::remove(name.begin(), name.end(), '\\'), name.end());
            auto it = by_name.find(name);
            current = it == by_name.end() ? -1 : static_cast<std::int64_t>(it->second);
        } else if (current >= 0 && std::regex_search(line, m, path_re)) {
            const liberty::Cell& cell = *nl.instances[current].cell;
            EdgeArcDelay e;
            e.from_pin = cell.pin_index(m[1].str());
            e.to_pin = cell.pin_index(m[2].str());
            e.delay_ns[0][0] = e.delay_ns[0][1] = typical(m[3]);
            e.delay_ns[1][0] = e.delay_ns[1][1] = m[4].matched ? typical(m[4]) : typical(m[3]);
            d.arcs[current].push_back(e);
        }
    }
    return d;
}

TEST(DynamicIcarus, EventSimulatorAgreesWithIcarusOnOpenStaSdf) {
    const char* env = std::getenv("HALO_ICARUS_CHECK");
    if (env == nullptr) GTEST_SKIP() << "set HALO_ICARUS_CHECK=<transitions per weight> to run";
    const std::size_t n = static_cast<std::size_t>(std::atol(env));
    const auto dir = std::filesystem::temp_directory_path() / ("halo_icarus_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "t.v") << "module t(input signed [7:0] w, input signed [7:0] a, input signed [23:0] acc, "
                                  "output signed [23:0] y);\n  assign y = acc + w * a;\nendmodule\n";
    ASSERT_EQ(run(fmt::format("cd '{}' && yosys -q -p \"read_verilog t.v; synth -top t -flatten; abc -liberty {}; "
                              "opt_clean; rename -enumerate; write_json t.json; write_verilog -noattr tnet.v\" > yosys.log 2>&1",
                              dir.string(), test::kOsu018)),
              0);
    liberty::Library lib = liberty::read_liberty(test::kOsu018);
    netlist::Netlist nl = netlist::read_yosys_json(dir / "t.json", "t", lib);
    StaticTimer timer(nl, {});

    std::printf("halo event simulator on the SDF's delays vs Icarus; last column: on halo's own (per-weight static) delays\n"
                "weight transitions | inertial: exact(<=2ps) max|diff| mean|diff| | transport: exact max|diff| | "
                "max settle icarus/halo-inertial/halo-transport ns\n");
    for (int w : {1, 7, 85, 127, 128 + 64}) {
        // OpenSTA's SDF for this weight (case analysis on w, as halo's per-weight delays).
        std::string tcl = fmt::format("read_liberty {}\nread_verilog tnet.v\nlink_design t\nset_load 0.01 [all_outputs]\n"
                                      "set_input_transition 0 [all_inputs]\n",
                                      test::kOsu018);
        for (int i = 0; i < 8; ++i) tcl += fmt::format("set_case_analysis {} [get_ports {{w[{}]}}]\n", (w >> i) & 1, i);
        tcl += "write_sdf -digits 5 raw.sdf\nexit\n";
        std::ofstream(dir / "sdf.tcl") << tcl;
        ASSERT_EQ(run(fmt::format("cd '{}' && sta -no_init -exit sdf.tcl > sta.log 2>&1", dir.string())), 0);
        std::stringstream raw;
        raw << std::ifstream(dir / "raw.sdf").rdbuf();
        // (min::max) -> (min:max:max): fill the typical field Icarus reads.
        std::string sdf = std::regex_replace(raw.str(), std::regex(R"(\(([-0-9.]+)::([-0-9.]+)\))"), "($1:$2:$2)");
        std::ofstream(dir / "t.sdf") << sdf;

        auto stim = sample_data_transitions(n, stream_seed(11, static_cast<std::uint64_t>(w)), 8, 24, DataDistribution{});
        {
            std::ofstream s(dir / "stim.txt");
            for (const auto& t : stim) s << fmt::format("{:02x} {:06x} {:02x} {:06x}\n", t.a0, t.acc0, t.a1, t.acc1);
        }
        std::ofstream(dir / "tb.v") << fmt::format(R"(`timescale 1ns/1ps
module tb;
  reg [7:0] w, a; reg [23:0] acc; wire [23:0] y;
  reg [7:0] a0, a1; reg [23:0] acc0, acc1;
  integer fd, r; realtime t0, last;
  t dut(.w(w), .a(a), .acc(acc), .y(y));
  initial $sdf_annotate("t.sdf", dut);
  always @(y) last = $realtime;
  initial begin
    w = {};
    fd = $fopen("stim.txt", "r");
    r = $fscanf(fd, "%h %h %h %h\n", a0, acc0, a1, acc1);
    while (r == 4) begin
      a = a0; acc = acc0; #30;
      t0 = $realtime; last = t0;
      a = a1; acc = acc1; #30;
      $display("%0.5f", last - t0);
      r = $fscanf(fd, "%h %h %h %h\n", a0, acc0, a1, acc1);
    end
    $finish;
  end
endmodule
)",
                                                       w);
        // The cell models declare `timescale 1ns/10ps, which would round every SDF delay to 10 ps.
        ASSERT_EQ(run(fmt::format("cd '{}' && sed 's#timescale 1ns/10ps#timescale 1ns/1ps#' "
                                  "/usr/share/qflow/tech/osu018/osu018_stdcells.v > cells.v && "
                                  "iverilog -gspecify -o sim tb.v tnet.v cells.v "
                                  "> iverilog.log 2>&1 && vvp -n sim > icarus.txt 2> vvp.err",
                                  dir.string())),
                  0);
        std::vector<double> icarus;
        {
            std::ifstream in(dir / "icarus.txt");
            std::string line;
            while (std::getline(in, line))
                if (!line.empty() && (std::isdigit(static_cast<unsigned char>(line[0])) || line[0] == '-'))
                    icarus.push_back(std::stod(line));
        }
        ASSERT_EQ(icarus.size(), stim.size()) << "see " << dir;

        const DynamicDelays d = delays_for_case(timer, hold_port(nl, "w", static_cast<std::uint64_t>(w)));
        const DynamicCircuit c = build_dynamic_circuit(nl, d, {}, static_cast<std::uint64_t>(w));
        EventSimulator own(c, nullptr);
        const DynamicDelays ds = delays_from_sdf(sdf, nl, d);
        const DynamicCircuit cs = build_dynamic_circuit(nl, ds, {}, static_cast<std::uint64_t>(w));
        EXPECT_EQ(cs.missing_arcs, 0u);
        EventSimulator sim(cs, nullptr);
        double own_max = 0, own_sum = 0;
        std::size_t exact_i = 0, exact_t = 0;
        double max_i = 0, max_t = 0, sum_i = 0, mx_ic = 0, mx_hi = 0, mx_ht = 0;
        for (std::size_t k = 0; k < stim.size(); ++k) {
            auto fix = [](float t) { return std::isfinite(t) ? static_cast<double>(t) : 0.0; };
            double hi = fix(sim.run(stim[k], DelayMode::inertial).settle_ns);
            double ht = fix(sim.run(stim[k], DelayMode::transport).settle_ns);
            double di = std::abs(hi - icarus[k]), dt = std::abs(ht - icarus[k]);
            double ho = fix(own.run(stim[k], DelayMode::inertial).settle_ns);
            own_max = std::max(own_max, std::abs(ho - icarus[k]));
            own_sum += std::abs(ho - icarus[k]);
            exact_i += di <= 0.002;
            exact_t += dt <= 0.002;
            max_i = std::max(max_i, di);
            max_t = std::max(max_t, dt);
            sum_i += di;
            mx_ic = std::max(mx_ic, icarus[k]);
            mx_hi = std::max(mx_hi, hi);
            mx_ht = std::max(mx_ht, ht);
        }
        std::printf("%6d %6zu | %6.2f%% %.4f %.5f | %6.2f%% %.4f | %.4f %.4f %.4f | own delays: max|diff| %.4f mean %.5f\n",
                    w, stim.size(), 100.0 * exact_i / stim.size(), max_i, sum_i / stim.size(),
                    100.0 * exact_t / stim.size(), max_t, mx_ic, mx_hi, mx_ht, own_max, own_sum / stim.size());
        // Same delays, close semantics (Icarus' module-path delays pick the path of the latest
        // input change and filter pulses their own way): the figures halo reports, the maximum
        // settle time, must agree within 0.1 ns (observed: 2-60 ps at 2,000 transitions per
        // weight), single transitions within 50 ps on average (observed 13-41 ps).
        EXPECT_NEAR(mx_hi, mx_ic, 0.1) << "weight " << w;
        EXPECT_LE(sum_i / static_cast<double>(stim.size()), 0.05) << "weight " << w;
    }
    if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace halo::timing
