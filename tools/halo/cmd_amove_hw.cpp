// `halo amove-hw`: Amove's decoders and the baselines (INT8, ANT-like, OliVe-like, MXFP4,
// INT-Sym g64) on the tensor-core and systolic-array models, for a model's GEMMs.
#include <fmt/format.h>

#include "commands.hpp"
#include "halo/accel/amove_hw.hpp"
#include "halo/accel/workload.hpp"

namespace halo::cli {
namespace {

struct AmoveHwArgs {
    std::string model = "llama-2-7b", phase = "prefill", baseline = "int8";
    long long seq = 2048, batch = 1, context = 2048;
    int array = 64;
};

int run_amove_hw(const AmoveHwArgs& a) {
    using namespace halo::accel;
    Phase ph;
    ph.kind = a.phase == "decode" ? Phase::Kind::decode : Phase::Kind::prefill;
    ph.seq_len = a.seq;
    ph.batch = a.batch;
    ph.context = a.context;
    const auto work = transformer_workload(builtin_model(a.model), ph);
    ArrayConfig arr;
    arr.rows = arr.cols = a.array;
    const auto& base = amove_design(a.baseline);
    const auto tb = run_tensor_core(work, base);
    const auto sb = run_systolic(work, base, arr);
    fmt::print("{} {} (seq {}, batch {}, context {}); speedup and energy ratio vs {}\n", a.model, a.phase, a.seq, a.batch,
               a.context, a.baseline);
    fmt::print("{:<20} {:>6} {:>6} | {:>10} {:>8} {:>8} {:>7} | {:>10} {:>8} {:>8} {:>7}\n", "design", "W bits", "A bits", "TC ms",
               "speedup", "E ratio", "area%", "SA ms", "speedup", "E ratio", "area%");
    for (const auto& d : amove_designs()) {
        const auto t = run_tensor_core(work, d);
        const auto s = run_systolic(work, d, arr);
        fmt::print("{:<20} {:>6.2f} {:>6.2f} | {:>10.3f} {:>8.2f} {:>8.2f} {:>7.2f} | {:>10.3f} {:>8.2f} {:>8.2f} {:>7.2f}\n", d.name,
                   d.weight_bits, d.act_bits, t.seconds * 1e3, tb.seconds / t.seconds, tb.energy.total() / t.energy.total(),
                   d.area_tc_pct, s.seconds * 1e3, sb.seconds / s.seconds, sb.energy.total() / s.energy.total(), d.area_array_pct);
    }
    return 0;
}

}  // namespace

Command amove_hw_command() {
    return {"amove-hw", "Amove decoders vs INT8/ANT/OliVe/MXFP4/INT-Sym on tensor-core and systolic models",
            [](CLI::App& app) -> std::function<int()> {
                auto a = std::make_shared<AmoveHwArgs>();
                app.add_option("--model", a->model, "built-in model: llama-2-7b, llama-2-13b, smollm2-135m");
                app.add_option("--phase", a->phase, "prefill or decode")->check(CLI::IsMember({"prefill", "decode"}));
                app.add_option("--seq", a->seq, "prefill tokens");
                app.add_option("--batch", a->batch, "decode batch");
                app.add_option("--context", a->context, "decode context");
                app.add_option("--array", a->array, "systolic array side (PEs)");
                app.add_option("--baseline", a->baseline, "design the ratios are against");
                return [a] { return run_amove_hw(*a); };
            }};
}

}  // namespace halo::cli
