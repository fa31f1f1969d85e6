#include "halo/mac/characterize.hpp"

#include <cmath>

#include <fmt/format.h>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/mac/weight_format.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/timing/static_sweep.hpp"
#include "halo/timing/waveform_cuda_host.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::mac {

namespace {

// 64K codes (int16, bf16): a 24-bit port's 16M profile rows need more than 3 GB and ended in
// bad_alloc; no format halo quantizes to is wider than 16 bits.
constexpr int kMaxWeightBits = 16;

// Integer weight formats by name prefix: the row says whether the top bit is a sign.
struct IntFormat {
    std::string_view prefix;
    bool is_signed;
};
constexpr IntFormat kIntFormats[] = {{"int", true}, {"uint", false}};

std::optional<IntFormat> int_format(const std::string& name, int& bits) {
    for (const auto& f : kIntFormats) {
        if (name.rfind(f.prefix, 0) != 0) continue;
        std::string digits = name.substr(f.prefix.size());
        if (digits.empty() || digits.size() > 3 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
        bits = std::stoi(digits);
        return f;
    }
    return std::nullopt;
}

}  // namespace

Analysis parse_analysis(std::string_view name) {
    if (name == "static") return Analysis::static_only;
    if (name == "dynamic") return Analysis::dynamic_only;
    if (name == "both") return Analysis::both;
    throw_usage("E4510", "unknown --analysis \"" + std::string(name) + "\"", "use static, dynamic or both");
}

void check_weight_port(const netlist::Netlist& nl, const std::string& port, int bits) {
    const netlist::Port* p = nl.find_port(port);
    if (p == nullptr) {
        std::string inputs;
        for (const auto& q : nl.ports)
            if (q.direction == netlist::PortDirection::input) inputs += (inputs.empty() ? "" : ", ") + q.name;
        throw_bad_input("E4501", nl.source_path, 0, "weight port \"" + port + "\" is not a port of module " + nl.top,
                        "one of its input ports: " + inputs, port, "pass --weight-port with the MAC's weight input");
    }
    if (p->direction != netlist::PortDirection::input)
        throw_bad_input("E4502", nl.source_path, 0, "weight port \"" + port + "\" of module " + nl.top + " is an output",
                        "an input port", "output " + port, "pass --weight-port with the MAC's weight input");
    int width = static_cast<int>(p->bits.size());
    if ((bits > 0 && width != bits) || width > kMaxWeightBits || width == 0)
        throw_bad_input("E4503", nl.source_path, 0, "weight port \"" + port + "\" of module " + nl.top + " has the wrong width",
                        bits > 0 ? std::to_string(bits) + " bits for the weight format"
                                 : "1 to " + std::to_string(kMaxWeightBits) + " bits",
                        std::to_string(width) + " bits", "check --weight-format / --weight-port");
}

std::optional<double> decode_weight_value(const std::string& format, int bits, std::uint64_t code) {
    int fbits = 0;
    if (auto f = int_format(format, fbits)) {
        if (f->is_signed && bits > 0 && ((code >> (bits - 1)) & 1u))
            return static_cast<double>(static_cast<std::int64_t>(code) - (std::int64_t{1} << bits));
        return static_cast<double>(code);
    }
    return decode_builtin_weight(format, code);
}

MacProfile characterize(const CharacterizeOptions& o) {
    if (o.device != "cpu" && o.device != "cuda")
        throw_bad_value("E4524", "--device", "unknown device", "cpu or cuda", o.device, "");
    if (o.device == "cuda" && o.analysis == Analysis::static_only)
        throw_bad_value("E4525", "--device cuda", "only the dynamic analysis runs on a GPU", "--analysis dynamic or both",
                        "--analysis static", "drop --device or ask for the dynamic analysis");
    if (o.device == "cuda") {  // before synthesis and the static sweep, not after
        const std::string why = timing::cuda_unavailable_reason();
        if (!why.empty())
            throw_bad_value("E4540", "--device cuda", "the CUDA path cannot run here", "a CUDA device and libhalo_cuda.so",
                            why, "use --device cpu");
    }
    MacProfile prof;
    CharacterizeOptions opt = o;
    // A NaN or negative load would flow into every delay lookup and print as the profile's delays.
    if (!(std::isfinite(opt.load_pf) && opt.load_pf >= 0))
        throw_bad_flag("E4541", "--load-pf", "output load is not a physical capacitance", "a finite load >= 0 pF",
                       fmt::format("{}", opt.load_pf));
    if (!opt.builtin_mac.empty()) {
        BuiltMac built = build_mac(opt.builtin_mac, opt.arch, opt.liberty, opt.work_dir);
        opt.netlist_json = built.netlist_json;
        opt.top = built.top;
        opt.weight_port = built.weight_port;
        opt.weight_format = built.weight_format;
        prof.mac = opt.builtin_mac;
        prof.arch = built.arch;
        prof.activation_format = built.activation_format;
        prof.accumulator_bits = built.accumulator_bits;
    }
    auto library = liberty::read_liberty(opt.liberty);
    auto nl = netlist::read_yosys_json(opt.netlist_json, opt.top, library);

    int format_bits = 0;
    if (!opt.weight_format.empty() && int_format(opt.weight_format, format_bits)) check_weight_port(nl, opt.weight_port, format_bits);
    else if (!opt.weight_format.empty())  // a float format must fill the port exactly, no wider, no narrower
        check_weight_port(nl, opt.weight_port, find_weight_format(opt.weight_format).bits);
    else check_weight_port(nl, opt.weight_port, 0);
    const int bits = static_cast<int>(nl.find_port(opt.weight_port)->bits.size());
    if (opt.weight_format.empty()) opt.weight_format = "int" + std::to_string(bits);

    prof.weight_format = opt.weight_format;
    prof.weight_bits = bits;
    prof.top = nl.top;
    prof.netlist = opt.netlist_json.string();
    prof.liberty = opt.liberty.string();
    prof.library = library.name;
    prof.nominal_voltage_v = library.nominal_voltage_v;
    prof.load_pf = opt.load_pf;
    prof.cells = nl.instances.size();
    prof.area_um2 = nl.total_area();
    if (const auto* acc = nl.find_port("acc"); acc && prof.accumulator_bits == 0)
        prof.accumulator_bits = static_cast<int>(acc->bits.size());
    prof.seed = opt.seed;

    auto codes = timing::all_codes(static_cast<unsigned>(bits));
    prof.weights.resize(codes.size());
    for (std::size_t i = 0; i < codes.size(); ++i) {
        prof.weights[i].code = codes[i];
        prof.weights[i].value = decode_weight_value(opt.weight_format, bits, codes[i]);
    }

    timing::StaOptions sta;
    sta.output_load_pf = opt.load_pf;
    sta.threads = opt.threads;
    timing::StaticTimer timer(nl, sta);
    prof.nominal_delay_ns = timer.nominal_delay_ns();
    if (opt.analysis != Analysis::dynamic_only) {
        prof.static_analysis = true;
        auto delays = timing::static_delay_sweep(timer, opt.weight_port, codes, opt.threads, opt.progress);
        for (std::size_t i = 0; i < codes.size(); ++i) prof.weights[i].static_delay_ns = delays[i];
    }
    if (opt.analysis != Analysis::static_only) {
        prof.dynamic_analysis = true;
        run_dynamic_analysis(nl, timing::annotate_delays(nl, sta), opt, codes, prof);
    }
    return prof;
}

}  // namespace halo::mac
