#include "halo/timing/static_sweep.hpp"

#include "halo/timing/static_sweep_engine.hpp"
#include "halo/util/parallel.hpp"

namespace halo::timing {

std::vector<double> static_delay_sweep(const StaticTimer& timer, std::string_view weight_port,
                                       std::span<const std::uint64_t> codes, unsigned threads,
                                       const ProgressSink& progress) {
    return StaticSweepEngine(timer, weight_port).sweep(codes, threads, progress);
}

std::vector<double> reference_static_delay_sweep(const StaticTimer& timer, std::string_view weight_port,
                                                 std::span<const std::uint64_t> codes, unsigned threads) {
    const auto& nl = *timer.graph().netlist;
    for (std::uint64_t c : codes) hold_port(nl, weight_port, c);  // validates port and codes up front
    std::vector<double> delays(codes.size(), 0.0);
    parallel_for(codes.size(), resolve_threads(threads), [&](std::size_t i, unsigned) {
        StaWorkspace ws;
        const Endpoint e = timer.evaluate(hold_port(nl, weight_port, codes[i]), ws);
        delays[i] = e.reached ? e.delay_ns : 0.0;
    }, 64);
    return delays;
}

std::vector<double> static_delay_sweep(const netlist::Netlist& netlist, std::string_view weight_port,
                                       std::span<const std::uint64_t> codes, const StaOptions& options,
                                       const ProgressSink& progress) {
    StaticTimer timer(netlist, options);
    return static_delay_sweep(timer, weight_port, codes, options.threads, progress);
}

std::vector<std::uint64_t> all_codes(unsigned bits) {
    std::vector<std::uint64_t> codes(std::size_t{1} << bits);
    for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = i;
    return codes;
}

}  // namespace halo::timing
