// Export of a quantized model directory to one GGUF v3 file llama.cpp can load.
//
// The file is the source model's GGUF (the one the directory was quantized from: the manifest's
// source_model, or an explicit path) with every quantized linear replaced:
//   - all metadata keys are copied (values re-encoded with their original GGUF types), except
//     general.file_type (set to the type most linears got) and general.alignment (kept);
//     halo.export.* keys record the directory, method, spec and any lossy/fallback tensors;
//   - every non-linear tensor (embeddings, norms, output) is copied byte for byte;
//   - each quantized linear is written in the GGML type its codes fit EXACTLY (table below),
//     rows of attn_q/attn_k put back into llama.cpp's order (permute_qk_rows, the inverse of
//     what the loader undoes), so loading the export gives the directory's decoded weights.
//
// The type table (gguf_export_types(); first row that takes a tensor wins):
//   Q8_0  int8 (symmetric), groups 1x32 along the input dim:  x = d*q, q = code (int8)
//   Q4_0  int4 (symmetric), groups 1x32:                       x = d*(q-8), q = code + 8
//   Q4_1  int4-asym, groups 1x32:                              x = d*q + m, q = code, m = -d*z
//   F16   fallback: the decoded (fake-quant) values rounded to FP16 (lossy in general)
//   F32   fallback: the decoded values as they are (exact, 32 bits per weight)
// A quantized row "takes" a tensor when the format and the group grid match, every scale is an
// FP16 number (any --scale-format is accepted when its values are; otherwise refused, E6020,
// naming the scale format), and the tensor has none of the parts GGML blocks cannot hold
// (per-row codebooks, AWQ input scales, a sparse part, HALO tile metadata, a second-level
// tensor scale). The encoded bytes are then decoded with
// halo's GGUF dequantizer and compared with QuantizedTensor::decode(): bit-identical = exact.
// A mismatch (Q4_1 whose m = -d*z is not an FP16 number) is "lossy": it is
// written only with allow_lossy (the report gives the max abs error), else with the fallback,
// else refused. A tensor no quantized row takes is refused (E6020) unless a fallback is given.
//
// HALO directories: per-tile codebooks, zero points and the sparse part fit no GGML block type,
// so their linears need a fallback (F32 is exact), and their INT8 activations need weights_only.
//
// Errors (bad input): E6020 no exact type, E6021 lossy without allow_lossy, E6022 directory not
// exportable (activation quantization without weights_only, source not a GGUF), E6023 source model and directory
// disagree, E6024 output file exists, E6025 unknown fallback name, E6026 output path is a
// directory or cannot be written. Internal: E6029 encode_gguf_tensor given a type that does not
// take the tensor (a caller bug).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "halo/model/dequant.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/progress.hpp"

namespace halo::quant {

// Encodes a tensor's rows into the type's GGUF bytes. `source_row[g]` is the tensor row that
// goes to file row g (the Q/K permutation); `decoded` is decode() already in file-row order.
using GgufEncodeFn = std::string (*)(const QuantizedTensor& t, const model::Matrix& decoded,
                                     std::span<const std::int64_t> source_row);

struct GgufExportType {
    model::GgmlType type;
    std::string_view name;         // "Q8_0", as ggml prints it
    std::string_view halo_format;  // the halo format it holds exactly; "" for the fallbacks
    std::string_view fits;         // "int8 g32" (E6020 message); for a fallback, what it gives (--help)
    bool fallback;
    std::uint32_t llama_file_type;  // general.file_type when most linears get this type
    GgufEncodeFn encode;
};

std::span<const GgufExportType> gguf_export_types();
// A fallback row's name as --fallback takes it: the GGML name in lower case ("f16").
std::string gguf_fallback_name(const GgufExportType& type);
// The fallback rows' names ("f16", "f32"), in table order.
std::vector<std::string> gguf_fallback_names();
// The fallback row by name; unknown: bad input E6025 listing gguf_fallback_names().
const GgufExportType& gguf_fallback_type(std::string_view name);

// Why a quantized row cannot hold `t` ("" when it can): the first mismatch, in words.
std::string gguf_type_mismatch(const GgufExportType& type, const QuantizedTensor& t);

// The tensor encoded in one type and checked against decode().
struct EncodedTensor {
    const GgufExportType* type = nullptr;
    std::string bytes;
    bool exact = false;           // the GGUF dequantizer gives decode() bit for bit
    double max_abs_error = 0;     // max |dequant(bytes) - decode()|
};
// `qk_heads` > 0: the tensor is attn_q/attn_k of a model with that many (kv) heads, written in
// llama.cpp's row order. The type must take the tensor (gguf_type_mismatch empty) or be a fallback.
EncodedTensor encode_gguf_tensor(const QuantizedTensor& t, const GgufExportType& type, int qk_heads = 0);

struct GgufExportPolicy {
    bool allow_lossy = false;
    const GgufExportType* fallback = nullptr;  // F16/F32 row, or none
};
// Picks and encodes: the first quantized row that takes `t` exactly; a lossy one with
// allow_lossy; else the fallback; else E6021 (lossy) or E6020 (no type) naming `name`.
EncodedTensor choose_gguf_encoding(const QuantizedTensor& t, const std::string& name, const GgufExportPolicy& policy,
                                   int qk_heads = 0);

struct GgufExportOptions {
    std::filesystem::path quantized_dir;
    std::filesystem::path model;  // "" = the manifest's source_model
    std::filesystem::path out;
    GgufExportPolicy policy;
    bool overwrite = false;
    // Check the directory's file digests and that the source model is the one its manifest
    // records (quant_dir.hpp, "Trust"); false = `halo export --no-verify`.
    bool verify = true;
    // A directory whose method also quantizes activations (SmoothQuant, Amove W4A4, HALO's INT8
    // activations per token): GGUF holds weights only, so it is refused (E6022) unless the
    // caller says the weights alone are wanted (`--weights-only`); the dropped activation
    // format is then recorded in halo.export.dropped_activation_format and the report.
    bool weights_only = false;
    ProgressSink progress;  // one update per linear
};

struct ExportedLinear {
    std::string name;  // "blk.3.attn_q.weight"
    std::string spec;  // QuantSpec::describe() plus the extra parts
    std::string type;  // "Q4_0"
    bool exact = true;
    bool fallback = false;
    double max_abs_error = 0;
};

struct GgufExportReport {
    std::filesystem::path model;
    std::filesystem::path out;
    std::uint64_t bytes = 0;
    std::size_t tensors_copied = 0;  // non-linear tensors taken byte for byte
    std::vector<ExportedLinear> linears;
    std::string dropped_activation_format;  // "" = none (weights_only on a weight-activation directory)
};

// Reads the directory and the source model, encodes every linear, writes `out` atomically.
// Nothing is written when any tensor is refused.
GgufExportReport export_gguf(const GgufExportOptions& options);

}  // namespace halo::quant
