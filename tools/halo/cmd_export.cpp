// `halo export`: a quantized model directory -> one GGUF file llama.cpp can load.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flags.hpp"
#include "halo/quant/export_gguf.hpp"
#include "halo/util/json_view.hpp"
#include "terminal_progress.hpp"

namespace halo::cli {

namespace {

struct ExportFlags {
    std::string quantized;
    std::string out;
    std::string model;
    std::string fallback;
    bool allow_lossy = false;
    bool force = false;
    std::string json;  // "" none, "-" stdout, else a path
    bool quiet = false;
    bool no_verify = false;
    bool weights_only = false;
};

int run_export(const ExportFlags& f) {
    require_extension("--out", f.out, ".gguf");
    const NamedPath inputs[] = {{"--model", f.model}, {"--out", f.out}};
    require_not_input("--json", f.json, inputs);
    quant::GgufExportOptions o;
    o.quantized_dir = f.quantized;
    o.out = f.out;
    o.model = f.model;
    o.policy.allow_lossy = f.allow_lossy;
    if (!f.fallback.empty()) o.policy.fallback = &quant::gguf_fallback_type(f.fallback);
    o.overwrite = f.force;
    o.verify = !f.no_verify;
    o.weights_only = f.weights_only;
    o.progress = terminal_progress(f.quiet || f.json == "-");
    const quant::GgufExportReport r = quant::export_gguf(o);

    std::map<std::string, int> by_type;
    for (const auto& l : r.linears) ++by_type[l.type];
    if (!f.json.empty()) {
        nlohmann::json linears = nlohmann::json::array();
        for (const auto& l : r.linears)
            linears.push_back({{"name", l.name}, {"spec", l.spec}, {"type", l.type}, {"exact", l.exact},
                               {"fallback", l.fallback}, {"max_abs_error", l.max_abs_error}});
        write_json_output(f.json, dump_json(nlohmann::json{{"out", r.out.string()}, {"model", r.model.string()}, {"bytes", r.bytes},
                                                 {"tensors_copied", r.tensors_copied}, {"types", by_type}, {"linears", linears},
                                                 {"dropped_activation_format", r.dropped_activation_format}},
                                      2, f.json));
        if (f.json == "-") return 0;
    }
    fmt::print("source model: {}\nwrote {} ({:.1f} MiB): {} linears", r.model.string(), r.out.string(),
               static_cast<double>(r.bytes) / (1 << 20), r.linears.size());
    for (const auto& [type, n] : by_type) fmt::print(", {} {}", n, type);
    fmt::print("; {} other tensors copied from the source\n", r.tensors_copied);
    if (!r.dropped_activation_format.empty())
        fmt::print("weights only: the directory's activation format {} is not in the GGUF (--weights-only)\n",
                   r.dropped_activation_format);
    for (const auto& l : r.linears)
        if (l.fallback)
            fmt::print("fallback: {} ({}) written as {} dequantized (fake-quant) values, max abs error {:.6g}\n", l.name,
                       l.spec, l.type, l.max_abs_error);
        else if (!l.exact)
            fmt::print("lossy: {} ({}) written as {}, max abs error {:.6g}\n", l.name, l.spec, l.type, l.max_abs_error);
    return 0;
}

}  // namespace

Command export_command() {
    return {"export", "write a quantized model directory as one GGUF file (Q8_0 / Q4_0 / Q4_1 where the codes fit exactly)",
            [](CLI::App& app) -> std::function<int()> {
                auto f = std::make_shared<ExportFlags>();
                app.add_option("--quantized", f->quantized, "quantized model directory (from halo quantize)")->required();
                app.add_option("--out", f->out, "output .gguf file")->required();
                app.add_option("--model", f->model, "source GGUF (default: the manifest's source_model)");
                // No CLI check: the library's table decides, so an unknown name is E6025 (exit 2).
                std::vector<std::string> fallbacks;
                for (const auto& t : quant::gguf_export_types())
                    if (t.fallback) fallbacks.push_back(fmt::format("{} ({})", quant::gguf_fallback_name(t), t.fits));
                app.add_option("--fallback", f->fallback,
                               fmt::format("write tensors no GGML type holds exactly as dequantized values: {}",
                                           fmt::join(fallbacks, ", ")));
                app.add_flag("--allow-lossy", f->allow_lossy,
                             "write a tensor in a type that holds it only approximately (Q4_1 whose m is not FP16)");
                app.add_flag("--force", f->force, "replace an existing --out");
                add_json_option(app, f->json, "the per-tensor report as JSON");
                app.add_flag("--quiet", f->quiet, "no progress display");
                app.add_flag("--weights-only", f->weights_only,
                             "export the weights of a weight-activation directory (SmoothQuant, W4A4, HALO) without its "
                             "activation quantization, which GGUF cannot hold");
                app.add_flag("--no-verify", f->no_verify, "trust the directory: skip the SHA-256 checks of its files and source model");
                return [f] { return run_export(*f); };
            }};
}

}  // namespace halo::cli
