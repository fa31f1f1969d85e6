// Workloads: the GEMMs of a Llama-family transformer for prefill or decode, built from
// model::ModelConfig (which the GGUF/safetensors loaders or model::read_hf_config fill), and
// the per-layer tile levels a quantized model attaches to them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "halo/accel/dvfs.hpp"
#include "halo/accel/systolic.hpp"
#include "halo/model/weights.hpp"

namespace halo::accel {

struct SparsePart {
    std::int64_t nnz = 0;  // outlier weights of this layer, run on the sparse engine
    int level = 0;         // DVFS level of the sparse engine for this layer
};

struct WorkItem {
    Gemm gemm;                         // C[M,N] = A[M,K] * W[K,N]
    std::int64_t count = 1;            // identical GEMMs run back to back (attention per KV head)
    bool has_weights = true;           // false: both operands are activations (QK^T, PV)
    std::optional<TileLevels> tiles;   // per-tile levels; none = every tile at the default level
    SparsePart sparse;
    // Bits each stored weight costs in DRAM (codes + scales + zero points + sparse part, the
    // quantizer's BitAccount); 0 = the array's word size. Decode is weight-traffic heavy, so a
    // 4-bit row reads half the bytes of an 8-bit one.
    double weight_bits = 0;
    // Weights stored as per-tile codebook indices (HALO with --halo-storage indices): each weight
    // read from DRAM passes one codebook lookup on its way into the SRAM buffer, which holds the
    // INT8 code the array multiplies (EnergyConstants::codebook_lookup_pj).
    bool weight_indices = false;
};

struct Phase {
    enum class Kind : std::uint8_t { prefill, decode } kind = Kind::prefill;
    std::int64_t seq_len = 2048;  // prefill: tokens L
    std::int64_t batch = 1;       // decode: sequences B
    std::int64_t context = 2048;  // decode: tokens already in the KV cache C
};

// Per block (names follow GGUF, "blk.<i>.attn_q"): attn_q/k/v/output, ffn_gate/up/down, then
// attn_qk (QK^T) and attn_pv (PV), one GEMM per KV head with the group's query heads stacked in
// M (count = n_kv_heads, times B for decode); then "output" (the LM head, all L positions in
// prefill). Throws E7040 on a config with a non-positive size or heads not dividing evenly.
// A mixture-of-experts config (n_experts > 0) replaces the three FFN GEMMs by the router
// "blk.<i>.ffn_gate_inp" (all tokens x d_model -> n_experts) and, per expert e,
// "blk.<i>.ffn_{gate,up,down}_exps.<e>" over only the rows routed to it: the tokens x
// n_experts_used (token, expert) pairs spread evenly (the first remainder experts one row more;
// an expert with no row has no GEMM). Only the active experts' work is counted: top-k of E.
std::vector<WorkItem> transformer_workload(const model::ModelConfig& config, const Phase& phase);

// The workload's name of a weight GEMM: "blk.<l>.attn_q", or a MoE expert's "blk.<l>.ffn_gate_exps.<e>"
// (expert >= 0). Quantizers name their tile levels with it.
std::string linear_gemm_name(int layer, model::LinearKind kind, int expert = -1);
// The same name from a linear's name as written (model::linear_name of its kind).
std::string linear_gemm_name(int layer, std::string_view linear, int expert = -1);

// Sets the stored bits per weight (what a decode reads from DRAM) of the weight GEMMs named in
// `bits_by_gemm` (linear_gemm_name, "output" for the head); other GEMMs keep theirs.
// How a row's weights sit in DRAM: as the codes the array multiplies, or as per-tile codebook indices.
enum class WeightStorage : std::uint8_t { codes, indices };
void attach_weight_bits(std::vector<WorkItem>& work, const std::vector<std::pair<std::string, double>>& bits_by_gemm,
                        WeightStorage storage = WeightStorage::codes);

// Rows of each expert under even routing: tokens * experts_used split over n_experts.
std::vector<std::int64_t> even_expert_rows(std::int64_t tokens, int n_experts, int experts_used);

// A Hugging Face config.json is read by its owner, model::read_hf_config
// (model/safetensors_reader.hpp; E5220/E5221), never here.
// Built-in shapes: "llama-2-7b", "llama-2-13b", "smollm2-135m", "tiny" (E7042 otherwise).
model::ModelConfig builtin_model(const std::string& name);
std::vector<std::string> builtin_model_names();  // the rows above, in order (CLI menus)

// Tile levels of a quantized model, keyed by layer name ("blk.0.attn_q", "output"). The glue
// from the quantized model directory's manifest fills this (see docs/formats.md).
struct ModelTileLevels {
    std::string model_name;
    int n_layers = 0, d_model = 0, d_ff = 0, vocab_size = 0;  // for the "different model" check
    std::vector<std::pair<std::string, TileLevels>> layers;
    std::vector<std::pair<std::string, std::int64_t>> sparse_nnz;
    std::vector<std::pair<std::string, int>> sparse_level;  // the sparse engine's DVFS level; absent = 0
};
// halo's tile-level file (docs/formats.md "Tile levels"), the glue format between the quantized
// model directory and the simulator; accel owns it: this reader (E7043 on a malformed file) and
// the writer below are its only ones. Inside one process pass the struct, not the file.
ModelTileLevels parse_tile_levels(const nlohmann::json& j, const std::string& file);
ModelTileLevels read_tile_levels(const std::filesystem::path& path);
// Every layer must share one tile shape and weight format (the file has one "tile" and one
// "weight_format"); E7045 (internal) otherwise. "zero_point" is written when the layers carry one.
nlohmann::json tile_levels_json(const ModelTileLevels& levels);
// The file's text: dump_json(tile_levels_json(levels), -1) and a newline, byte for byte, with the
// code histograms (256 counts a tile) written straight from the counts instead of through the
// DOM: a Llama-2-7B's 395,264 tiles are 101 M counts, ~16 bytes each as JSON values, which put
// the streamed 7B HALO's peak host memory over 8 GB at its end (session 9). `file` names the
// output in E0023 (a name that is not UTF-8).
std::string tile_levels_text(const ModelTileLevels& levels, const std::string& file);
void write_tile_levels(const std::filesystem::path& path, const ModelTileLevels& levels);
// Attaches tiles to the workload's layers by name; throws E7044 (bad input) when the levels
// describe a different model (shape mismatch, unknown layer name). A MoE expert linear
// ("blk.<i>.ffn_gate_exps.<e>") the workload has no GEMM for (no token routed to it in this
// phase) is accepted when the config has that expert and the grid fits its weight: only the
// active experts' tiles are priced.
void attach_tile_levels(std::vector<WorkItem>& work, const model::ModelConfig& config, const ModelTileLevels& levels,
                        const std::string& file);

}  // namespace halo::accel
