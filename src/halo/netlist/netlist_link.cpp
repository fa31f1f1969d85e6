#include "halo/netlist/netlist_link.hpp"

#include <deque>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo::netlist {

std::string net_label(const Netlist& netlist, NetId net) {
    if (net < netlist.net_names.size() && !netlist.net_names[net].empty()) return netlist.net_names[net];
    return fmt::format("net#{}", net);
}

namespace {

std::string driver_label(const Netlist& n, const Driver& d) {
    switch (d.kind) {
        case Driver::Kind::port: return fmt::format("input port {}[{}]", n.ports[d.index].name, d.pin);
        case Driver::Kind::instance:
            return fmt::format("{}/{} ({})", n.instances[d.index].name, n.instances[d.index].cell->pins[d.pin].name,
                               n.instances[d.index].cell->name);
        case Driver::Kind::constant: return fmt::format("constant {}", d.index);
        case Driver::Kind::none: break;
    }
    return "nothing";
}

void set_driver(Netlist& n, NetId net, Driver d) {
    Driver& slot = n.drivers[net];
    if (slot.kind != Driver::Kind::none)
        throw_bad_input("E2020", n.source_path, 0,
                        fmt::format("net {} in module {} has more than one driver", net_label(n, net), n.top), "one driver",
                        fmt::format("{} and {}", driver_label(n, slot), driver_label(n, d)),
                        "two cell outputs (or a cell and an input port) are shorted together");
    slot = d;
}

}  // namespace

void link_netlist(Netlist& n) {
    std::size_t nets = n.net_names.size();
    n.drivers.assign(nets, Driver{});
    n.loads.assign(nets, {});
    n.drivers[kConst0] = {Driver::Kind::constant, 0, -1};
    n.drivers[kConst1] = {Driver::Kind::constant, 1, -1};
    for (std::uint32_t p = 0; p < n.ports.size(); ++p) {
        const Port& port = n.ports[p];
        if (port.direction != PortDirection::input) continue;
        for (std::size_t b = 0; b < port.bits.size(); ++b)
            if (port.bits[b] > kConst1) set_driver(n, port.bits[b], {Driver::Kind::port, p, static_cast<int>(b)});
    }
    for (std::uint32_t i = 0; i < n.instances.size(); ++i) {
        for (const auto& c : n.instances[i].outputs) set_driver(n, c.net, {Driver::Kind::instance, i, c.pin});
        for (const auto& c : n.instances[i].inputs) n.loads[c.net].push_back({i, c.pin});
    }
    for (NetId net = 2; net < nets; ++net) {
        if (n.drivers[net].kind != Driver::Kind::none || n.loads[net].empty()) continue;
        const Load& l = n.loads[net].front();
        throw_bad_input("E2021", n.source_path, 0, fmt::format("net {} in module {} has loads but no driver", net_label(n, net), n.top),
                        "a cell output or input port driving it",
                        fmt::format("undriven, read by {}/{}", n.instances[l.instance].name, n.instances[l.instance].cell->pins[l.pin].name),
                        "a cell type whose output pins the library does not list, or a missing input port");
    }
    for (const auto& port : n.ports) {
        if (port.direction != PortDirection::output) continue;
        for (std::size_t b = 0; b < port.bits.size(); ++b)
            if (n.drivers[port.bits[b]].kind == Driver::Kind::none)
                throw_bad_input("E2021", n.source_path, 0, fmt::format("output port {}[{}] of module {} is undriven", port.name, b, n.top),
                                "a driver", "none");
    }

    // Kahn's algorithm over combinational instances; a sequential cell's output starts paths
    // and its inputs end them, so flip-flops and latches break cycles.
    std::size_t count = n.instances.size();
    std::vector<std::uint32_t> pending(count, 0);
    auto is_comb = [&](std::uint32_t i) { return !n.instances[i].cell->is_sequential; };
    for (std::uint32_t i = 0; i < count; ++i) {
        if (!is_comb(i)) continue;
        for (const auto& c : n.instances[i].inputs) {
            const Driver& d = n.drivers[c.net];
            if (d.kind == Driver::Kind::instance && is_comb(d.index)) ++pending[i];
        }
    }
    std::deque<std::uint32_t> ready;
    for (std::uint32_t i = 0; i < count; ++i)
        if (pending[i] == 0) ready.push_back(i);
    n.topo_order.clear();
    n.topo_order.reserve(count);
    while (!ready.empty()) {
        std::uint32_t i = ready.front();
        ready.pop_front();
        n.topo_order.push_back(i);
        for (const auto& out : n.instances[i].outputs)
            for (const Load& l : n.loads[out.net])
                if (is_comb(i) && is_comb(l.instance) && --pending[l.instance] == 0) ready.push_back(l.instance);
    }
    if (n.topo_order.size() == count) return;

    // A loop: walk backwards through unfinished instances until one repeats.
    std::vector<char> done(count, 0), seen(count, 0);
    for (auto i : n.topo_order) done[i] = 1;
    std::uint32_t cur = 0;
    while (done[cur]) ++cur;
    for (std::size_t step = 0; step <= count; ++step) {
        seen[cur] = 1;
        for (const auto& c : n.instances[cur].inputs) {
            const Driver& d = n.drivers[c.net];
            if (d.kind != Driver::Kind::instance || done[d.index] || !is_comb(d.index)) continue;
            if (seen[d.index])
                throw_bad_input("E2022", n.source_path, 0,
                                fmt::format("combinational loop in module {} through net {} (driven by {}, read by {})", n.top,
                                            net_label(n, c.net), n.instances[d.index].name, n.instances[cur].name),
                                "an acyclic combinational netlist", "a cycle",
                                "break the loop with a flip-flop, or check for a mis-mapped latch");
            cur = d.index;
            break;
        }
    }
    throw_internal("E2099", "topological sort left instances unordered without a loop");
}

}  // namespace halo::netlist
