// `halo amove-hw`: Amove's decoders and the baselines (INT8, ANT-like, OliVe-like, MXFP4,
// INT-Sym g64) on the tensor-core and systolic-array models, for a model's GEMMs: one table of
// accel::compare_designs() per machine (the same simulation as `halo simulate --design`).
#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "menus.hpp"
#include "halo/accel/design_sim.hpp"
#include "halo/accel/workload.hpp"

namespace halo::cli {
namespace {

struct AmoveHwArgs {
    std::string model = "llama-2-7b", phase = "prefill", baseline = "int8", array = "64x64";
    long long seq = 2048, batch = 1, context = 2048;
    CLI::Option *seq_flag = nullptr, *batch_flag = nullptr, *context_flag = nullptr;
};

int run_amove_hw(const AmoveHwArgs& a) {
    using namespace halo::accel;
    require_member("--model-shape", a.model, builtin_model_names(), "built-in model shape");
    require_member("--baseline", a.baseline, design_names(), "hardware design");
    const ShapeRc array = parse_shape_rc("--array", a.array, 16384);
    if (a.phase == "decode") {
        const CLI::Option* const prefill_only[] = {a.seq_flag};
        refuse_flags(prefill_only, "to --phase decode (its length is --context)");
    } else {
        const CLI::Option* const decode_only[] = {a.batch_flag, a.context_flag};
        refuse_flags(decode_only, "to --phase prefill (its length is --seq)");
    }
    Phase ph;
    ph.kind = a.phase == "decode" ? Phase::Kind::decode : Phase::Kind::prefill;
    ph.seq_len = a.seq;
    ph.batch = a.batch;
    ph.context = a.context;
    const auto work = transformer_workload(builtin_model(a.model), ph);
    DesignMachine tc, sa;
    sa.arch = DesignArch::systolic;
    sa.array.rows = static_cast<int>(array.rows);
    sa.array.cols = static_cast<int>(array.cols);
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
                app.add_option("--model-shape", a->model, "built-in model shape: " + menu_text(builtin_model_names()))->capture_default_str();
                app.add_option("--phase", a->phase, "prefill or decode")->check(CLI::IsMember({"prefill", "decode"}))->capture_default_str();
                a->seq_flag = app.add_option("--seq", a->seq, "prefill tokens")->check(CLI::Range(1LL, 1LL << 24))->capture_default_str();
                a->batch_flag = app.add_option("--batch", a->batch, "decode batch")->check(CLI::Range(1LL, 1LL << 20))->capture_default_str();
                a->context_flag = app.add_option("--context", a->context, "decode context")->check(CLI::Range(1LL, 1LL << 24))->capture_default_str();
                app.add_option("--array", a->array, "systolic array shape RxC")->capture_default_str();
                app.add_option("--baseline", a->baseline, "design the ratios are against: " + menu_text(design_names()))->capture_default_str();
                return [a] { return run_amove_hw(*a); };
            }};
}

}  // namespace halo::cli
