// The lookup convention against OpenSTA itself: `report_dcalc` on single-cell netlists at
// slews and loads inside and outside the osu018 grids; halo's lookups must give the same
// delays and slews (OpenSTA computes in float and prints 6 digits).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "halo/liberty/liberty_reader.hpp"

using namespace halo::liberty;

namespace {

const char* kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

struct Point {
    double slew_ns, load_pf;
};

struct Edge {
    bool input_rise;
    double delay_ns, slew_ns;
};

}  // namespace

TEST(OpenStaAgreement, ReportDcalcMatchesLookup) {
    if (std::system("command -v sta > /dev/null 2>&1") != 0) GTEST_SKIP() << "OpenSTA (sta) is not installed";
    Library lib = read_liberty(kOsu018);
    const std::vector<std::string> cells = {"INVX1", "NAND2X1", "BUFX2", "AOI21X1", "OR2X1"};
    const std::vector<Point> points = {{0.05, 0.2}, {0.3, 0.02}, {2.0, 0.001}, {0.6, 0.075}};
    auto dir = std::filesystem::temp_directory_path() / ("halo_opensta_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream tcl(dir / "s.tcl");
    tcl << "read_liberty " << kOsu018 << "\n";
    for (const auto& c : cells) {
        const Cell& cell = *lib.find_cell(c);
        std::ofstream v(dir / (c + ".v"));
        v << "module m_" << c << "(";
        std::string ports, decls, conns;
        for (const auto& p : cell.pins) {
            ports += (ports.empty() ? "" : ", ") + std::string("p_") + p.name;
            decls += (p.direction == PinDirection::input ? "  input p_" : "  output p_") + p.name + ";\n";
            conns += (conns.empty() ? "" : ", ") + std::string(".") + p.name + "(p_" + p.name + ")";
        }
        v << ports << ");\n" << decls << "  " << c << " u (" << conns << ");\nendmodule\n";
        tcl << "read_verilog " << (dir / (c + ".v")).string() << "\nlink_design m_" << c << "\n";
        for (const auto& pt : points) {
            tcl << "set_load " << pt.load_pf << " [get_ports p_Y]\n"
                << "set_input_transition " << pt.slew_ns << " [get_ports p_A]\n"
                << "puts \"@@ " << c << " " << pt.slew_ns << " " << pt.load_pf << "\"\n"
                << "report_dcalc -from [get_pins u/A] -to [get_pins u/Y] -digits 6\n";
        }
    }
    tcl.close();
    std::string cmd = "cd " + dir.string() + " && sta -no_splash -exit s.tcl > out.txt 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    std::ifstream in(dir / "out.txt");
    std::string line, cell_name;
    Point pt{};
    std::vector<Edge> edges;
    int compared = 0;
    auto check = [&] {
        if (cell_name.empty()) return;
        const Cell& cell = *lib.find_cell(cell_name);
        const TimingArc* arc = nullptr;
        for (const auto& a : cell.find_pin("Y")->timing)
            if (a.related_pin == "A") arc = &a;
        ASSERT_NE(arc, nullptr);
        ASSERT_EQ(edges.size(), 2u) << cell_name;
        for (const Edge& e : edges) {
            // The output edge follows the input edge for a positive arc, opposes it otherwise.
            bool output_rise = (arc->sense == TimingSense::positive_unate) == e.input_rise;
            const auto& delay = output_rise ? arc->cell_rise_ns : arc->cell_fall_ns;
            const auto& slew = output_rise ? arc->rise_transition_ns : arc->fall_transition_ns;
            EXPECT_NEAR(delay->lookup(pt.slew_ns, pt.load_pf), e.delay_ns, 2e-6 + 1e-6 * std::abs(e.delay_ns))
                << cell_name << " slew " << pt.slew_ns << " load " << pt.load_pf;
            EXPECT_NEAR(slew->lookup(pt.slew_ns, pt.load_pf), e.slew_ns, 2e-6 + 1e-6 * std::abs(e.slew_ns))
                << cell_name << " slew " << pt.slew_ns << " load " << pt.load_pf;
            ++compared;
        }
    };
    std::regex head(R"(^@@ (\S+) (\S+) (\S+))"), edge(R"(^A ([\^v]) -> Y)"), delay(R"(^Delay = (\S+))"), slew(R"(^Slew = (\S+))");
    std::smatch m;
    while (std::getline(in, line)) {
        if (std::regex_search(line, m, head)) {
            check();
            cell_name = m[1];
            pt = {std::stod(m[2]), std::stod(m[3])};
            edges.clear();
        } else if (std::regex_search(line, m, edge)) {
            edges.push_back({m[1] == "^", 0, 0});
        } else if (std::regex_search(line, m, delay) && !edges.empty()) {
            edges.back().delay_ns = std::stod(m[1]);
        } else if (std::regex_search(line, m, slew) && !edges.empty()) {
            edges.back().slew_ns = std::stod(m[1]);
        }
    }
    check();
    EXPECT_EQ(compared, static_cast<int>(cells.size() * points.size() * 2));
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
}
