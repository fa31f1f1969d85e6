// `halo amove-hw`: Amove's decoders and the baselines (INT8, ANT-like, OliVe-like, MXFP4,
// INT-Sym g64) on the tensor-core and systolic-array models, for a model's GEMMs: one table of
// accel::compare_designs() per machine (the same simulation as `halo simulate --design`).
#include <fmt/format.h>

#include "commands.hpp"
#include "halo/accel/design_sim.hpp"
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
    DesignMachine tc, sa;
    sa.arch = DesignArch::systolic;
    sa.array.rows = sa.array.cols = a.array;
    const auto& base = amove_design(a.baseline, "--baseline");
    const auto t = compare_designs(work, base, tc);
    const auto s = compare_designs(work, base, sa);
    fmt::print("{} {} (seq {}, batch {}, context {}); speedup and energy ratio vs {}\n", a.model, a.phase, a.seq, a.batch,
               a.context, a.baseline);
    fmt::print("{:<20} {:>6} {:>6} | {:>10} {:>8} {:>8} {:>7} | {:>10} {:>8} {:>8} {:>7}\n", "design", "W bits", "A bits", "TC ms",
               "speedup", "E ratio", "area%", "SA ms", "speedup", "E ratio", "area%");
    for (std::size_t i = 0; i < amove_designs().size(); ++i) {
        const auto& d = amove_designs()[i];
        fmt::print("{:<20} {:>6.2f} {:>6.2f} | {:>10.3f} {:>8.2f} {:>8.2f} {:>7.2f} | {:>10.3f} {:>8.2f} {:>8.2f} {:>7.2f}\n", d.name,
                   d.weight_bits, d.act_bits, t[i].run.total.seconds * 1e3, t[i].speedup, t[i].energy_saving, d.area_tc_pct,
                   s[i].run.total.seconds * 1e3, s[i].speedup, s[i].energy_saving, d.area_array_pct);
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
