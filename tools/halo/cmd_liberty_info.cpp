#include <map>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/verilog_reader.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::cli {

namespace {

const char* direction_name(liberty::PinDirection d) {
    static constexpr const char* names[] = {"input", "output", "inout", "internal"};
    return names[static_cast<int>(d)];
}

void print_cell(const liberty::Cell& c) {
    fmt::print("cell {}: area {} leakage {} nW{}\n", c.name, c.area, c.leakage_power_nw, c.is_sequential ? " sequential" : "");
    for (std::size_t p = 0; p < c.pins.size(); ++p) {
        const auto& pin = c.pins[p];
        fmt::print("  pin {} {} cap {} pF", pin.name, direction_name(pin.direction), pin.capacitance_pf);
        if (!pin.function.empty()) fmt::print(" function \"{}\"", pin.function);
        if (const auto* f = c.logic.function(static_cast<int>(p)); f && f->truth_table())
            fmt::print(" truth table 0x{:016x} over {} inputs", *f->truth_table(), f->support().size());
        fmt::print("\n");
        for (const auto& arc : pin.timing) {
            fmt::print("    arc from {}", arc.related_pin);
            if (arc.cell_rise_ns) fmt::print(" rise {}x{}", arc.cell_rise_ns->index_1.size(), arc.cell_rise_ns->index_2.size());
            if (arc.cell_fall_ns) fmt::print(" fall {}x{}", arc.cell_fall_ns->index_1.size(), arc.cell_fall_ns->index_2.size());
            fmt::print("\n");
        }
    }
}

}  // namespace

Command liberty_info_command() {
    struct Options {
        std::string liberty, cell, netlist, top;
    };
    auto o = std::make_shared<Options>();
    return {"liberty-info", "read a Liberty library (and optionally a mapped netlist) and summarize what halo sees",
            [o](CLI::App& app) -> std::function<int()> {
                app.add_option("liberty", o->liberty, "Liberty .lib file")->required();
                app.add_option("--cell", o->cell, "print one cell's pins, functions and arcs");
                app.add_option("--netlist", o->netlist, "a Yosys JSON (.json) or structural Verilog (.v) netlist mapped to the library");
                auto* top = app.add_option("--top", o->top, "top module of the netlist (default: the one marked top)");
                return [o, top] {
                    if (o->netlist.empty()) {
                        const CLI::Option* const netlist_only[] = {top};
                        refuse_flags(netlist_only, "without --netlist");
                    }
                    liberty::Library lib = liberty::read_liberty(o->liberty);
                    fmt::print("library {}: {} cells, nominal {} V {} C, units: time x{} ns, cap x{} pF, energy x{} fJ\n",
                               lib.name, lib.cells.size(), lib.nominal_voltage_v, lib.nominal_temperature_c, lib.time_unit_ns,
                               lib.capacitance_unit_pf, lib.energy_unit_fj);
                    if (!o->cell.empty()) {
                        const auto* c = lib.find_cell(o->cell);
                        if (!c) throw_usage("E1501", fmt::format("library {} has no cell {}", lib.name, o->cell));
                        print_cell(*c);
                    }
                    if (!o->netlist.empty()) {
                        bool verilog = o->netlist.ends_with(".v");
                        netlist::Netlist n = verilog ? netlist::read_structural_verilog(o->netlist, o->top, lib)
                                                     : netlist::read_yosys_json(o->netlist, o->top, lib);
                        std::map<std::string, int> counts;
                        for (const auto& inst : n.instances) ++counts[inst.cell->name];
                        fmt::print("netlist {}: {} instances, {} nets, {} ports, area {}\n", n.top, n.instances.size(),
                                   n.net_count(), n.ports.size(), n.total_area());
                        for (const auto& [name, count] : counts) fmt::print("  {:<12} {}\n", name, count);
                    }
                    return 0;
                };
            }};
}

}  // namespace halo::cli
