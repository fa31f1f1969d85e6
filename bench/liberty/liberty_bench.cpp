// Parse time of a real library, and the cost of the evaluations timing calls per gate.
#include <fstream>
#include <sstream>

#include <benchmark/benchmark.h>

#include "halo/liberty/liberty_reader.hpp"
#include "halo/liberty/liberty_syntax.hpp"

namespace {

const char* kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

std::string osu018_text() {
    std::ifstream in(kOsu018);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

void BM_ReadOsu018File(benchmark::State& state) {
    for (auto _ : state) benchmark::DoNotOptimize(halo::liberty::read_liberty(kOsu018));
}
BENCHMARK(BM_ReadOsu018File)->Unit(benchmark::kMillisecond);

void BM_ParseOsu018SyntaxOnly(benchmark::State& state) {
    std::string text = osu018_text();
    for (auto _ : state) benchmark::DoNotOptimize(halo::liberty::parse_liberty_syntax(text, "osu018"));
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(BM_ParseOsu018SyntaxOnly)->Unit(benchmark::kMillisecond);

void BM_Lookup2D(benchmark::State& state) {
    static const auto lib = halo::liberty::read_liberty(kOsu018);
    const auto& table = *lib.find_cell("NAND2X1")->find_pin("Y")->timing[0].cell_rise_ns;
    double slew = 0.1, cap = 0.02;
    for (auto _ : state) {
        benchmark::DoNotOptimize(table.lookup(slew, cap));
        slew += 1e-6;
    }
}
BENCHMARK(BM_Lookup2D);

void BM_Eval3Aoi22(benchmark::State& state) {
    static const auto lib = halo::liberty::read_liberty(kOsu018);
    const auto* cell = lib.find_cell("AOI22X1");
    const auto& f = *cell->logic.function(cell->pin_index("Y"));
    using T = halo::liberty::Ternary;
    std::vector<T> v = {T::one, T::x, T::zero, T::x, T::x};
    for (auto _ : state) benchmark::DoNotOptimize(f.eval3(v));
}
BENCHMARK(BM_Eval3Aoi22);

}  // namespace
