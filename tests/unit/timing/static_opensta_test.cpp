// halo's static timer against OpenSTA, run by the test itself: each design is synthesized with
// Yosys onto an OSU library (the reference flow of shared/reference/opensta-int8-mac plus
// write_json), timed by `sta` with set_case_analysis per weight value (as sta_full.tcl does),
// and every weight must agree within 1 %. Also checks the fast timer against the plain reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/timing/static_reference.hpp"
#include "halo/timing/static_sweep.hpp"

namespace halo::timing {
namespace {

namespace fs = std::filesystem;

struct Design {
    const char* name;
    const char* verilog;
    unsigned weight_bits;
    std::size_t code_step;  // sweep every code_step-th code (1 = all)
};

// The reference INT8 MAC (shared/reference/opensta-int8-mac/mac.v), an INT4 MAC and an unsigned
// 6x6 multiply-add.
const Design kInt8{"int8", "module mac(input signed [7:0] w, input signed [7:0] a, input signed [23:0] acc, "
                           "output signed [23:0] y);\n  assign y = acc + w * a;\nendmodule\n", 8, 1};
const Design kInt4{"int4", "module mac(input signed [3:0] w, input signed [3:0] a, input signed [11:0] acc, "
                           "output signed [11:0] y);\n  assign y = acc + w * a;\nendmodule\n", 4, 1};
const Design kU6{"u6", "module mac(input [5:0] w, input [5:0] a, input [13:0] acc, output [13:0] y);\n"
                       "  assign y = acc + w * a;\nendmodule\n", 6, 1};

const char* kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";
const char* kOsu035 = "/usr/share/qflow/tech/osu035/osu035_stdcells.lib";

bool have_tool(const char* tool) {
    return std::system(fmt::format("command -v {} > /dev/null 2>&1", tool).c_str()) == 0;
}

void write_text(const fs::path& p, const std::string& s) {
    std::ofstream(p) << s;
}

// Synthesizes `design` onto `liberty` in `dir`: mac_net.v and mac_net.json.
void synthesize(const Design& design, const char* liberty, const fs::path& dir) {
    write_text(dir / "mac.v", design.verilog);
    write_text(dir / "syn.ys", fmt::format("read_verilog mac.v\nsynth -top mac -flatten\ndfflibmap -liberty {0}\n"
                                           "abc -liberty {0} -D 5000\nopt_clean\nwrite_verilog -noattr mac_net.v\n"
                                           "write_json mac_net.json\n",
                                           liberty));
    int rc = std::system(fmt::format("cd {} && yosys -q syn.ys > yosys.log 2>&1", dir.string()).c_str());
    ASSERT_EQ(rc, 0) << "yosys failed, see " << (dir / "yosys.log");
}

// OpenSTA's longest unconstrained path per code (and with the weight free, key ~0).
std::map<std::uint64_t, double> opensta_sweep(const char* liberty, const fs::path& dir, unsigned bits,
                                              const std::vector<std::uint64_t>& codes) {
    std::string tcl = fmt::format(
        "read_liberty {}\nread_verilog mac_net.v\nlink_design mac\nset_input_delay 0 [all_inputs]\n"
        "set_output_delay 0 [all_outputs]\nset_load 0.01 [all_outputs]\n"
        "puts \"W=free\"\nreport_checks -path_delay max -format end -unconstrained -digits 6\n",
        liberty);
    for (auto c : codes) {
        for (unsigned b = 0; b < bits; ++b)
            tcl += fmt::format("set_case_analysis {} [get_ports {{w[{}]}}]\n", (c >> b) & 1u, b);
        tcl += fmt::format("puts \"W={}\"\nreport_checks -path_delay max -format end -unconstrained -digits 6\n", c);
        for (unsigned b = 0; b < bits; ++b) tcl += fmt::format("unset_case_analysis [get_ports {{w[{}]}}]\n", b);
    }
    write_text(dir / "sweep.tcl", tcl);
    int rc = std::system(fmt::format("cd {} && sta -no_splash -exit sweep.tcl > sta.log 2>&1", dir.string()).c_str());
    EXPECT_EQ(rc, 0) << "sta failed, see " << (dir / "sta.log");
    std::map<std::uint64_t, double> out;
    std::ifstream in(dir / "sta.log");
    std::uint64_t key = 0;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("W=", 0) == 0) {
            key = line == "W=free" ? ~std::uint64_t{0} : std::stoull(line.substr(2));
            out[key] = 0.0;  // "No paths found." leaves 0
        } else if (line.find("(output)") != std::string::npos) {
            std::istringstream ls(line);
            std::string pin, tag, required, actual;
            ls >> pin >> tag >> required >> actual;
            out[key] = std::stod(actual);
        }
    }
    return out;
}

struct Case {
    const Design* design;
    const char* liberty;
};

class OpenStaAgreement : public ::testing::TestWithParam<Case> {};

TEST_P(OpenStaAgreement, EveryWeightWithinOnePercent) {
    if (!have_tool("yosys") || !have_tool("sta")) GTEST_SKIP() << "yosys or sta not installed";
    const Case& c = GetParam();
    fs::path dir = fs::temp_directory_path() /
                   fmt::format("halo_sta_{}_{}_{}", c.design->name, fs::path(c.liberty).stem().string(), ::getpid());
    fs::create_directories(dir);
    synthesize(*c.design, c.liberty, dir);

    std::vector<std::uint64_t> codes;
    for (std::uint64_t k = 0; k < (1ull << c.design->weight_bits); k += c.design->code_step) codes.push_back(k);
    auto oracle = opensta_sweep(c.liberty, dir, c.design->weight_bits, codes);
    ASSERT_EQ(oracle.size(), codes.size() + 1);

    auto lib = liberty::read_liberty(c.liberty);
    auto nl = netlist::read_yosys_json(dir / "mac_net.json", "mac", lib);
    StaOptions options;
    options.threads = 2;
    StaticTimer timer(nl, options);
    auto delays = static_delay_sweep(timer, "w", codes, options.threads);

    double worst = 0;
    for (std::size_t i = 0; i < codes.size(); ++i) {
        double ref = oracle.at(codes[i]);
        ASSERT_GT(ref, 0.0);
        double rel = std::abs(delays[i] - ref) / ref;
        worst = std::max(worst, rel);
        EXPECT_LT(rel, 0.01) << "code " << codes[i] << ": halo " << delays[i] << " ns, OpenSTA " << ref << " ns";
    }
    double free_ref = oracle.at(~std::uint64_t{0});
    EXPECT_LT(std::abs(timer.nominal_delay_ns() - free_ref) / free_ref, 0.01);
    RecordProperty("max_rel_error", fmt::format("{:.3g}", worst));
    std::printf("[ %s on %s ] %zu weights, max relative error vs OpenSTA %.3g\n", c.design->name,
                fs::path(c.liberty).stem().c_str(), codes.size(), worst);

    // The fast timer equals the plain reference (same rules, no compiled tables).
    for (std::size_t i = 0; i < codes.size(); i += std::max<std::size_t>(1, codes.size() / 8)) {
        auto held = hold_port(nl, "w", codes[i]);
        EXPECT_NEAR(delays[i], reference_longest_delay_ns(nl, held, options), 1e-9) << "code " << codes[i];
    }
    fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Designs, OpenStaAgreement,
                         ::testing::Values(Case{&kInt8, kOsu018}, Case{&kInt8, kOsu035}, Case{&kInt4, kOsu018},
                                           Case{&kInt4, kOsu035}, Case{&kU6, kOsu018}, Case{&kU6, kOsu035}),
                         [](const auto& info) {
                             return std::string(info.param.design->name) + "_" +
                                    fs::path(info.param.liberty).stem().string().substr(0, 6);
                         });

}  // namespace
}  // namespace halo::timing
