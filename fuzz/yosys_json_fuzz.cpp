// libFuzzer target: any bytes must either read as a Yosys JSON netlist over a small built-in
// library or raise halo::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/util/diagnostics.hpp"
#include "netlist_fuzz_library.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        halo::netlist::Netlist n = halo::netlist::read_yosys_json_string(text, "", halo::fuzz::netlist_fuzz_library(), "fuzz.json");
        volatile double sink = n.total_area();
        (void)sink;
    } catch (const halo::Error&) {
    }
    return 0;
}
