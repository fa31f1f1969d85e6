// A flattened gate-level netlist bound to a cell library: instances of library cells, nets
// (each with one driver), ports as bit vectors. Built by the Yosys JSON reader
// (yosys_json_reader.hpp) and checked on construction: unknown cells or pins, undriven or
// multiply-driven nets and combinational loops are errors that name the cell or net.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "halo/liberty/library.hpp"

namespace halo::netlist {

using NetId = std::uint32_t;
constexpr NetId kNoNet = ~NetId{0};

// Nets 0 and 1 are the constants (Yosys "0"/"1" bits); ordinary nets start at 2.
constexpr NetId kConst0 = 0;
constexpr NetId kConst1 = 1;

struct PinConnection {
    int pin = -1;   // index into the cell's pins
    NetId net = kNoNet;
};

struct Instance {
    std::string name;
    const liberty::Cell* cell = nullptr;
    std::vector<PinConnection> inputs;   // one per connected input pin
    std::vector<PinConnection> outputs;  // one per connected output pin
};

enum class PortDirection : std::uint8_t { input, output };

struct Port {
    std::string name;
    PortDirection direction = PortDirection::input;
    std::vector<NetId> bits;  // LSB first
};

// Where a net is driven from: a primary input bit, a cell output, or a constant.
struct Driver {
    enum class Kind : std::uint8_t { none, constant, port, instance } kind = Kind::none;
    std::uint32_t index = 0;  // port index / instance index / constant value
    int pin = -1;             // the instance's output pin index, or the port bit
};

struct Load {
    std::uint32_t instance = 0;
    int pin = -1;  // input pin index of that instance's cell
};

struct Netlist {
    std::string top;
    std::string source_path;
    const liberty::Library* library = nullptr;
    std::vector<std::string> net_names;  // index = NetId; "" where Yosys gave none
    std::vector<Port> ports;
    std::vector<Instance> instances;
    std::vector<Driver> drivers;            // index = NetId
    std::vector<std::vector<Load>> loads;   // index = NetId
    std::vector<std::uint32_t> topo_order;  // instances, inputs before outputs

    const Port* find_port(std::string_view name) const;
    std::size_t net_count() const { return net_names.size(); }
    double total_area() const;
};

}  // namespace halo::netlist
