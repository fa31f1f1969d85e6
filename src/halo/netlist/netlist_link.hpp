// Completes a Netlist whose nets, ports and instance connections are filled in: computes
// drivers, loads and the topological order, and rejects multiply-driven nets, undriven nets
// that have loads and combinational loops (E2020..E2022, naming the net). Shared by readers.
#pragma once

#include <string>

#include "halo/netlist/netlist.hpp"

namespace halo::netlist {

void link_netlist(Netlist& netlist);

// "name" of a net for diagnostics: its name, or "net#<id>" when it has none.
std::string net_label(const Netlist& netlist, NetId net);

}  // namespace halo::netlist
