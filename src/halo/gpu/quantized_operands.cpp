#include "halo/gpu/quantized_operands.hpp"

#include <cmath>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo/quant/element_type.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace halo::gpu {

namespace {

// The integer each code stands for, or a bad-input error naming the tensor.
std::vector<int> integer_of_code(const quant::QuantSpec& spec, const std::string& name) {
    const auto& f = *spec.format;
    std::vector<int> table(256, 0);
    // Mixed-type rows (bitmod-*, ant4, olive4): a code means a different value in each group's
    // type, so no single code -> integer table exists.
    if (f.custom)
        throw_bad_value("E8050", name, "per-group mixed value sets have no single INT8 operand", "a uniform or codebook integer format",
                        std::string(f.name));
    if (f.element) {
        const quant::ElementType& t = quant::element_types()[static_cast<std::size_t>(*f.element)];
        if (t.kind != quant::ElementKind::integer || t.bits > 8 || t.int_step != 1.0f)
            throw_bad_value("E8050", name, "weights are not plain integers of at most 8 bits", "intN or uintN, N <= 8",
                            std::string(f.name));
        const int shift = t.is_signed ? 0 : 1 << (t.bits - 1);
        for (int c = 0; c < 256; ++c) table[static_cast<std::size_t>(c)] = c < (1 << t.bits) ? static_cast<int>(std::lround(spec.value(static_cast<std::uint8_t>(c)))) - shift : 0;
        return table;
    }
    // A run-time codebook: usable when every entry is an INT8 integer.
    for (int c = 0; c < 256 && c < (1 << spec.element_bits()); ++c) {
        float v = spec.value(static_cast<std::uint8_t>(c));
        if (v != std::nearbyint(v) || v < -128 || v > 127)
            throw_bad_value("E8050", name, "codebook entry is not an INT8 integer", "integers in -128..127", fmt::format("{}", v));
        table[static_cast<std::size_t>(c)] = static_cast<int>(v);
    }
    return table;
}

}  // namespace

std::vector<std::int8_t> int8_operands(const quant::QuantizedTensor& tensor, const std::string& name) {
    if (!tensor.row_codebooks.empty())
        throw_bad_value("E8050", name, "per-row codebooks (k-means) have no INT8 operand", "a uniform or codebook integer format", "row codebooks");
    const std::vector<int> table = integer_of_code(tensor.spec(), name);
    std::vector<std::int8_t> out(tensor.codes().size());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int8_t>(table[tensor.codes()[i]]);
    return out;
}

std::vector<ExportedLayer> export_layer_operands(const std::filesystem::path& dir, int layer, const std::string& label,
                                                 const std::filesystem::path& out_dir) {
    const quant::QuantizedDir q = quant::read_quantized_dir(dir);
    std::vector<ExportedLayer> out;
    nlohmann::json index = nlohmann::json::array();
    for (const auto& rec : q.linears) {
        if (rec.layer != layer) continue;
        const std::string linear = fmt::format("blk.{}.{}", layer, model::linear_name(rec.kind));
        auto ops = int8_operands(rec.tensor, dir.string() + ":" + linear);
        ExportedLayer e{label + " " + linear, rec.tensor.rows(), rec.tensor.cols(),
                        out_dir / fmt::format("{}-{}.i8", label, model::linear_name(rec.kind))};
        write_file_atomic(e.file, std::string_view(reinterpret_cast<const char*>(ops.data()), ops.size()));
        index.push_back({{"label", e.label}, {"N", e.n}, {"K", e.k}, {"file", e.file.filename().string()}});
        out.push_back(std::move(e));
    }
    if (out.empty()) throw_bad_value("E8051", dir.string(), "no linear of that layer in the quantized model", "a layer index present in the model", std::to_string(layer));
    // Merge with entries already exported into the same folder by other models.
    const auto index_path = out_dir / "index.json";
    nlohmann::json all = nlohmann::json::array();
    if (std::filesystem::exists(index_path)) {
        for (const auto& e : read_exported_index(out_dir)) (void)e;  // the same checks as a reader of the index
        all = nlohmann::json::parse(read_file(index_path));
    }
    for (auto& e : index) all.push_back(e);
    write_file_atomic(index_path, all.dump(1) + "\n");
    return out;
}

std::vector<ExportedLayer> read_exported_index(const std::filesystem::path& out_dir) {
    const auto path = out_dir / "index.json";
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw_bad_input("E8052", path.string(), 0, "index.json is not valid JSON", "an index written by gpu-bench --export", e.what());
    }
    std::vector<ExportedLayer> out;
    for (const auto& e : JsonView(j, path.string()).elements()) {  // types and ranges: E0020-E0022 at the key path
        const std::string file = e.at("file").string();
        if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
            throw_bad_input_at("E8054", path.string(), e.place() + ".file", "an index entry's file leaves the folder",
                               "a plain file name", "\"" + file + "\"");
        out.push_back({e.at("label").string(), e.at("N").integer(1, std::int64_t{1} << 31), e.at("K").integer(1, std::int64_t{1} << 31),
                       out_dir / file});
    }
    return out;
}

}  // namespace halo::gpu
