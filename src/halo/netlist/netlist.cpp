#include "halo/netlist/netlist.hpp"

namespace halo::netlist {

const Port* Netlist::find_port(std::string_view name) const {
    for (const auto& p : ports)
        if (p.name == name) return &p;
    return nullptr;
}

double Netlist::total_area() const {
    double area = 0;
    for (const auto& inst : instances) area += inst.cell->area;
    return area;
}

}  // namespace halo::netlist
