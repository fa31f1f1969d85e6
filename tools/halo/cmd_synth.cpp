// `halo synth`: write a synthetic checkpoint of a published model shape (seeded random weights,
// sharded safetensors, config.json, a byte-level tokenizer) for scale tests without downloads.
#include <chrono>

#include <fmt/format.h>

#include "commands.hpp"
#include "flags.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/util/memory_usage.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {
namespace {

struct SynthFlags {
    std::string shape, out, dtype = "bf16";
    int shards = 1;
    std::uint64_t seed = 1;
    unsigned threads = 0;
    bool force = false, quiet = false;
};

int run_synth(const SynthFlags& f) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto& shape = model::synthetic_shape(f.shape);
    model::SyntheticOptions o;
    o.dtype = f.dtype;
    o.shards = f.shards;
    o.seed = f.seed;
    o.threads = f.threads;
    o.overwrite = f.force;
    o.progress = terminal_progress(f.quiet);
    const auto s = model::write_synthetic_checkpoint(f.out, shape, o);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("{}: {} parameters, {} {}, {:.2f} GB in {} shard(s) -> {}\ntime: {:.1f} s, peak memory {:.0f} MiB\n",
               shape.name, s.parameters, f.dtype, f.seed == 1 ? "seed 1" : fmt::format("seed {}", f.seed),
               static_cast<double>(s.bytes) / 1e9, s.shards, f.out, seconds, peak_rss_mib());
    return 0;
}

}  // namespace

Command synth_command() {
    return {"synth", "write a synthetic checkpoint of a published shape (tinyllama-1.1b, llama2-7b, llama3-8b, qwen2.5-7b, mixtral-8x7b, smollm2-135m)",
            [](CLI::App& app) -> std::function<int()> {
                auto f = std::make_shared<SynthFlags>();
                std::string shapes;
                for (const auto& s : model::synthetic_shapes()) shapes += fmt::format("{}{}", shapes.empty() ? "" : ", ", s.name);
                app.add_option("--shape", f->shape, shapes)->required();
                app.add_option("--out", f->out, "output checkpoint directory")->required();
                app.add_option("--shards", f->shards, "number of safetensors shards (1: model.safetensors)")->check(integer_in(1, 4096));
                app.add_option("--dtype", f->dtype, "f32, f16 or bf16")->check(CLI::IsMember({"f32", "f16", "bf16"}));
                app.add_option("--seed", f->seed, "random seed (same seed, same weights)");
                app.add_option("--threads", f->threads, "generation threads (0 = all cores)")->check(integer_in(0, 4096));
                app.add_flag("--force", f->force, "replace an existing --out");
                app.add_flag("--quiet", f->quiet, "no progress display");
                return [f] { return run_synth(*f); };
            }};
}

}  // namespace halo::cli
