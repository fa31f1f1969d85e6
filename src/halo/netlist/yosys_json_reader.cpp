#include "halo/netlist/yosys_json_reader.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/netlist/netlist_link.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::netlist {

namespace {

using Json = nlohmann::ordered_json;

class JsonReader {
public:
    JsonReader(const liberty::Library& lib, std::string file) : lib_(lib), file_(std::move(file)) {}

    Netlist read(const Json& doc, std::string_view top_name) {
        const Json& modules = member(doc, "modules", Json::value_t::object, "the document");
        std::string top = pick_top(modules, top_name);
        const Json& mod = modules.at(top);
        if (!mod.is_object()) fail("E2002", "module " + top + " is not an object", "an object", mod.type_name());
        n_.top = top;
        n_.source_path = file_;
        n_.library = &lib_;
        n_.net_names = {"0", "1"};
        read_ports(mod);
        read_cells(mod, modules);
        read_netnames(mod);
        link_netlist(n_);
        return std::move(n_);
    }

private:
    [[noreturn]] void fail(const char* code, const std::string& message, const std::string& expected = {},
                           const std::string& found = {}, const std::string& hint = {}) {
        throw_bad_input(code, file_, 0, message, expected, found, hint);
    }

    const Json& member(const Json& obj, const char* key, Json::value_t type, const std::string& where) {
        auto it = obj.find(key);
        if (it == obj.end()) fail("E2002", fmt::format("{} has no \"{}\"", where, key), fmt::format("a \"{}\" member", key), "none");
        if (it->type() != type && !(type == Json::value_t::number_integer && it->is_number_unsigned()))
            fail("E2002", fmt::format("\"{}\" in {} has the wrong type", key, where), Json(type).type_name(), it->type_name());
        return *it;
    }

    std::string pick_top(const Json& modules, std::string_view top_name) {
        if (!top_name.empty()) {
            if (!modules.contains(std::string(top_name))) {
                std::string names;
                for (auto it = modules.begin(); it != modules.end(); ++it) names += (names.empty() ? "" : ", ") + it.key();
                fail("E2003", fmt::format("top module {} is not in the netlist", top_name), std::string(top_name),
                     names.empty() ? "no modules" : names, "check the -top name given to yosys");
            }
            return std::string(top_name);
        }
        std::string found;
        for (auto it = modules.begin(); it != modules.end(); ++it) {
            const Json& m = it.value();
            if (m.is_object() && m.contains("attributes") && m["attributes"].is_object() && m["attributes"].contains("top")) {
                const Json& t = m["attributes"]["top"];
                bool on = (t.is_string() && t.get<std::string>().find('1') != std::string::npos) || (t.is_number() && t != 0);
                if (on) return it.key();
            }
            if (!m.contains("attributes") || !m["attributes"].is_object() || !m["attributes"].contains("blackbox")) found = it.key();
        }
        if (modules.size() == 1) return modules.begin().key();
        fail("E2003", "no top module: none has the \"top\" attribute and no top name was given", "a top module",
             fmt::format("{} modules", modules.size()), "pass the top module's name");
    }

    // A Yosys bit: an integer net number, or "0"/"1" ("x"/"z" as constant 0).
    NetId net_of(const Json& bit, const std::string& where) {
        if (bit.is_number_integer() || bit.is_number_unsigned()) {
            long long id = bit.get<long long>();
            if (id < 0) fail("E2013", fmt::format("{}: negative net number", where), "a net number >= 0", std::to_string(id));
            auto [it, inserted] = net_ids_.try_emplace(id, static_cast<NetId>(n_.net_names.size()));
            if (inserted) n_.net_names.emplace_back();
            return it->second;
        }
        if (bit.is_string()) {
            const std::string& s = bit.get_ref<const std::string&>();
            if (s == "1") return kConst1;
            if (s == "0" || s == "x" || s == "z") return kConst0;
            fail("E2013", fmt::format("{}: unknown bit value", where), "a net number, \"0\", \"1\", \"x\" or \"z\"", "\"" + s.substr(0, 20) + "\"");
        }
        fail("E2013", fmt::format("{}: a bit is neither a number nor a string", where), "a net number or constant", bit.type_name());
    }

    void read_ports(const Json& mod) {
        auto it = mod.find("ports");
        if (it == mod.end()) return;
        if (!it->is_object()) fail("E2002", "\"ports\" is not an object", "an object", it->type_name());
        for (auto p = it->begin(); p != it->end(); ++p) {
            std::string where = "port " + p.key();
            if (!p.value().is_object()) fail("E2002", where + " is not an object", "an object", p.value().type_name());
            const Json& dir = member(p.value(), "direction", Json::value_t::string, where);
            const Json& bits = member(p.value(), "bits", Json::value_t::array, where);
            Port port;
            port.name = p.key();
            std::string d = dir.get<std::string>();
            if (d == "input") port.direction = PortDirection::input;
            else if (d == "output") port.direction = PortDirection::output;
            else fail("E2014", fmt::format("{} has direction {}", where, d), "input or output", d, "inout ports are not supported");
            for (const auto& b : bits) {
                NetId net = net_of(b, where);
                if (net > kConst1 && n_.net_names[net].empty())
                    n_.net_names[net] = bits.size() == 1 ? port.name : fmt::format("{}[{}]", port.name, port.bits.size());
                port.bits.push_back(net);
            }
            n_.ports.push_back(std::move(port));
        }
    }

    void read_cells(const Json& mod, const Json& modules) {
        auto it = mod.find("cells");
        if (it == mod.end()) return;
        if (!it->is_object()) fail("E2002", "\"cells\" is not an object", "an object", it->type_name());
        for (auto c = it->begin(); c != it->end(); ++c) {
            std::string where = "cell " + c.key();
            if (!c.value().is_object()) fail("E2002", where + " is not an object", "an object", c.value().type_name());
            std::string type = member(c.value(), "type", Json::value_t::string, where).get<std::string>();
            const liberty::Cell* cell = lib_.find_cell(type);
            if (!cell) {
                if (modules.contains(type))
                    fail("E2004", fmt::format("{} instantiates module {}: the design is hierarchical", where, type),
                         "a flat netlist of library cells", "module " + type, "synthesize with `synth -flatten` (or run `flatten`)");
                fail("E2010", fmt::format("{} has type {}, which library {} does not define", where, type, lib_.name),
                     "a cell of the Liberty library", type,
                     type.starts_with("$") ? "map the design to the library: `dfflibmap -liberty LIB; abc -liberty LIB`"
                                           : "was the netlist synthesized for another library? (`abc -liberty LIB`, `dfflibmap -liberty LIB`)");
            }
            Instance inst;
            inst.name = c.key();
            inst.cell = cell;
            const Json& conns = member(c.value(), "connections", Json::value_t::object, where);
            std::vector<char> connected(cell->pins.size(), 0);
            for (auto k = conns.begin(); k != conns.end(); ++k) {
                int pin = cell->pin_index(k.key());
                if (pin < 0)
                    fail("E2011", fmt::format("{} ({}) connects pin {}, which the cell does not have", where, type, k.key()),
                         "a pin of " + type, k.key(), "the library and the netlist disagree about this cell");
                if (!k.value().is_array())
                    fail("E2002", fmt::format("{} pin {}: connection is not an array", where, k.key()), "an array of bits", k.value().type_name());
                if (k.value().size() != 1)
                    fail("E2012", fmt::format("{} ({}) pin {} is connected to {} bits", where, type, k.key(), k.value().size()),
                         "1 bit", fmt::format("{} bits", k.value().size()), "library cell pins are single bits; flatten buses before mapping");
                NetId net = net_of(k.value()[0], where + " pin " + k.key());
                connected[pin] = 1;
                auto dir = cell->pins[pin].direction;
                if (dir == liberty::PinDirection::input) inst.inputs.push_back({pin, net});
                else if (dir == liberty::PinDirection::output) {
                    if (net <= kConst1) continue;  // an output tied to a constant bit drives nothing halo tracks
                    inst.outputs.push_back({pin, net});
                } else
                    fail("E2014", fmt::format("{} ({}) pin {} is {}", where, type, k.key(), "inout or internal"), "input or output pins",
                         k.key(), "bidirectional pins are not supported");
            }
            for (std::size_t p = 0; p < cell->pins.size(); ++p)
                if (!connected[p] && cell->pins[p].direction == liberty::PinDirection::input)
                    fail("E2015", fmt::format("{} ({}) leaves input pin {} unconnected", where, type, cell->pins[p].name),
                         "every input pin connected", "no connection", "tie it to a constant in the design");
            // Pin order, not the file's key order, so consumers see the same layout for a cell type.
            auto by_pin = [](const PinConnection& x, const PinConnection& y) { return x.pin < y.pin; };
            std::sort(inst.inputs.begin(), inst.inputs.end(), by_pin);
            std::sort(inst.outputs.begin(), inst.outputs.end(), by_pin);
            n_.instances.push_back(std::move(inst));
        }
    }

    void read_netnames(const Json& mod) {
        auto it = mod.find("netnames");
        if (it == mod.end() || !it->is_object()) return;
        // Port names win, then public names (hide_name 0) over generated ones; first seen wins
        // among equals.
        std::vector<char> public_name(n_.net_names.size(), 0);
        for (NetId net = 2; net < n_.net_names.size(); ++net) public_name[net] = !n_.net_names[net].empty();
        for (auto nn = it->begin(); nn != it->end(); ++nn) {
            if (!nn.value().is_object()) continue;
            auto bits = nn.value().find("bits");
            if (bits == nn.value().end() || !bits->is_array()) continue;
            bool hidden = false;
            if (auto h = nn.value().find("hide_name"); h != nn.value().end() && h->is_number() && *h != 0) hidden = true;
            for (std::size_t b = 0; b < bits->size(); ++b) {
                const Json& bit = (*bits)[b];
                if (!(bit.is_number_integer() || bit.is_number_unsigned())) continue;
                auto id = net_ids_.find(bit.get<long long>());
                if (id == net_ids_.end()) continue;  // a net no cell or port uses
                NetId net = id->second;
                std::string name = bits->size() == 1 ? nn.key() : fmt::format("{}[{}]", nn.key(), b);
                if (public_name[net]) continue;
                if (!hidden || n_.net_names[net].empty()) {
                    n_.net_names[net] = std::move(name);
                    public_name[net] = !hidden;
                }
            }
        }
    }

    const liberty::Library& lib_;
    std::string file_;
    Netlist n_;
    std::unordered_map<long long, NetId> net_ids_;
};

}  // namespace

Netlist read_yosys_json_string(std::string_view json_text, std::string_view top, const liberty::Library& library,
                               const std::string& source_name) {
    Json doc;
    try {
        doc = Json::parse(json_text.begin(), json_text.end());
    } catch (const nlohmann::json::parse_error& e) {
        throw_bad_input_at("E2001", source_name, fmt::format("byte {}", e.byte), "the file is not valid JSON", {}, e.what(), "was it written by yosys `write_json`, and completely?");
    } catch (const nlohmann::json::exception& e) {  // out_of_range: a number such as 2e2222222222 overflows
        throw_bad_input_at("E2001", source_name, "", "the file is not valid JSON", {}, e.what(), "was it written by yosys `write_json`, and completely?");
    }
    if (!doc.is_object()) throw_bad_input("E2002", source_name, 0, "the JSON document is not an object", "an object", doc.type_name());
    return JsonReader(library, source_name).read(doc, top);
}

Netlist read_yosys_json(const std::filesystem::path& path, std::string_view top, const liberty::Library& library) {
    std::error_code exists_error;  // not an open: opening a FIFO would block
    if (!std::filesystem::exists(path, exists_error)) throw_bad_input("E2000", path.string(), 0, "cannot open the netlist file", "a readable Yosys JSON file", "", "check the path");
    // read_file: only a regular file (not a directory, FIFO or /dev/zero), and recorded as an input
    // so that no output of this run can replace it (atomic_file.hpp).
    return read_yosys_json_string(read_file(path), top, library, path.string());
}

}  // namespace halo::netlist
