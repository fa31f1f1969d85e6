// The GGML export types (see export_gguf.hpp): one row per type with its block encoder, the
// check that a quantized tensor fits it, and the verification against decode().
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "halo/model/dequant_blocks.hpp"
#include "halo/model/float_convert.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/quant/export_gguf.hpp"
#include "halo/quant/scale_format.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

namespace blk = model::blocks;
constexpr std::int64_t kBlock = blk::kQK;

template <class Block>
void append(std::string& out, const Block& b) {
    out.append(reinterpret_cast<const char*>(&b), sizeof(Block));
}

// Each quantized encoder walks file rows g (tensor row source_row[g]) and its 32-wide groups.
std::string encode_q8_0(const QuantizedTensor& t, const model::Matrix&, std::span<const std::int64_t> source_row) {
    std::string out;
    out.reserve(static_cast<std::size_t>(t.rows() * t.cols() / kBlock) * sizeof(blk::Q8_0));
    for (const std::int64_t r : source_row)
        for (std::int64_t c0 = 0; c0 < t.cols(); c0 += kBlock) {
            blk::Q8_0 b{};
            b.d = model::fp32_to_fp16(t.params(t.group_index(r, c0)).scale);
            for (int j = 0; j < kBlock; ++j) b.qs[j] = static_cast<std::int8_t>(t.code(r, c0 + j));  // two's complement
            append(out, b);
        }
    return out;
}

std::string encode_q4_0(const QuantizedTensor& t, const model::Matrix&, std::span<const std::int64_t> source_row) {
    std::string out;
    out.reserve(static_cast<std::size_t>(t.rows() * t.cols() / kBlock) * sizeof(blk::Q4_0));
    // int4 codes are 4-bit two's complement (v in -8..7); Q4_0 stores q = v + 8, i.e. code ^ 8.
    const auto q = [&](std::int64_t r, std::int64_t c) { return static_cast<std::uint8_t>((t.code(r, c) ^ 8) & 15); };
    for (const std::int64_t r : source_row)
        for (std::int64_t c0 = 0; c0 < t.cols(); c0 += kBlock) {
            blk::Q4_0 b{};
            b.d = model::fp32_to_fp16(t.params(t.group_index(r, c0)).scale);
            for (int j = 0; j < kBlock / 2; ++j) b.qs[j] = static_cast<std::uint8_t>(q(r, c0 + j) | (q(r, c0 + j + 16) << 4));
            append(out, b);
        }
    return out;
}

std::string encode_q4_1(const QuantizedTensor& t, const model::Matrix&, std::span<const std::int64_t> source_row) {
    std::string out;
    out.reserve(static_cast<std::size_t>(t.rows() * t.cols() / kBlock) * sizeof(blk::Q4_1));
    for (const std::int64_t r : source_row)
        for (std::int64_t c0 = 0; c0 < t.cols(); c0 += kBlock) {
            const GroupParams& p = t.params(t.group_index(r, c0));
            blk::Q4_1 b{};
            b.d = model::fp32_to_fp16(p.scale);
            // s*(q - z) = s*q + m with m = -s*z; s*z is exact in FP32 (11 + 8 bits), its FP16
            // rounding is where Q4_1 can lose (the verification measures it).
            b.m = model::fp32_to_fp16(-p.scale * p.zero);
            for (int j = 0; j < kBlock / 2; ++j)
                b.qs[j] = static_cast<std::uint8_t>((t.code(r, c0 + j) & 15) | ((t.code(r, c0 + j + 16) & 15) << 4));
            append(out, b);
        }
    return out;
}

std::string encode_f16(const QuantizedTensor&, const model::Matrix& decoded, std::span<const std::int64_t>) {
    std::string out(decoded.data.size() * 2, '\0');
    for (std::size_t i = 0; i < decoded.data.size(); ++i) {
        const std::uint16_t h = model::fp32_to_fp16(decoded.data[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
    }
    return out;
}

std::string encode_f32(const QuantizedTensor&, const model::Matrix& decoded, std::span<const std::int64_t>) {
    return std::string(reinterpret_cast<const char*>(decoded.data.data()), decoded.data.size() * sizeof(float));
}

// llama.cpp's LLAMA_FTYPE_* values for general.file_type.
constexpr std::uint32_t kFtypeF32 = 0, kFtypeF16 = 1, kFtypeQ4_0 = 2, kFtypeQ4_1 = 3, kFtypeQ8_0 = 7;

using T = model::GgmlType;
// clang-format off
constexpr std::array<GgufExportType, 5> kTypes = {{
    {T::q8_0, "Q8_0", "int8",      "int8 g32",      false, kFtypeQ8_0, encode_q8_0},
    {T::q4_0, "Q4_0", "int4",      "int4 g32",      false, kFtypeQ4_0, encode_q4_0},
    {T::q4_1, "Q4_1", "int4-asym", "int4-asym g32", false, kFtypeQ4_1, encode_q4_1},
    {T::f16,  "F16",  "",          "rounded to FP16, lossy in general", true, kFtypeF16, encode_f16},
    {T::f32,  "F32",  "",          "exact",                             true, kFtypeF32, encode_f32},
}};
// clang-format on
static_assert(sizeof(blk::Q8_0) == 34 && sizeof(blk::Q4_0) == 18 && sizeof(blk::Q4_1) == 20);

// The parts of a tensor beyond codes + per-group scale/zero, in words ("" when none).
std::string extra_parts(const QuantizedTensor& t) {
    std::string s;
    const auto add = [&](const std::string& part) { s += (s.empty() ? "" : ", ") + part; };
    if (!t.row_codebooks.empty()) add(fmt::format("per-row codebooks of {} (k-means)", t.row_codebook_size));
    if (!t.input_scale.empty()) add("AWQ input scales");
    if (!t.sparse.row_ptr.empty()) add(fmt::format("a sparse FP16 part ({} entries)", t.sparse.nnz()));
    if (t.tiles.tile_rows != 0) add(fmt::format("HALO tiles {}x{}", t.tiles.tile_rows, t.tiles.tile_cols));
    return s;
}

// The first scale FP16 cannot hold, in words ("" when all can). Q8_0/Q4_0/Q4_1 store d in FP16;
// any scale format is accepted when its values happen to be FP16 numbers (an e8m0 power of two
// in 2^-24..2^15, say), since the encoding is then exact; otherwise the tensor is refused rather
// than rounded (re-quantizing with FP16 scales is the fix, not a lossy export).
std::string non_fp16_scale(const QuantizedTensor& t) {
    const auto& params = t.all_params();
    for (std::size_t g = 0; g < params.size(); ++g) {
        const float s = params[g].scale;
        if (!(model::fp16_to_fp32(model::fp32_to_fp16(s)) == s))
            return fmt::format("the {} scale {:.9g} of group {} is not an FP16 number",
                               scale_format(t.spec().scale).name, s, g);
    }
    return "";
}

std::string describe_tensor(const QuantizedTensor& t) {
    const std::string extra = extra_parts(t);
    return t.spec().describe() + (extra.empty() ? "" : " with " + extra);
}

// File row g holds tensor row source_row[g]: the identity, or llama.cpp's Q/K order, taken from
// permute_qk_rows itself (applied to the row indices) so the two cannot drift apart.
std::vector<std::int64_t> file_row_order(std::int64_t rows, int qk_heads) {
    model::Matrix idx(rows, 1);
    for (std::int64_t r = 0; r < rows; ++r) idx.at(r, 0) = static_cast<float>(r);
    if (qk_heads > 0) model::permute_qk_rows(idx, qk_heads);
    std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
    for (std::int64_t g = 0; g < rows; ++g) order[static_cast<std::size_t>(g)] = static_cast<std::int64_t>(idx.at(g, 0));
    return order;
}

}  // namespace

std::span<const GgufExportType> gguf_export_types() { return kTypes; }

std::string gguf_fallback_name(const GgufExportType& type) {
    std::string lower(type.name);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower;
}

std::vector<std::string> gguf_fallback_names() {
    std::vector<std::string> names;
    for (const auto& t : kTypes)
        if (t.fallback) names.push_back(gguf_fallback_name(t));
    return names;
}

const GgufExportType& gguf_fallback_type(std::string_view name) {
    for (const auto& t : kTypes)
        if (t.fallback && gguf_fallback_name(t) == name) return t;
    throw_bad_value("E6025", "--fallback", "unknown fallback type", fmt::format("{}", fmt::join(gguf_fallback_names(), " or ")),
                    std::string(name));
}

std::string gguf_type_mismatch(const GgufExportType& type, const QuantizedTensor& t) {
    if (type.fallback) return "";
    const auto& spec = t.spec();
    if (spec.format->name != type.halo_format)
        return fmt::format("{} holds {}, not {}", type.name, type.halo_format, spec.format->name);
    if (const std::string extra = extra_parts(t); !extra.empty()) return fmt::format("{} has no room for {}", type.name, extra);
    if (t.group_rows() != 1 || t.group_cols() != kBlock)
        return fmt::format("{} needs groups of 32 along the input dim, found {}", type.name, spec.granularity.describe());
    if (t.cols() % kBlock != 0) return fmt::format("{} needs a multiple of 32 columns, found {}", type.name, t.cols());
    if (const std::string why = non_fp16_scale(t); !why.empty()) return fmt::format("{} needs FP16 scales: {}", type.name, why);
    return "";
}

EncodedTensor encode_gguf_tensor(const QuantizedTensor& t, const GgufExportType& type, int qk_heads) {
    if (const std::string why = gguf_type_mismatch(type, t); !why.empty()) throw_internal("E6029", "encode_gguf_tensor: " + why);
    model::Matrix decoded = t.decode();
    if (qk_heads > 0) model::permute_qk_rows(decoded, qk_heads);
    const auto order = file_row_order(t.rows(), qk_heads);
    EncodedTensor out;
    out.type = &type;
    out.bytes = type.encode(t, decoded, order);
    // Verify with the dequantizer the loader uses: what a reader gets is what decode() gave.
    std::vector<float> back(decoded.data.size());
    model::dequantize(model::traits(type.type),
                      std::span(reinterpret_cast<const std::uint8_t*>(out.bytes.data()), out.bytes.size()), back);
    out.exact = std::memcmp(back.data(), decoded.data.data(), back.size() * sizeof(float)) == 0;
    for (std::size_t i = 0; i < back.size(); ++i)
        out.max_abs_error = std::max(out.max_abs_error, std::fabs(static_cast<double>(back[i]) - decoded.data[i]));
    return out;
}

EncodedTensor choose_gguf_encoding(const QuantizedTensor& t, const std::string& name, const GgufExportPolicy& policy,
                                   int qk_heads) {
    std::optional<EncodedTensor> lossy;
    for (const auto& type : kTypes) {
        if (type.fallback || !gguf_type_mismatch(type, t).empty()) continue;
        EncodedTensor e = encode_gguf_tensor(t, type, qk_heads);
        if (e.exact || policy.allow_lossy) return e;
        lossy = std::move(e);
        break;
    }
    if (policy.fallback) return encode_gguf_tensor(t, *policy.fallback, qk_heads);
    const std::string found = describe_tensor(t);
    if (lossy)
        throw_bad_value("E6021", name, fmt::format("{} cannot hold this tensor exactly", lossy->type->name),
                        "bit-identical values", fmt::format("{}, max abs error {:.6g}", found, lossy->max_abs_error),
                        fmt::format("pass --allow-lossy to write it as {} anyway, or --fallback f32 for the exact "
                                    "dequantized values",
                                    lossy->type->name));
    // What `halo quantize` would have to change for the format's row to take the tensor.
    std::string would_fit;
    for (const auto& type : kTypes)
        if (!type.fallback && type.halo_format == t.spec().format->name && extra_parts(t).empty()) {
            std::string flags;
            if (t.group_rows() != 1 || t.group_cols() != kBlock) flags += " --group 32";
            if (!non_fp16_scale(t).empty()) flags += " --scale-format fp16";
            if (!flags.empty()) would_fit = fmt::format("re-quantize with{} to get {}; ", flags, type.name);
        }
    std::vector<std::string> exact_rows;
    for (const auto& type : kTypes)
        if (!type.fallback) exact_rows.push_back(fmt::format("{} ({})", type.fits, type.name));
    const double f16_error = encode_gguf_tensor(t, gguf_fallback_type("f16"), qk_heads).max_abs_error;
    throw_bad_value("E6020", name, "no GGML type holds this tensor exactly",
                    fmt::format("{} or {}, FP16 scales", fmt::join(exact_rows.begin(), exact_rows.end() - 1, ", "), exact_rows.back()),
                    found,
                    fmt::format("{}or pass --fallback f16 (dequantized values, max abs error {:.6g}) or --fallback f32 "
                                "(dequantized, exact)",
                                would_fit, f16_error));
}

}  // namespace halo::quant
