// K-quants end to end: a tiny synthetic model quantized by llama.cpp's llama-quantize into one
// file holding Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL and Q8_0 tensors, read by halo's GGUF reader
// and dequantized by both table paths, against the values gguf-py's independent dequantizer
// gave (tests/data/model/kquant/make_kquant_gguf.py made both files).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "halo/model/dequant.hpp"
#include "halo/model/gguf_reader.hpp"

namespace halo::model {
namespace {

const std::filesystem::path kDir = std::filesystem::path(HALO_TEST_DATA_DIR) / "model" / "kquant";

nlohmann::json reference() {
    std::ifstream in(kDir / "kquant_reference.json");
    return nlohmann::json::parse(in);
}

TEST(DequantKQuantFile, EveryTensorEqualsGgufPy) {
    const GgufFile file(kDir / "tiny_kquant.gguf");
    const nlohmann::json ref = reference();
    const auto stride = ref.at("sample_stride").get<std::size_t>();
    std::set<std::string> types_seen;
    ASSERT_EQ(file.tensors().size(), ref.at("tensors").size());
    for (const auto& t : file.tensors()) {
        SCOPED_TRACE(t.name);
        const auto& r = ref.at("tensors").at(t.name);
        EXPECT_EQ(std::string(t.type->name), r.at("type").get<std::string>());
        EXPECT_EQ(t.ne, r.at("ne").get<std::vector<std::int64_t>>());
        types_seen.insert(std::string(t.type->name));

        const std::vector<float> fast = file.dequantize(t);
        std::vector<float> slow(fast.size());
        t.type->dequant_ref(file.tensor_bytes(t).data(), slow.data(), t.n_elements() / t.type->block_size);
        double sum = 0, sum_sq = 0;
        for (std::size_t i = 0; i < fast.size(); ++i) {
            ASSERT_EQ(fast[i], slow[i]) << "reference and fast path differ at " << i;
            sum += fast[i];
            sum_sq += static_cast<double>(fast[i]) * fast[i];
        }
        const auto samples = r.at("samples").get<std::vector<double>>();
        ASSERT_EQ(samples.size(), (fast.size() + stride - 1) / stride);
        for (std::size_t s = 0; s < samples.size(); ++s) {
            const double want = samples[s];
            ASSERT_NEAR(fast[s * stride], want, 1e-6 * std::max(1.0, std::fabs(want))) << "element " << s * stride;
        }
        const double want_sum = r.at("sum").get<double>(), want_sq = r.at("sum_sq").get<double>();
        EXPECT_NEAR(sum, want_sum, 1e-5 * std::max(1.0, want_sq));
        EXPECT_NEAR(sum_sq, want_sq, 1e-6 * want_sq);
    }
    for (const char* type : {"Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "Q8_0", "F32"})
        EXPECT_TRUE(types_seen.count(type)) << type << " missing from the test file";
}

}  // namespace
}  // namespace halo::model
