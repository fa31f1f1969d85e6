#include "halo/model/dequant.hpp"

#include <array>
#include <limits>
#include <string>

#include "halo/model/dequant_blocks.hpp"
#include "halo/model/dequant_ref.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::model {
namespace {

// clang-format off
constexpr std::array<TypeTraits, 15> kTypes = {{
    {GgmlType::f32,  "F32",  1,   4,   ref::dequant_f32,  fast::dequant_f32},
    {GgmlType::f16,  "F16",  1,   2,   ref::dequant_f16,  fast::dequant_f16},
    {GgmlType::bf16, "BF16", 1,   2,   ref::dequant_bf16, fast::dequant_bf16},
    {GgmlType::q4_0, "Q4_0", 32,  sizeof(blocks::Q4_0), ref::dequant_q4_0, fast::dequant_q4_0},
    {GgmlType::q4_1, "Q4_1", 32,  sizeof(blocks::Q4_1), ref::dequant_q4_1, fast::dequant_q4_1},
    {GgmlType::q5_0, "Q5_0", 32,  sizeof(blocks::Q5_0), ref::dequant_q5_0, fast::dequant_q5_0},
    {GgmlType::q5_1, "Q5_1", 32,  sizeof(blocks::Q5_1), ref::dequant_q5_1, fast::dequant_q5_1},
    {GgmlType::q8_0, "Q8_0", 32,  sizeof(blocks::Q8_0), ref::dequant_q8_0, fast::dequant_q8_0},
    {GgmlType::iq4_nl, "IQ4_NL", 32, sizeof(blocks::IQ4_NL), ref::dequant_iq4_nl, fast::dequant_iq4_nl},
    {GgmlType::q2_k, "Q2_K", 256, sizeof(blocks::Q2_K), ref::dequant_q2_k, fast::dequant_q2_k},
    {GgmlType::q3_k, "Q3_K", 256, sizeof(blocks::Q3_K), ref::dequant_q3_k, fast::dequant_q3_k},
    {GgmlType::q4_k, "Q4_K", 256, sizeof(blocks::Q4_K), ref::dequant_q4_k, fast::dequant_q4_k},
    {GgmlType::q5_k, "Q5_K", 256, sizeof(blocks::Q5_K), ref::dequant_q5_k, fast::dequant_q5_k},
    {GgmlType::q6_k, "Q6_K", 256, sizeof(blocks::Q6_K), ref::dequant_q6_k, fast::dequant_q6_k},
    {GgmlType::q8_k, "Q8_K", 256, sizeof(blocks::Q8_K), ref::dequant_q8_k, fast::dequant_q8_k},
}};
// clang-format on

}  // namespace

std::span<const TypeTraits> type_table() { return kTypes; }

const TypeTraits* find_type(std::uint32_t id) {
    for (const auto& t : kTypes)
        if (static_cast<std::uint32_t>(t.type) == id) return &t;
    return nullptr;
}

const TypeTraits* find_type(std::string_view name) {
    for (const auto& t : kTypes)
        if (t.name == name) return &t;
    return nullptr;
}

const TypeTraits& traits(GgmlType type) {
    const TypeTraits* t = find_type(static_cast<std::uint32_t>(type));
    if (!t) throw_internal("E5100", "GGML type " + std::to_string(static_cast<std::uint32_t>(type)) + " has no table row");
    return *t;
}

std::optional<std::int64_t> row_bytes(const TypeTraits& type, std::int64_t n_elements) {
    if (n_elements < 0 || n_elements % type.block_size != 0) return std::nullopt;
    const std::int64_t n_blocks = n_elements / type.block_size;
    if (n_blocks > std::numeric_limits<std::int64_t>::max() / type.type_size) return std::nullopt;
    return n_blocks * type.type_size;
}

void dequantize(const TypeTraits& type, std::span<const std::uint8_t> src, std::span<float> dst) {
    const auto bytes = row_bytes(type, static_cast<std::int64_t>(dst.size()));
    if (!bytes || *bytes != static_cast<std::int64_t>(src.size()))
        throw_internal("E5101",
                       "dequantize " + std::string(type.name) + ": " + std::to_string(src.size()) + " bytes for " +
                           std::to_string(dst.size()) + " elements",
                       "the caller must pass a whole number of blocks");
    type.dequant_fast(src.data(), dst.data(), static_cast<std::int64_t>(dst.size()) / type.block_size);
}

}  // namespace halo::model
