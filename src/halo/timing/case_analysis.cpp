#include "halo/timing/case_analysis.hpp"

#include <string>

#include "halo/util/diagnostics.hpp"

namespace halo::timing {

std::vector<NetConstant> hold_port(const netlist::Netlist& netlist, std::string_view port, std::uint64_t code) {
    const netlist::Port* p = netlist.find_port(port);
    if (p == nullptr) {
        std::string inputs;
        for (const auto& q : netlist.ports)
            if (q.direction == netlist::PortDirection::input) inputs += (inputs.empty() ? "" : ", ") + q.name;
        throw_bad_input("E3001", netlist.source_path, 0, "case analysis names a port the netlist lacks",
                        "an input port of " + netlist.top + " (" + inputs + ")", std::string(port),
                        "check the weight port name");
    }
    if (p->direction != netlist::PortDirection::input)
        throw_bad_input("E3002", netlist.source_path, 0, "case analysis can only hold input ports", "an input port",
                        "output port " + p->name);
    std::size_t width = p->bits.size();
    if (width < 64 && (code >> width) != 0)
        throw_bad_input("E3003", netlist.source_path, 0, "held value does not fit port " + p->name,
                        "a code below 2^" + std::to_string(width), std::to_string(code));
    std::vector<NetConstant> out;
    out.reserve(width);
    for (std::size_t b = 0; b < width; ++b) out.push_back({p->bits[b], b < 64 && ((code >> b) & 1u) != 0});
    return out;
}

}  // namespace halo::timing
