// halo gpu-bench: real GEMMs on a GPU with chosen weight values; TOPS, J per GEMM, SM clock and
// power from NVML. Modes: a comparison table (default), a per-code GPU profile (--profile-out) in
// the MAC-profile format, and a self-test of correctness and energy readings (--self-test).
#include <fmt/format.h>

#include <bit>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.hpp"
#include "halo/mac/profile.hpp"
#include "flags.hpp"
#include "halo/gpu/quantized_operands.hpp"
#include "halo/gpu/value_sets.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "terminal_progress.hpp"

#ifdef HALO_HAVE_CUDA
#include "halo/gpu/gemm_bench.hpp"
#include "halo/gpu/int_gemm_reference.hpp"
#include "halo/gpu/nvml_probe.hpp"
#include "halo/util/json_view.hpp"
#endif

namespace halo::cli {

namespace {

struct GpuBenchArgs {
    std::vector<std::string> shapes = {"8192x8192x8192"};
    std::vector<std::string> kinds = {"int8"};
    std::string weights = "rtn8_studentt;uniform_random;rtn4_studentt;codebook:0,8,16,32,48,64,80,96,112;zeros";
    std::string preset;
    std::int64_t tokens = 8192;
    int reps = 5;
    double seconds = 2.0;
    double warmup = 0.5;
    double act_sigma = 32.0;
    std::uint64_t seed = 1;
    std::string json_out, md_out, profile_out;
    std::string profile_mode = "popcount";
    bool self_test = false;
    bool quiet = false;
    // Real-model operands: export one block's INT8 codes from a quantized model directory
    // (CPU, no GPU needed), or benchmark the layers of an exported folder.
    std::string export_dir, export_label, codes_out, codes_dir;
    int layer = 0;
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, sep))
        if (!item.empty()) out.push_back(item);
    return out;
}

int run_export(const GpuBenchArgs& args) {
    if (args.codes_out.empty()) throw_usage("E8053", "--export needs --codes-out DIR");
    const std::string label = args.export_label.empty() ? std::filesystem::path(args.export_dir).filename().string() : args.export_label;
    auto layers = gpu::export_layer_operands(args.export_dir, args.layer, label, args.codes_out);
    for (const auto& e : layers) fmt::print("{}: {} x {} -> {}\n", e.label, e.n, e.k, e.file.string());
    return 0;
}

#ifdef HALO_HAVE_CUDA
gpu::GemmShape parse_shape(const std::string& s) {
    gpu::GemmShape g;
    char x1 = 0, x2 = 0;
    std::istringstream is(s);
    if (!(is >> g.m >> x1 >> g.n >> x2 >> g.k) || x1 != 'x' || x2 != 'x' || !is.eof())
        throw_bad_value("E8030", s, "bad GEMM shape", "MxNxK, e.g. 8192x8192x8192", s);
    return g;
}

// Linear-layer GEMM shapes of SmolLM2-135M (d_model 576, d_ff 1536, 3 KV heads of 64, vocab
// 49152) at `tokens` activation rows.
std::vector<std::pair<std::string, gpu::GemmShape>> preset_shapes(const std::string& preset, std::int64_t tokens) {
    if (preset != "smollm2") throw_bad_value("E8031", preset, "unknown shape preset", "smollm2", preset);
    return {{"attn_q/o", {tokens, 576, 576}},     {"attn_k/v", {tokens, 192, 576}}, {"ffn_gate/up", {tokens, 1536, 576}},
            {"ffn_down", {tokens, 576, 1536}},    {"lm_head", {tokens, 49152, 576}}, {"square8192", {8192, 8192, 8192}}};
}

nlohmann::json result_json(const gpu::CaseResult& r) {
    nlohmann::json reps = nlohmann::json::array();
    for (const auto& rep : r.reps)
        reps.push_back({{"seconds", rep.seconds}, {"gemms", rep.gemms}, {"tops", rep.tops}, {"joules_per_gemm", rep.joules_per_gemm},
                        {"mean_sm_mhz", rep.mean_sm_mhz}, {"mean_power_w", rep.mean_power_w}});
    auto spread = [](const gpu::Spread& s) { return nlohmann::json{{"median", s.median}, {"min", s.min}, {"max", s.max}}; };
    const auto& c = r.bench_case;
    return {{"label", c.label}, {"kind", gpu::gemm_kind_name(c.kind)}, {"M", c.shape.m}, {"N", c.shape.n}, {"K", c.shape.k},
            {"weights", c.weight_spec}, {"tops", spread(r.tops)}, {"joules_per_gemm", spread(r.joules_per_gemm)},
            {"sm_mhz", spread(r.sm_mhz)}, {"power_w", spread(r.power_w)}, {"reps", reps}};
}

std::string markdown_table(const std::vector<gpu::CaseResult>& results, const gpu::DeviceInfo& dev, const gpu::BenchOptions& o) {
    std::string md = fmt::format("Device: {} (driver {}, enforced power limit {:.0f} W). {} repetitions x {:.1f} s after {:.1f} s warm-up; "
                                 "medians, [min, max]. Activations ~ round(N(0, {:.0f})) clipped to INT8.\n\n",
                                 dev.name, dev.driver, dev.power_limit_w, o.repetitions, o.measure_s, o.warmup_s, o.activation_sigma);
    md += "| shape | M x N x K | kind | weights | TOPS | J per GEMM | SM MHz | W |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (const auto& r : results) {
        const auto& c = r.bench_case;
        md += fmt::format("| {} | {}x{}x{} | {} | {} | {:.1f} [{:.1f}, {:.1f}] | {:.4g} [{:.4g}, {:.4g}] | {:.0f} [{:.0f}, {:.0f}] | {:.0f} |\n", c.label,
                          c.shape.m, c.shape.n, c.shape.k, gpu::gemm_kind_name(c.kind), c.weight_spec, r.tops.median, r.tops.min,
                          r.tops.max, r.joules_per_gemm.median, r.joules_per_gemm.min, r.joules_per_gemm.max, r.sm_mhz.median,
                          r.sm_mhz.min, r.sm_mhz.max, r.power_w.median);
    }
    return md;
}

// Correctness of every GEMM kind against a CPU reference on small shapes, and energy readings
// that grow with the work done. Prints one line per check and "N passed, N failed".
int self_test() {
    int passed = 0, failed = 0;
    auto check = [&](bool ok, const std::string& what) {
        fmt::print("[{}] {}\n", ok ? "PASS" : "FAIL", what);
        (ok ? passed : failed)++;
    };
    for (auto kind : {gpu::GemmKind::int8, gpu::GemmKind::fp8_e4m3, gpu::GemmKind::bf16}) {
        for (gpu::GemmShape shape : {gpu::GemmShape{64, 48, 32}, gpu::GemmShape{128, 256, 96}}) {
            // FP8 holds integers exactly only up to 16: draw small codes there.
            std::string spec = kind == gpu::GemmKind::fp8_e4m3 ? "uniform_codebook:-8,-4,-2,-1,0,1,2,3,4,8,16" : "uniform_random";
            auto w = gpu::make_weights(spec, shape.n, shape.k, 3);
            auto a = kind == gpu::GemmKind::fp8_e4m3 ? gpu::make_weights(spec, shape.m, shape.k, 4) : gpu::make_activations(shape.m, shape.k, 32, 4);
            gpu::LtGemm g(kind, shape);
            g.upload_weights(w);
            g.upload_activations(a);
            g.enqueue(1);
            auto out = g.download_output();
            auto ref = gpu::int8_gemm_reference(a, w, shape.m, shape.n, shape.k);
            double max_rel = 0;
            bool exact = true;
            for (size_t i = 0; i < ref.size(); ++i) {
                if (out[i] != ref[i]) exact = false;
                max_rel = std::max(max_rel, std::abs(out[i] - ref[i]) / std::max(1.0, std::abs(double(ref[i]))));
            }
            // INT8 accumulates exactly in INT32; BF16 output keeps 8 significant bits (rel. 2^-8).
            bool ok = kind == gpu::GemmKind::int8 ? exact : max_rel <= 1.0 / 128;
            check(ok, fmt::format("{} GEMM {}x{}x{} vs CPU reference (max rel err {:.2e})", gpu::gemm_kind_name(kind), shape.m, shape.n, shape.k, max_rel));
        }
    }
    {
        gpu::NvmlProbe probe;
        gpu::GemmShape shape{8192, 8192, 8192};
        gpu::LtGemm g(gpu::GemmKind::int8, shape);
        g.upload_weights(gpu::make_weights("uniform_random", shape.n, shape.k, 5));
        g.upload_activations(gpu::make_activations(shape.m, shape.k, 32, 6));
        // Warm-up first: a cold card's first window reads far less energy (gemm_bench.hpp).
        const gpu::EnergyGrowth r = gpu::measure_energy_growth(g, probe);
        check(r.grows_linearly(), fmt::format("NVML energy grows with work: {} GEMMs {:.1f} J, {} GEMMs {:.1f} J", r.gemms,
                                              r.joules_n, 2 * r.gemms, r.joules_2n));
    }
    fmt::print("{} passed, {} failed\n", passed, failed);
    return failed == 0 ? 0 : 3;
}

int popcount_of(int v) { return std::popcount(static_cast<unsigned>(v) & 0xffu); }

// The per-code GPU cost table. Measured on this H200 (docs/results/gpu.md): with all weights
// equal the value barely matters, while random codes drawn within a popcount class differ
// strongly (energy follows the bit-toggle rate of the weight stream). So the default mode
// measures the nine popcount classes and gives every code its class's figures; `single`
// measures each code alone (every weight equal to it).
int run_profile(const GpuBenchArgs& args, const gpu::GemmShape& shape, gpu::GemmKind kind) {
    gpu::BenchOptions o{args.warmup, args.seconds, args.reps, args.act_sigma, args.seed, 10};
    std::vector<gpu::BenchCase> cases;
    const bool by_class = args.profile_mode == "popcount";
    if (!by_class && args.profile_mode != "single")
        throw_bad_value("E8032", args.profile_mode, "unknown profile mode", "popcount or single", args.profile_mode);
    if (by_class)
        for (int bits = 0; bits <= 8; ++bits) cases.push_back({fmt::format("popcount {}", bits), kind, shape, fmt::format("popcount:{}", bits)});
    else
        for (int v = -128; v < 128; ++v) cases.push_back({fmt::format("code {}", v), kind, shape, fmt::format("single:{}", v)});
    auto results = gpu::run_gemm_bench(cases, o, terminal_progress(args.quiet));
    auto dev = gpu::device_info();
    double macs = static_cast<double>(shape.m) * static_cast<double>(shape.n) * static_cast<double>(shape.k);
    // Written by the profile's owner (mac/profile.hpp), so characterize and gpu-bench profiles
    // share one writer and one reader.
    mac::MacProfile profile;
    profile.mac = "gpu";
    profile.arch = dev.name;
    profile.weight_format = "int8";
    profile.weight_bits = 8;
    profile.activation_format = "int8";
    profile.delay_model = "gpu-sm-clock-period";
    profile.gpu = mac::GpuMeasurement{dev.driver, dev.power_limit_w, fmt::format("{}x{}x{}", shape.m, shape.n, shape.k),
                                      std::string(gpu::gemm_kind_name(kind)), args.profile_mode, args.reps, args.seconds,
                                      args.act_sigma};
    for (int v = -128; v < 128; ++v) {
        const auto& r = results[by_class ? static_cast<size_t>(popcount_of(v)) : static_cast<size_t>(v + 128)];
        // A GPU has no per-weight path delay; the clock it sustains under its power cap plays that
        // role: static_delay_ns = one SM clock period at the measured median clock.
        mac::ProfileWeight w;
        w.code = static_cast<std::uint8_t>(static_cast<std::int8_t>(v));
        w.value = v;
        w.static_delay_ns = 1000.0 / r.sm_mhz.median;
        w.energy_fj = r.joules_per_gemm.median / macs * 1e15;
        w.tops = r.tops.median;
        w.sm_mhz = r.sm_mhz.median;
        w.power_w = r.power_w.median;
        w.measured_as = r.bench_case.weight_spec;
        profile.weights.push_back(w);
    }
    write_file_atomic(args.profile_out, mac::profile_json(profile));
    fmt::print("wrote {} ({} mode, {} measured cases on {})\n", args.profile_out, args.profile_mode, cases.size(), dev.name);
    return 0;
}

int run_gpu_bench(const GpuBenchArgs& args) {
    if (!args.export_dir.empty()) return run_export(args);
    if (args.self_test) return self_test();
    if (!gpu::cuda_device_available())
        throw_internal("E8040", "no CUDA device is visible", "run gpu-bench on a machine with an NVIDIA GPU");
    std::vector<gpu::GemmKind> kinds;
    for (const auto& k : args.kinds) kinds.push_back(gpu::parse_gemm_kind(k));
    std::vector<std::pair<std::string, gpu::GemmShape>> shapes;
    if (!args.preset.empty()) shapes = preset_shapes(args.preset, args.tokens);
    else
        for (const auto& s : args.shapes) shapes.push_back({s, parse_shape(s)});
    if (!args.profile_out.empty()) return run_profile(args, shapes.front().second, kinds.front());
    std::vector<gpu::BenchCase> cases;
    if (!args.codes_dir.empty()) {
        for (const auto& e : gpu::read_exported_index(args.codes_dir))
            for (auto kind : kinds) cases.push_back({e.label, kind, {args.tokens, e.n, e.k}, "file:" + e.file.string()});
        shapes.clear();
    }
    for (const auto& [label, shape] : shapes)
        for (auto kind : kinds)
            for (const auto& spec : split(args.weights, ';')) cases.push_back({label, kind, shape, spec});
    gpu::BenchOptions o{args.warmup, args.seconds, args.reps, args.act_sigma, args.seed, 10};
    auto results = gpu::run_gemm_bench(cases, o, terminal_progress(args.quiet));
    auto dev = gpu::device_info();
    std::string md = markdown_table(results, dev, o);
    fmt::print("{}", md);
    if (!args.md_out.empty()) write_file_atomic(args.md_out, md);
    if (!args.json_out.empty()) {
        nlohmann::json j = {{"device", dev.name}, {"driver", dev.driver}, {"power_limit_w", dev.power_limit_w},
                            {"repetitions", o.repetitions}, {"seconds", o.measure_s}, {"warmup_s", o.warmup_s},
                            {"activation_sigma", o.activation_sigma}, {"cases", nlohmann::json::array()}};
        for (const auto& r : results) j["cases"].push_back(result_json(r));
        write_file_atomic(args.json_out, dump_json(j, 1, args.json_out) + "\n");
    }
    return 0;
}
#else
int run_gpu_bench(const GpuBenchArgs& args) {
    if (!args.export_dir.empty()) return run_export(args);
    throw_internal("E8041", "this halo was built without CUDA", "build on a machine where CMake finds nvcc");
}
#endif

}  // namespace

Command gpu_bench_command() {
    return {"gpu-bench", "measure real GEMM speed and energy on a GPU for chosen weight values (cuBLASLt + NVML)",
            [](CLI::App& app) -> std::function<int()> {
                auto args = std::make_shared<GpuBenchArgs>();
                auto* shapes = app.add_option("--shapes", args->shapes, "GEMM shapes MxNxK (M activation rows, N weight rows, K reduction)")->delimiter(',');
                auto* preset = app.add_option("--preset", args->preset, "real layer shapes instead of --shapes: smollm2")->excludes(shapes);
                auto* tokens = app.add_option("--tokens", args->tokens, "activation rows M for --preset and --codes")->check(CLI::Range(1LL, 1LL << 20));
                auto* kinds = app.add_option("--kinds", args->kinds, "GEMM kinds: int8, fp8, bf16")->delimiter(',');
                auto* weights = app.add_option("--weights", args->weights, "';'-separated weight value sets (see value sets below)");
                auto* reps = app.add_option("--reps", args->reps, "repetitions per case (medians reported)")->check(CLI::Range(1, 1000));
                auto* seconds = app.add_option("--seconds", args->seconds, "measured seconds per repetition")->check(CLI::Range(0.001, 3600.0));
                auto* warmup = app.add_option("--warmup", args->warmup, "warm-up seconds before each measurement")->check(CLI::Range(0.0, 3600.0));
                auto* act_sigma = app.add_option("--act-sigma", args->act_sigma, "activation standard deviation (INT8 units)")->check(finite_in(1e-6, 1e6));
                auto* seed = app.add_option("--seed", args->seed, "random seed for weights and activations");
                auto* json = app.add_option("--json", args->json_out, "write results as JSON to this path");
                auto* md = app.add_option("--md", args->md_out, "write results as a Markdown table to this path");
                auto* profile_out = app.add_option("--profile-out", args->profile_out, "write a per-code GPU cost profile (MAC-profile format) to this file");
                auto* profile_mode = app.add_option("--profile-mode", args->profile_mode, "popcount: measure the 9 popcount classes (default); single: each code alone");
                auto* self_test = app.add_flag("--self-test", args->self_test, "check GEMMs against a CPU reference and energy readings; print N passed, N failed");
                app.add_flag("--quiet", args->quiet, "no progress output");
                auto* export_dir = app.add_option("--export", args->export_dir, "quantized model directory: export one block's INT8 operands (no GPU needed)");
                auto* layer = app.add_option("--layer", args->layer, "block index for --export")->check(integer_in(0, 1 << 20));
                auto* label = app.add_option("--label", args->export_label, "label for --export (default: the directory name)");
                auto* codes_out = app.add_option("--codes-out", args->codes_out, "folder for --export (raw .i8 files + index.json)");
                auto* codes = app.add_option("--codes", args->codes_dir, "benchmark the layers of an exported folder (M = --tokens)");
                std::string sets = "\nWeight value sets:\n";
                for (const auto& r : gpu::value_set_table())
                    sets += fmt::format("  {}{}  {}\n", r.name, r.argument.empty() ? "" : fmt::format(":<{}>", r.argument), r.description);
                app.footer(sets);
                // Each mode takes its own flags; one given to another mode is an error, not ignored.
                return [args, shapes, preset, tokens, kinds, weights, reps, seconds, warmup, act_sigma, seed, json, md, profile_out,
                        profile_mode, self_test, export_dir, layer, label, codes_out, codes] {
                    const CLI::Option* const export_only[] = {layer, label, codes_out};
                    const CLI::Option* const measuring[] = {shapes, preset, tokens, kinds, weights, reps, seconds, warmup, act_sigma,
                                                            seed, json, md, profile_out, profile_mode, self_test, codes};
                    if (export_dir->count() > 0) {
                        refuse_flags(measuring, "to --export (it writes operands and measures nothing)");
                    } else {
                        refuse_flags(export_only, "without --export");
                        if (self_test->count() > 0) {
                            const CLI::Option* const not_self_test[] = {shapes, preset, tokens, kinds, weights, reps, seconds, warmup,
                                                                        act_sigma, seed, json, md, profile_out, profile_mode, codes};
                            refuse_flags(not_self_test, "to --self-test (its cases and shapes are fixed)");
                        }
                        if (profile_out->count() > 0) {
                            const CLI::Option* const not_profile[] = {weights, json, md, codes};
                            refuse_flags(not_profile, "to --profile-out (it measures its own weight sets and writes one profile)");
                            if (args->shapes.size() != 1 || args->kinds.size() != 1)
                                throw_usage("E8033", "--profile-out measures one GEMM: give one --shapes MxNxK and one --kinds value");
                        } else {
                            const CLI::Option* const profile_only[] = {profile_mode};
                            refuse_flags(profile_only, "without --profile-out");
                        }
                        if (codes->count() > 0) {
                            const CLI::Option* const not_codes[] = {shapes, preset};
                            refuse_flags(not_codes, "to --codes (the exported layers give the shapes)");
                        } else if (preset->count() == 0) {
                            const CLI::Option* const rows_flag[] = {tokens};
                            refuse_flags(rows_flag, "to --shapes (M is the first number of each shape)");
                        }
                    }
                    return run_gpu_bench(*args);
                };
            }};
}

}  // namespace halo::cli
