// Tiny hand-built designs for the dynamic-timing tests: a library of cells given by function
// (delays set directly in the annotation, not by tables), a netlist builder and the annotation.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "halo/liberty/cell_function.hpp"
#include "halo/liberty/library.hpp"
#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/netlist.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/timing/delay_annotation.hpp"

namespace halo::timing::test {

inline liberty::Cell function_cell(std::string name, std::vector<std::string> inputs, std::string function) {
    liberty::Cell cell;
    cell.name = std::move(name);
    cell.leakage_power_nw = 1.0;
    std::vector<std::string> names;
    for (auto& in : inputs) {
        liberty::Pin p;
        p.name = in;
        p.direction = liberty::PinDirection::input;
        p.capacitance_pf = p.rise_capacitance_pf = p.fall_capacitance_pf = 0.01;
        cell.pins.push_back(p);
        names.push_back(in);
    }
    liberty::Pin y;
    y.name = "Y";
    y.direction = liberty::PinDirection::output;
    y.function = function;
    cell.pins.push_back(y);
    names.push_back("Y");
    cell.logic.functions.resize(cell.pins.size());
    cell.logic.functions.back() = liberty::CellFunction::compile(function, names, cell.name);
    return cell;
}

inline std::unique_ptr<liberty::Library> function_library() {
    auto lib = std::make_unique<liberty::Library>();
    lib->name = "fn";
    lib->nominal_voltage_v = 1.0;
    lib->cells.push_back(function_cell("BUF", {"A"}, "A"));
    lib->cells.push_back(function_cell("INV", {"A"}, "!A"));
    lib->cells.push_back(function_cell("AND2", {"A", "B"}, "A&B"));
    lib->cells.push_back(function_cell("OR2", {"A", "B"}, "A|B"));
    lib->cells.push_back(function_cell("XOR2", {"A", "B"}, "A^B"));
    lib->cells.push_back(function_cell("AOI22", {"A", "B", "C", "D"}, "!((A&B)|(C&D))"));
    lib->cells.push_back(function_cell("MUX2", {"A", "B", "S"}, "(S&B)|(!S&A)"));
    lib->index_cells();
    return lib;
}

// Builds a netlist gate by gate (in topological order) together with its annotation.
class DesignBuilder {
public:
    explicit DesignBuilder(const liberty::Library& lib) {
        nl_.top = "t";
        nl_.source_path = "t.json";
        nl_.library = &lib;
        nl_.net_names = {"0", "1"};
        lib_ = &lib;
    }
    std::vector<netlist::NetId> input(const std::string& name, int bits) {
        netlist::Port p{name, netlist::PortDirection::input, {}};
        for (int i = 0; i < bits; ++i) p.bits.push_back(new_net(name + "[" + std::to_string(i) + "]"));
        nl_.ports.push_back(p);
        return p.bits;
    }
    void output(const std::string& name, std::vector<netlist::NetId> bits) {
        nl_.ports.push_back({name, netlist::PortDirection::output, std::move(bits)});
    }
    // A gate with the same rise/fall delay pair on every arc unless given per input.
    netlist::NetId gate(const std::string& cell, std::vector<netlist::NetId> ins, std::vector<double> rise_ns,
                        std::vector<double> fall_ns) {
        netlist::Instance inst;
        inst.name = "u" + std::to_string(nl_.instances.size());
        inst.cell = lib_->find_cell(cell);
        for (std::size_t k = 0; k < ins.size(); ++k) inst.inputs.push_back({static_cast<int>(k), ins[k]});
        netlist::NetId out = new_net("n" + std::to_string(nl_.net_names.size()));
        inst.outputs.push_back({static_cast<int>(ins.size()), out});
        std::vector<ArcTiming> arcs;
        for (std::size_t k = 0; k < ins.size(); ++k) {
            ArcTiming a;
            a.from_pin = static_cast<int>(k);
            a.to_pin = static_cast<int>(ins.size());
            a.rise_ns = rise_ns[rise_ns.size() == 1 ? 0 : k];
            a.fall_ns = fall_ns[fall_ns.size() == 1 ? 0 : k];
            arcs.push_back(a);
        }
        nl_.instances.push_back(inst);
        ann_.arcs.push_back(arcs);
        return out;
    }
    netlist::Netlist& netlist() { return nl_; }
    // Finishes drivers, loads, topological order and the annotation (each net's load = pins x 0.01 pF).
    DelayAnnotation finish(double voltage_v = 1.0) {
        nl_.drivers.assign(nl_.net_names.size(), {});
        nl_.loads.assign(nl_.net_names.size(), {});
        nl_.topo_order.clear();
        for (std::uint32_t i = 0; i < nl_.instances.size(); ++i) {
            for (const auto& c : nl_.instances[i].inputs) nl_.loads[c.net].push_back({i, c.pin});
            const auto& o = nl_.instances[i].outputs[0];
            nl_.drivers[o.net] = {netlist::Driver::Kind::instance, i, o.pin};
            nl_.topo_order.push_back(i);
        }
        ann_.nets.assign(nl_.net_names.size(), {});
        for (std::size_t n = 0; n < nl_.net_names.size(); ++n) {
            ann_.nets[n].load_pf = 0.01 * static_cast<double>(nl_.loads[n].size());
            ann_.nets[n].slew_rise_ns = ann_.nets[n].slew_fall_ns = 0.1;
        }
        ann_.voltage_v = voltage_v;
        return ann_;
    }

private:
    netlist::NetId new_net(const std::string& name) {
        nl_.net_names.push_back(name);
        return static_cast<netlist::NetId>(nl_.net_names.size() - 1);
    }
    netlist::Netlist nl_;
    DelayAnnotation ann_;
    const liberty::Library* lib_ = nullptr;
};

constexpr const char* kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

// Synthesizes `verilog` (top module t) with Yosys + ABC onto osu018 into `dir`/t.json.
inline std::filesystem::path synthesize(const std::string& verilog, const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "t.v") << verilog;
    std::string cmd = "cd '" + dir.string() + "' && yosys -q -p \"read_verilog t.v; synth -top t -flatten; abc -liberty " +
                      kOsu018 + "; opt_clean; write_json t.json\" > yosys.log 2>&1";
    if (std::system(cmd.c_str()) != 0) return {};
    return dir / "t.json";
}

// y = acc + w * a, signed, n-bit weight and activation, m-bit accumulator.
inline std::string mac_verilog(int n, int m) {
    return "module t(input signed [" + std::to_string(n - 1) + ":0] w, input signed [" + std::to_string(n - 1) +
           ":0] a, input signed [" + std::to_string(m - 1) + ":0] acc, output signed [" + std::to_string(m - 1) +
           ":0] y);\n  assign y = acc + w * a;\nendmodule\n";
}

}  // namespace halo::timing::test
