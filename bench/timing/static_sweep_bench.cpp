// The 256-value static sweep of the INT8 MAC on osu018 (the reference design of
// shared/reference/opensta-int8-mac), synthesized once per run with Yosys into a temp dir;
// and a 65,536-code sweep (the BF16 budget) on the same graph, codes wrapped onto 8 bits.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/netlist/yosys_json_reader.hpp"
#include "halo/timing/static_sweep.hpp"

namespace {

namespace fs = std::filesystem;
const char* kLib = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

struct Int8Mac {
    halo::liberty::Library lib;
    halo::netlist::Netlist nl;
};

const Int8Mac& int8_mac() {
    static std::unique_ptr<Int8Mac> mac = [] {
        fs::path dir = fs::temp_directory_path() / "halo_bench_int8_mac";
        fs::create_directories(dir);
        fs::path ref = fs::path(HALO_SHARED_DIR) / "reference/opensta-int8-mac/mac.v";
        fs::copy_file(ref, dir / "mac.v", fs::copy_options::overwrite_existing);
        std::ofstream(dir / "syn.ys") << "read_verilog mac.v\nsynth -top mac -flatten\ndfflibmap -liberty " << kLib
                                      << "\nabc -liberty " << kLib << " -D 5000\nopt_clean\nwrite_json mac_net.json\n";
        if (std::system(("cd " + dir.string() + " && yosys -q syn.ys > yosys.log 2>&1").c_str()) != 0) std::abort();
        auto m = std::make_unique<Int8Mac>();
        m->lib = halo::liberty::read_liberty(kLib);
        m->nl = halo::netlist::read_yosys_json(dir / "mac_net.json", "mac", m->lib);
        return m;
    }();
    return *mac;
}

void BM_StaticSweepInt8Osu018(benchmark::State& state) {
    const auto& m = int8_mac();
    halo::timing::StaOptions o;
    o.threads = static_cast<unsigned>(state.range(0));
    auto codes = halo::timing::all_codes(8);
    for (auto _ : state) {
        halo::timing::StaticTimer timer(m.nl, o);  // compile included: the whole sweep
        benchmark::DoNotOptimize(halo::timing::static_delay_sweep(timer, "w", codes, o.threads));
    }
    state.SetItemsProcessed(state.iterations() * 256);
}
BENCHMARK(BM_StaticSweepInt8Osu018)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StaticSweep65536Codes(benchmark::State& state) {
    const auto& m = int8_mac();
    halo::timing::StaOptions o;
    o.threads = 2;
    halo::timing::StaticTimer timer(m.nl, o);
    std::vector<std::uint64_t> codes(65536);
    for (std::size_t i = 0; i < codes.size(); ++i) codes[i] = i & 0xff;
    for (auto _ : state) benchmark::DoNotOptimize(halo::timing::static_delay_sweep(timer, "w", codes, 2));
    state.SetItemsProcessed(state.iterations() * 65536);
}
BENCHMARK(BM_StaticSweep65536Codes)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// Every one of the 65,536 codes of a BF16 MAC's weight port: $HALO_BF16_NETLIST (Yosys JSON of
// e.g. `halo characterize --mac bf16-fp32`'s synthesis cache, top "mac") on $HALO_BF16_LIBERTY
// (default osu018); arg = threads. Graph compile included.
void BM_StaticSweepBf16(benchmark::State& state) {
    const char* json = std::getenv("HALO_BF16_NETLIST");
    if (json == nullptr) return state.SkipWithError("HALO_BF16_NETLIST not set");
    const char* lib_path = std::getenv("HALO_BF16_LIBERTY");
    static const auto lib = halo::liberty::read_liberty(lib_path ? lib_path : kLib);
    static const auto nl = halo::netlist::read_yosys_json(json, "mac", lib);
    halo::timing::StaOptions o;
    o.threads = static_cast<unsigned>(state.range(0));
    const auto codes = halo::timing::all_codes(16);
    std::vector<double> delays;
    for (auto _ : state) {
        halo::timing::StaticTimer timer(nl, o);
        delays = halo::timing::static_delay_sweep(timer, "w", codes, o.threads);
    }
    double worst = 0;
    for (double d : delays) worst = std::max(worst, d);
    state.counters["max_delay_ns"] = worst;
    state.counters["gates"] = static_cast<double>(nl.instances.size());
    state.SetItemsProcessed(state.iterations() * 65536);
}
BENCHMARK(BM_StaticSweepBf16)->Arg(1)->Arg(2)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

}  // namespace
