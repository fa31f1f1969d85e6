// Synthesis of every built-in MAC x architecture on OSU 0.18 um (cache off): wall time per
// Yosys run, with the cell count and area of `stat -liberty` as counters.
//   bench_mac --benchmark_filter=Synth
#include <benchmark/benchmark.h>

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "halo/mac/mac_table.hpp"
#include "halo/mac/yosys_driver.hpp"

namespace {

const std::filesystem::path kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

void synth(benchmark::State& state, const halo::mac::MacSpec* spec, halo::mac::MacArch arch) {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo-mac-bench-{}", getpid());
    halo::mac::SynthOptions options;
    options.use_cache = false;
    halo::mac::SynthResult r;
    for (auto _ : state) r = halo::mac::synthesize(*spec, arch, kOsu018, dir, options);
    state.SetLabel(fmt::format("cells={} area_um2={:.1f}", r.cells, r.area_um2));
    state.counters["cells"] = r.cells;
    state.counters["area_um2"] = r.area_um2;
    std::filesystem::remove_all(dir);
}

const bool registered = [] {
    for (const auto& spec : halo::mac::mac_table())
        for (auto arch : spec.archs)
            benchmark::RegisterBenchmark(fmt::format("Synth/{}/{}", spec.name, halo::mac::arch_name(arch)).c_str(),
                                         synth, &spec, arch)
                ->Iterations(1)
                ->Unit(benchmark::kSecond)
                ->UseRealTime();
    return true;
}();

}  // namespace
