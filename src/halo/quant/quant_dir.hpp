// The quantized model directory `halo quantize --out DIR` writes (spec: docs/formats.md,
// "Quantized model directory"):
//   DIR/manifest.json              method, format, flags, bits per weight, calibration, timing,
//                                  one entry per linear (file, shape, bits, error, tile slots)
//   DIR/blk.<l>.<linear>.hqt       codes (bit-packed) + scales + zero points + optional parts
//   DIR/blk.<l>.<norm>.f32         float vectors quantization changed (SmoothQuant's norms)
//   DIR/output.hqt                 the LM head, when the method quantized it (HALO --quantize-head;
//                                  manifest entry "head": file, shape, spec, bits, tiles, tied)
// Written through util::AtomicDirectory (staged as DIR.partial.<pid>.<n>, renamed on success).
//
// Trust (issue #17, class 6): the manifest records "source_model_sha256" (util/sha256.hpp: the
// SHA-256 of the GGUF file, or of a checkpoint directory's file listing) and "file_sha256"
// {name: SHA-256} of every file it lists. Readers confine every listed name to DIR (a plain
// file name; a symlink must resolve inside DIR) and, unless told not to (`--no-verify`), check
// each file's digest before parsing it and the source model's digest against the model given.
//
// .hqt layout, little-endian, sections back to back in this order:
//   header (68 bytes): "HQT1", u32 version = 1, i64 rows, i64 cols, u32 code_bits,
//     u32 flags (1 zeros, 2 row codebooks, 4 input scale, 8 sparse, 16 group types), i64 group_rows,
//     i64 group_cols (both clamped to the shape), u32 scale_bits, f32 tensor_scale,
//     u32 row_codebook_size, u32 nnz, u32 reserved = 0
//   codes: rows*cols codes of code_bits each, packed LSB-first, ceil(rows*cols*code_bits/8) bytes
//   scales: one per group (row-major over the group grid), in the spec's scale format's bits:
//     fp16 u16 / e8m0 u8 / e4m3 u8 / fp32 u32 (NVFP4: the E4M3 block scale; times tensor_scale)
//   zeros (flag 1): one per group; u8 for integer formats, in the scale format for codebooks
//   group types (flag 16; mixture formats bitmod-*, ant4): one type id per group, the format's
//     type_bits each (2), packed LSB-first, ceil(groups*type_bits/8) bytes
//   row codebooks (flag 2): rows x row_codebook_size fp16
//   input scale (flag 4): cols fp16
//   sparse (flag 8): row_ptr (rows+1) u32, col nnz u32, value nnz fp16
#pragma once

#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "halo/model/forward.hpp"
#include "halo/model/weights.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/util/provenance.hpp"

namespace halo::quant {

// What the run was (the manifest's header fields besides the per-linear list).
struct RunInfo {
    std::string source_model;
    std::string source_format;
    nlohmann::json flags = nlohmann::json::object();        // method options as given
    nlohmann::json calibration = nullptr;                   // {"file", "samples", "seq_len", "tokens"} or null
    // SHA-256 of the source model (sha256_of_path); "" = the writer computes it from
    // source_model when that path exists, else records null (an in-memory model).
    std::string source_model_sha256;
    Provenance provenance = current_provenance();            // date (UTC, clock), version, commit, command
    // Further top-level manifest sections a method adds (HALO: "halo", its ladder and codebooks);
    // written as given, so no caller re-reads the manifest to extend it.
    nlohmann::json sections = nlohmann::json::object();
};

// Serializes one tensor to .hqt bytes / parses them (bad input E6010 naming `name` on a bad
// magic, version, truncation or inconsistent sizes). The spec comes from the manifest.
std::string write_hqt(const QuantizedTensor& t);
QuantizedTensor read_hqt(std::string_view bytes, const QuantSpec& spec, const std::string& name);

// Writes a quantized directory one linear at a time, so a streaming quantizer can free each
// block as soon as its files are written: add_linear writes the .hqt into the staging directory
// at once and keeps only its manifest entry; finish() writes manifest.json (totals from
// `totals`, whose `linears` are ignored) and renames the directory into place. Destroyed
// without finish() (an error), it removes the partial directory. Existing `dir` without
// `overwrite`: E6009.
class QuantizedDirWriter {
public:
    QuantizedDirWriter(const std::filesystem::path& dir, bool overwrite);
    ~QuantizedDirWriter();
    QuantizedDirWriter(const QuantizedDirWriter&) = delete;
    QuantizedDirWriter& operator=(const QuantizedDirWriter&) = delete;
    void add_linear(const LinearRecord& rec);
    void add_vector(const ModifiedVector& v);
    // The LM head (at most once): DIR/output.hqt and the manifest's "head" entry.
    void add_head(const HeadRecord& head);
    void finish(const QuantizedModel& totals, const QuantizeOptions& options, const RunInfo& info,
                const std::vector<std::pair<std::string, std::string>>& extra_files = {});

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Writes the directory atomically; an existing `dir` without `overwrite` is bad input E6009.
// `extra_files` (name, bytes) go into the same staged directory: files other modules own that
// travel with the model (HALO: tile_levels.json, sim_config.json, mac_profile.json).
void write_quantized_dir(const std::filesystem::path& dir, const QuantizedModel& model, const QuantizeOptions& options,
                         const RunInfo& info, bool overwrite,
                         const std::vector<std::pair<std::string, std::string>>& extra_files = {});

struct QuantizedDir {
    nlohmann::json manifest;
    std::vector<LinearRecord> linears;  // tensors read back (tiles included)
    std::vector<ModifiedVector> vectors;
    std::optional<HeadRecord> head;     // the LM head when the manifest has a "head" entry
};
// Reads and checks a directory (E6010 on anything malformed; E6037/E6043 a listed name that
// leaves the directory). `verify`: each file's SHA-256 must match the manifest's "file_sha256"
// (E6038 differs, E6039 the manifest has no digests, E6044 a file it does not list).
QuantizedDir read_quantized_dir(const std::filesystem::path& dir, bool verify = true);

// For readers of the directory's other files (simulate: tile_levels.json, sim_config.json,
// mac_profile.json): every file the manifest lists is confined and matches its digest, and each
// of `also_read` that exists in `dir` is listed. Same errors as read_quantized_dir.
void verify_quantized_files(const std::filesystem::path& dir, std::initializer_list<std::string_view> also_read);

// `model_path` must be the model the directory was quantized from: its sha256_of_path equals
// the manifest's "source_model_sha256" (E6040 differs; E6045 the manifest records none).
// `manifest_file` names the manifest in the message.
void check_source_model(const nlohmann::json& manifest, const std::filesystem::path& manifest_file,
                        const std::filesystem::path& model_path);

// Every linear of layers [0, n_layers) present exactly once (E6041 missing: never left in FP32
// silently; E6042 listed twice).
void check_complete(const QuantizedDir& dir, int n_layers);

// The manifest's header fields other modules decide by (accel's design selection, the jobs),
// without reading the tensors. Optional fields absent in old manifests stay empty.
struct ManifestSummary {
    std::string method;
    std::string source_model;                  // the model it was quantized from ("" when not recorded)
    std::optional<std::string> weight_format;  // none when the manifest lacks it
    std::string activation_format;             // "" when null or absent
    std::int64_t first_group_cols = 0;         // linears[0].spec.group_cols (0 = per channel or absent)
    bool halo = false;                         // a HALO directory (the manifest has a "halo" section)
    Provenance provenance;                     // date, halo_version, git_commit, command ("" when absent)
    // Stored bits per weight of each linear and of the head, as written (what a simulated decode
    // reads from DRAM); entries without "bits_per_weight" (old manifests) are left out.
    struct StoredBits {
        int layer = -1;
        std::string name;  // model::linear_name of the kind
        int expert = -1;   // a MoE expert, else -1
        double bits_per_weight = 0;
    };
    std::vector<StoredBits> linear_bits;
    std::optional<double> head_bits;
};
// E6010 (bad input, naming the file) when `manifest` is not a halo quantized-model manifest.
ManifestSummary manifest_summary(const nlohmann::json& manifest, const std::string& file);
// Reads DIR/manifest.json only; E6010 when it is not valid JSON or not such a manifest.
ManifestSummary read_manifest_summary(const std::filesystem::path& dir);

// A directory read one block at a time (`halo eval --stream --quantized DIR`): the manifest
// at construction (E6010 when malformed, or when an entry's layer is not below `n_layers`, the
// model's), the .hqt / .f32 files of one block per apply_block call, so only that block's codes
// are ever in memory.
class QuantizedDirReader {
public:
    // `verify`: each file's SHA-256 is checked as its block is read (as read_quantized_dir does);
    // the entries must cover every linear of `n_layers` blocks (check_complete, E6041/E6042).
    QuantizedDirReader(const std::filesystem::path& dir, int n_layers, bool verify = true);
    const nlohmann::json& manifest() const { return manifest_; }
    const std::string& activation_format() const { return activation_format_; }  // "" = none
    // Replaces block `layer`'s linears (decoded) and changed vectors in `weights` (that
    // block's weights), exactly as apply_quantized does for the whole model (E6010 on a shape
    // mismatch).
    void apply_block(int layer, model::LayerWeights& weights) const;
    // The directory quantized the LM head (manifest entry "head").
    bool has_head() const { return manifest_.contains("head"); }
    // Reads DIR/output.hqt and sets `weights.output` to the decoded head (E6052 when its shape
    // is not the model's head, E6054 when the file is missing); a no-op without a head.
    void apply_head(model::ModelWeights& weights) const;

private:
    std::filesystem::path dir_;
    nlohmann::json manifest_;
    std::string activation_format_;
    bool verify_ = true;
};

// Replaces the linears (decoded) and the changed vectors of `weights` (the source model, loaded
// by the caller) with the directory's, and the LM head when the directory has one (as
// `weights.output`: a tied model's embedding lookup keeps its table). Shape mismatch: E6010
// (E6052 for the head); a missing linear: E6041.
void apply_quantized(model::ModelWeights& weights, const QuantizedDir& dir);

// For `halo eval --quantized DIR` (and `halo quantize --eval`): applies the directory to
// `weights` (the source model, already loaded) and builds the activation hooks its manifest asks
// for (SmoothQuant: per-token INT8 on every linear input). `hooks()` is null for weight-only
// methods.
struct LoadedQuantized {
    nlohmann::json manifest;
    std::string activation_format;  // "" or a model::activation_formats() name
    model::ForwardHooks activation_hooks;
    bool head = false;              // the directory's LM head replaced the model's
    const model::ForwardHooks* hooks() const { return activation_format.empty() ? nullptr : &activation_hooks; }
};
struct QuantizedLoadOptions {
    bool verify = true;                    // file digests, and the source model's when source_model is given
    std::filesystem::path source_model;    // the model `weights` came from ("" = not checked)
};
LoadedQuantized load_quantized(const std::filesystem::path& dir, model::ModelWeights& weights,
                               const QuantizedLoadOptions& options = {});
// The hooks for an activation format name ("" = none). `head`: the LM head is quantized too,
// so its input gets the same format (lm_head_input); an Amove activation plan names block
// linears only and cannot (E6053).
model::ForwardHooks activation_hooks_for(const std::string& activation_format);
model::ForwardHooks activation_hooks_for(const std::string& activation_format, bool head);

}  // namespace halo::quant
