// export_gguf: the source GGUF with its quantized linears replaced (see export_gguf.hpp).
#include "halo/quant/export_gguf.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "halo/model/architecture.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

namespace fs = std::filesystem;
// Refuse before any work when the output cannot be written: a directory (even with overwrite:
// the atomic rename cannot replace one), an existing file without overwrite, or a path under a
// non-directory / unwritable directory.
void check_output(const fs::path& out, bool overwrite) {
    if (fs::is_directory(out))
        throw_bad_value("E6026", out.string(), "output path is a directory", "a .gguf file path", "a directory",
                        fmt::format("name the file, e.g. --out {}", (out / "model.gguf").string()));
    if (fs::exists(out) && !overwrite)
        throw_bad_value("E6024", out.string(), "output file exists", "a new file", "an existing one", "pass --force to replace it");
    fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
    while (!fs::exists(dir) && dir.has_parent_path() && dir.parent_path() != dir) dir = dir.parent_path();
    if (!fs::is_directory(dir) || ::access(dir.c_str(), W_OK) != 0)
        throw_bad_value("E6026", out.string(), "output path cannot be written",
                        "a writable directory above it", fmt::format("{} ({})", dir.string(), fs::is_directory(dir) ? "not writable" : "not a directory"),
                        "choose another --out");
}

fs::path source_model_path(const GgufExportOptions& o, const nlohmann::json& manifest) {
    fs::path p = o.model;
    if (p.empty()) {
        const auto it = manifest.find("source_model");
        if (it == manifest.end() || !it->is_string() || it->get<std::string>().empty())
            throw_bad_value("E6022", (o.quantized_dir / "manifest.json").string(), "manifest names no source model",
                            "\"source_model\": a GGUF path", "none", "pass --model with the model the directory was quantized from");
        p = it->get<std::string>();
    }
    if (!fs::is_regular_file(p))
        throw_bad_value("E6022", p.string(), "source model is not a GGUF file", "the .gguf the directory was quantized from",
                        fs::is_directory(p) ? "a directory (safetensors checkpoint?)" : "nothing there",
                        "export writes llama.cpp's GGUF layout from a GGUF source; pass --model with a .gguf of the same model");
    return p;
}

std::string tensor_name(int layer, std::string_view what) { return fmt::format("blk.{}.{}.weight", layer, what); }

[[noreturn]] void disagree(const fs::path& model, const std::string& name, const std::string& msg, const std::string& expected,
                           const std::string& found) {
    throw_bad_input_at("E6023", model.string(), name, msg, expected, found,
                       "the quantized directory was made from another model; pass --model with its source");
}

void check_shape(const model::GgufFile& src, const std::string& name, std::vector<std::int64_t> shape) {
    const model::GgufTensorInfo* info = src.find_tensor(name);
    if (!info) disagree(src.path(), name, "tensor is missing from the source model", "a tensor to replace", "none");
    if (info->shape() != shape)
        disagree(src.path(), name, "source tensor shape differs from the quantized one",
                 fmt::format("{}", fmt::join(shape, "x")), fmt::format("{}", fmt::join(info->shape(), "x")));
}

}  // namespace

GgufExportReport export_gguf(const GgufExportOptions& o) {
    check_output(o.out, o.overwrite);
    const QuantizedDir qd = read_quantized_dir(o.quantized_dir, o.verify);
    const auto& m = qd.manifest;
    GgufExportReport report;
    if (m.contains("activation_format") && m["activation_format"].is_string()) {
        const std::string act = m["activation_format"].get<std::string>();
        if (!o.weights_only)
            throw_bad_value("E6022", (o.quantized_dir / "manifest.json").string(), "activation quantization cannot be exported",
                            "a weight-only method, or --weights-only", fmt::format("activation format {}", act),
                            "GGUF holds weights only; pass --weights-only to export the quantized weights without the "
                            "activation quantization (the consumer then runs its own activations)");
        report.dropped_activation_format = act;
    } else if (o.weights_only) {
        throw_bad_value("E6028", (o.quantized_dir / "manifest.json").string(), "--weights-only applies to a directory that "
                        "quantizes activations too", "an activation_format in the manifest", "a weight-only directory",
                        "drop --weights-only");
    }
    report.model = source_model_path(o, m);
    report.out = o.out;
    if (o.verify) check_source_model(m, o.quantized_dir / "manifest.json", report.model);
    const model::GgufFile src(report.model);
    const model::ModelConfig config = model::config_from_gguf(src);
    check_complete(qd, config.n_layers);  // a missing linear would be copied unquantized
    // Q/K rows go back into the converter's permuted order only for the families whose GGUF
    // files use it (architecture row); Gemma 3 and Qwen2 files keep HF order.
    const bool qk_permuted = model::architecture_row(config.architecture).gguf_qk_permuted;

    // Encode everything first: a refused tensor must leave no file behind.
    std::map<std::string, std::pair<model::GgmlType, std::string>> replaced;
    std::map<model::GgmlType, std::size_t> type_count;
    std::vector<std::string> lossy, fallback;
    Progress progress(o.progress, "export", qd.linears.size());
    for (const auto& rec : qd.linears) {
        if (rec.expert >= 0)  // GGUF stacks a kind's experts in one 3-D tensor: not written yet (issue 14)
            throw_bad_value("E6027", fmt::format("blk.{}.{}_exps", rec.layer, model::linear_name(rec.kind)),
                            "exporting a mixture-of-experts model's expert tensors is not implemented", "a dense model",
                            fmt::format("expert {}", rec.expert));
        const std::string name = tensor_name(rec.layer, model::linear_name(rec.kind));
        check_shape(src, name, {rec.tensor.rows(), rec.tensor.cols()});
        const int qk_heads = !qk_permuted                             ? 0
                             : rec.kind == model::LinearKind::attn_q ? config.n_heads
                             : rec.kind == model::LinearKind::attn_k ? config.n_kv_heads
                                                                     : 0;
        EncodedTensor e = choose_gguf_encoding(rec.tensor, name, o.policy, qk_heads);
        ExportedLinear row{name, rec.tensor.spec().describe(), std::string(e.type->name), e.exact, e.type->fallback,
                           e.max_abs_error};
        if (row.fallback) fallback.push_back(name);
        else if (!row.exact) lossy.push_back(name);
        ++type_count[e.type->type];
        replaced[name] = {e.type->type, std::move(e.bytes)};
        report.linears.push_back(std::move(row));
        progress.advance();
    }
    progress.finish();
    for (const auto& v : qd.vectors) {  // float vectors the method changed: FP32, as llama.cpp keeps norms
        const std::string name = tensor_name(v.layer, v.name);
        check_shape(src, name, {static_cast<std::int64_t>(v.values.size())});
        replaced[name] = {model::GgmlType::f32, std::string(reinterpret_cast<const char*>(v.values.data()), v.values.size() * 4)};
    }

    model::GgufWriter w;
    if (src.find("general.alignment")) w.set_alignment(src.alignment());
    for (const auto& [key, value] : src.metadata())
        if (key != "general.alignment" && key != "general.file_type") w.add_value(key, value);
    const auto most = std::max_element(type_count.begin(), type_count.end(),
                                       [](const auto& a, const auto& b) { return a.second < b.second; });
    if (most != type_count.end()) {
        for (const auto& t : gguf_export_types())
            if (t.type == most->first) w.add_u32("general.file_type", t.llama_file_type);
    } else if (const auto ft = src.get_int("general.file_type")) {
        w.add_u32("general.file_type", static_cast<std::uint32_t>(*ft));
    }
    w.add_string("halo.export.quantized_dir", fs::absolute(o.quantized_dir).string());
    w.add_string("halo.export.method", m.value("method", ""));
    w.add_string("halo.export.spec", m.value("spec", ""));
    w.add_string_array("halo.export.lossy_tensors", lossy);
    w.add_string_array("halo.export.fallback_tensors", fallback);
    if (!fallback.empty()) w.add_string("halo.export.fallback_type", std::string(o.policy.fallback->name));
    if (!report.dropped_activation_format.empty())
        w.add_string("halo.export.dropped_activation_format", report.dropped_activation_format);

    for (const auto& info : src.tensors()) {
        if (auto it = replaced.find(info.name); it != replaced.end()) {
            w.add_tensor(info.name, info.ne, it->second.first, std::move(it->second.second));
        } else {
            const auto bytes = src.tensor_bytes(info);
            w.add_tensor(info.name, info.ne, info.type->type, std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
            ++report.tensors_copied;
        }
    }
    const std::string bytes = w.bytes();
    report.bytes = bytes.size();
    write_file_atomic(o.out, bytes);
    return report;
}

}  // namespace halo::quant
