// libFuzzer target: any bytes must either read as a Liberty library or raise halo::Error;
// a library that reads must answer lookups and evaluate its compiled functions.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/util/diagnostics.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        halo::liberty::Library lib = halo::liberty::read_liberty_string(text, "fuzz.lib");
        volatile double sink = 0;
        for (const auto& cell : lib.cells) {
            (void)lib.find_cell(cell.name);
            std::vector<std::uint64_t> words(cell.pins.size(), 0x5555555555555555ull);
            std::vector<halo::liberty::Ternary> tern(cell.pins.size(), halo::liberty::Ternary::x);
            for (std::size_t p = 0; p < cell.pins.size(); ++p) {
                for (const auto& arc : cell.pins[p].timing)
                    for (const auto* t : {&arc.cell_rise_ns, &arc.cell_fall_ns, &arc.rise_transition_ns, &arc.fall_transition_ns})
                        if (*t) sink = sink + (*t)->lookup(0.1, 0.01) + (*t)->lookup(-1e9, 1e9);
                if (const auto* f = cell.logic.function(static_cast<int>(p))) {
                    sink = sink + static_cast<double>(f->eval(words));
                    (void)f->eval3(tern);
                    for (int q : f->support()) (void)f->sensitize(q, tern);
                }
            }
        }
    } catch (const halo::Error&) {
    }
    return 0;
}
