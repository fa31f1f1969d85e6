// Safetensors: round trip (F32/F16/BF16), sharded checkpoints, config.json, and the broken set.
#include <gtest/gtest.h>

#include <cstring>

#include "gguf_test_util.hpp"
#include "halo/model/safetensors_reader.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::ScratchDir;

TEST(SafetensorsRoundTrip, AllDtypes) {
    ScratchDir dir;
    write_file_atomic(dir / "m.safetensors",
                      safetensors_bytes({{"a", "F32", {2, 3}, {1, 2, 3, 4, 5, -6.5f}},
                                         {"b", "F16", {2}, {0.5f, -1024.0f}},
                                         {"c", "BF16", {1, 2}, {1.5f, -3.0f}},
                                         {"empty", "F32", {0, 4}, {}}}));
    SafetensorsFile f(dir / "m.safetensors");
    ASSERT_EQ(f.tensors().size(), 4u);
    const auto* a = f.find("a");
    ASSERT_NE(a, nullptr);
    EXPECT_EQ(a->shape, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(f.dequantize(*a), (std::vector<float>{1, 2, 3, 4, 5, -6.5f}));
    EXPECT_EQ(f.dequantize(*f.find("b")), (std::vector<float>{0.5f, -1024.0f}));
    EXPECT_EQ(f.dequantize(*f.find("c")), (std::vector<float>{1.5f, -3.0f}));
    EXPECT_EQ(f.find("empty")->n_elements(), 0);
    EXPECT_EQ(f.find("zzz"), nullptr);
}

std::string with_header(const std::string& json, std::size_t data_bytes) {
    std::string out(8, '\0');
    const std::uint64_t n = json.size();
    std::memcpy(out.data(), &n, 8);
    return out + json + std::string(data_bytes, '\0');
}

class SafetensorsBroken : public ::testing::Test {
protected:
    void expect(const std::string& bytes, const std::string& code, std::initializer_list<std::string> fragments) {
        write_file_atomic(dir_ / "x.safetensors", bytes);
        expect_error([&] { SafetensorsFile f(dir_ / "x.safetensors"); }, code, fragments);
    }
    ScratchDir dir_;
};

TEST_F(SafetensorsBroken, TooSmall) { expect("abc", "E5200", {"x.safetensors", "too small"}); }

TEST_F(SafetensorsBroken, HeaderLengthPastEof) {
    std::string b = with_header("{}", 0);
    const std::uint64_t n = 1000;
    std::memcpy(b.data(), &n, 8);
    expect(b, "E5201", {"header length runs past the end", "expected at most 2", "found 1000"});
}

TEST_F(SafetensorsBroken, NotJson) { expect(with_header("{\"a\": [", 0), "E5202", {"not valid JSON"}); }

// Found by fuzz_safetensors: a number too large for a double escaped as nlohmann's out_of_range.
TEST_F(SafetensorsBroken, OverflowingNumber) {
    expect(with_header("{\"a\": {\"dtype\": \"F32\", \"shape\": [2222222222222222222e2222222222]}}", 0), "E5202",
           {"x.safetensors", "header", "not valid JSON", "number overflow"});
}

TEST_F(SafetensorsBroken, DuplicateKeys) {
    expect(with_header(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                        "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8),
           "E5202", {"w", "duplicate key"});
}

TEST_F(SafetensorsBroken, UnknownDtype) {
    expect(with_header(R"({"w": {"dtype": "I4", "shape": [2], "data_offsets": [0, 1]}})", 1), "E5204",
           {"w", "dtype is not supported", "found I4"});
}

TEST_F(SafetensorsBroken, ShapeSizeMismatch) {
    expect(with_header(R"({"w": {"dtype": "F16", "shape": [2, 3], "data_offsets": [0, 8]}})", 8), "E5206",
           {"w", "expected 12 bytes (6 F16 elements)", "found 8 bytes"});
}

TEST_F(SafetensorsBroken, OffsetsPastData) {
    expect(with_header(R"({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}})", 8), "E5205",
           {"w", "outside the data section", "found [0, 16]"});
}

TEST_F(SafetensorsBroken, Overlap) {
    expect(with_header(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12),
           "E5207", {"b", "overlaps tensor a", "found 4"});
}

TEST_F(SafetensorsBroken, IncompleteEntry) {
    expect(with_header(R"({"w": {"dtype": "F32", "shape": [1]}})", 4), "E5203", {"w", "incomplete"});
}

TEST(SafetensorsCheckpoint, ShardedIndex) {
    ScratchDir dir;
    write_file_atomic(dir / "s1.safetensors", safetensors_bytes({{"x", "F32", {2}, {1, 2}}}));
    write_file_atomic(dir / "s2.safetensors", safetensors_bytes({{"y", "BF16", {1}, {3}}}));
    write_file_atomic(dir / "model.safetensors.index.json",
                      R"({"metadata": {}, "weight_map": {"x": "s1.safetensors", "y": "s2.safetensors"}})");
    SafetensorsCheckpoint c(dir.path());
    EXPECT_EQ(c.names(), (std::vector<std::string>{"x", "y"}));
    const auto y = c.find("y");
    ASSERT_NE(y.tensor, nullptr);
    EXPECT_EQ(y.file->dequantize(*y.tensor), (std::vector<float>{3}));
    EXPECT_EQ(c.find("z").tensor, nullptr);
    EXPECT_EQ(c.dtype_summary(), "bf16+f32");

    write_file_atomic(dir / "model.safetensors.index.json", R"({"weight_map": {"x": "s2.safetensors", "y": "s2.safetensors"}})");
    expect_error([&] { SafetensorsCheckpoint bad(dir.path()); }, "E5210", {"x", "does not hold", "found no such tensor"});
    write_file_atomic(dir / "model.safetensors.index.json", R"({"weight_map": {"x": "../s1.safetensors"}})");
    expect_error([&] { SafetensorsCheckpoint bad(dir.path()); }, "E5210", {"leaves the checkpoint directory"});
}

TEST(SafetensorsCheckpoint, MissingFiles) {
    ScratchDir dir;
    expect_error([&] { SafetensorsCheckpoint c(dir.path()); }, "E5211", {"no safetensors checkpoint"});
}

TEST(HfConfig, LlamaKeys) {
    ScratchDir dir;
    write_file_atomic(dir / "config.json", R"({"model_type": "llama", "hidden_size": 576, "intermediate_size": 1536,
        "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152,
        "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 100000, "tie_word_embeddings": true,
        "rope_scaling": null})");
    const ModelConfig c = read_hf_config(dir / "config.json");
    EXPECT_EQ(c.architecture, "llama");
    EXPECT_EQ(c.n_layers, 30);
    EXPECT_EQ(c.d_model, 576);
    EXPECT_EQ(c.n_heads, 9);
    EXPECT_EQ(c.n_kv_heads, 3);
    EXPECT_EQ(c.head_dim, 64);
    EXPECT_EQ(c.d_ff, 1536);
    EXPECT_EQ(c.vocab_size, 49152);
    EXPECT_EQ(c.context_length, 8192);
    EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-5f);
    EXPECT_EQ(c.rope_theta, 100000.0f);
    EXPECT_TRUE(c.tied_embeddings);
    EXPECT_EQ(c.rope_scaling, RopeScaling::none);

    write_file_atomic(dir / "config.json", R"({"model_type": "llama", "hidden_size": 64})");
    expect_error([&] { (void)read_hf_config(dir / "config.json"); }, "E5220", {"num_hidden_layers", "missing"});
    write_file_atomic(dir / "config.json", R"({"model_type": "gemma3"})");
    expect_error([&] { (void)read_hf_config(dir / "config.json"); }, "E5221", {"found gemma3"});
    write_file_atomic(dir / "config.json", R"({"model_type": "llama", "num_hidden_layers": 2, "hidden_size": -4})");
    expect_error([&] { (void)read_hf_config(dir / "config.json"); }, "E5220", {"hidden_size", "not a positive integer", "found -4"});
}

}  // namespace
}  // namespace halo::model
