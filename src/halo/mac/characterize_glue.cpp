// Glue to the MAC generator and the dynamic-timing engine. Until those branches are merged
// these report what is missing; the bodies are the only lines that change when they are.
#include "halo/mac/characterize.hpp"

#include "halo/util/diagnostics.hpp"

namespace halo::mac {

BuiltMac build_mac(const std::string& name, const std::string& arch, const std::filesystem::path& liberty,
                   const std::filesystem::path& work_dir) {
    throw_internal("E4520", "built-in MAC \"" + name + "\" (" + arch + ") needs the MAC generator, not linked in",
                   "give --netlist F.json --top M instead, or build halo with the macgen branch merged");
}

std::optional<double> decode_builtin_weight(const std::string& format, std::uint64_t code) {
    throw_internal("E4521", "weight format \"" + format + "\" needs the MAC generator's weight-format table",
                   "use --weight-format intN or uintN, or merge the macgen branch");
}

void run_dynamic_analysis(const netlist::Netlist& netlist, const timing::DelayAnnotation& annotation,
                          const CharacterizeOptions& options, std::span<const std::uint64_t> codes,
                          MacProfile& profile) {
    throw_internal("E4522", "dynamic analysis needs the dynamic-timing engine, not linked in",
                   "use --analysis static, or merge the dynamic branch");
}

}  // namespace halo::mac
