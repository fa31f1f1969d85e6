// GGUF reader: round trip through the writer (every value type, several tensor types, custom
// alignment) and the broken-file set, each asserting its code and message.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "gguf_test_util.hpp"
#include "halo/model/float_convert.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/gguf_writer.hpp"

namespace halo::model {
namespace {

using testing::expect_error;
using testing::ScratchDir;

std::string scalar(GgufType t, std::initializer_list<std::uint8_t> bytes) {
    std::string s;
    put_u32(s, static_cast<std::uint32_t>(t));
    for (auto b : bytes) s.push_back(static_cast<char>(b));
    return s;
}

TEST(GgufRoundTrip, MetadataOfEveryTypeAndTensors) {
    ScratchDir dir;
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_u32("u32", 4000000000u);
    w.add_i32("i32", -7);
    w.add_u64("u64", 1ull << 40);
    w.add_f32("f32", 0.1f);
    w.add_f64("f64", -2.5);
    w.add_bool("bool", true);
    w.add_raw("u8", scalar(GgufType::u8, {200}));
    w.add_raw("i8", scalar(GgufType::i8, {0xFE}));
    w.add_raw("u16", scalar(GgufType::u16, {0x34, 0x12}));
    w.add_raw("i16", scalar(GgufType::i16, {0xFF, 0xFF}));
    w.add_raw("i64", scalar(GgufType::i64, {0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
    w.add_string_array("strings", {"a", "", "ĳ"});
    w.add_i32_array("ints", {1, -2, 3});
    w.add_f32_array("floats", {0.5f, 1.5f});
    w.add_f32_tensor("matrix", {4, 3}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});
    std::string q8(34, '\0');
    q8[0] = 0x00; q8[1] = 0x3C;  // d = 1
    for (int i = 0; i < 32; ++i) q8[2 + i] = static_cast<char>(i - 5);
    w.add_tensor("q8", {32, 1}, GgmlType::q8_0, q8);
    std::string f16;
    for (float v : {1.0f, -0.5f, 2.0f}) {
        const auto h = fp32_to_fp16(v);
        f16.push_back(static_cast<char>(h & 0xff));
        f16.push_back(static_cast<char>(h >> 8));
    }
    w.add_tensor("vec", {3}, GgmlType::f16, f16);
    w.write(dir / "m.gguf");

    GgufFile f(dir / "m.gguf");
    EXPECT_EQ(f.version(), 3u);
    EXPECT_EQ(f.alignment(), 32u);
    EXPECT_EQ(f.data_offset() % 32, 0u);
    EXPECT_EQ(f.metadata().size(), 15u);
    EXPECT_EQ(f.get_string("general.architecture"), "llama");
    EXPECT_EQ(f.get_int("u32"), 4000000000LL);
    EXPECT_EQ(f.get_int("i32"), -7);
    EXPECT_EQ(f.get_int("u64"), 1LL << 40);
    EXPECT_FLOAT_EQ(static_cast<float>(*f.get_float("f32")), 0.1f);
    EXPECT_EQ(f.get_float("f64"), -2.5);
    EXPECT_EQ(f.get_bool("bool"), true);
    EXPECT_EQ(f.get_int("u8"), 200);
    EXPECT_EQ(f.get_int("i8"), -2);
    EXPECT_EQ(f.get_int("u16"), 0x1234);
    EXPECT_EQ(f.get_int("i16"), -1);
    EXPECT_EQ(f.get_int("i64"), -2);
    EXPECT_EQ(f.find("strings")->strings, (std::vector<std::string>{"a", "", "ĳ"}));
    EXPECT_EQ(f.find("strings")->element_type, GgufType::string);
    EXPECT_EQ(f.find("ints")->ints, (std::vector<std::int64_t>{1, -2, 3}));
    EXPECT_EQ(f.find("floats")->floats, (std::vector<double>{0.5, 1.5}));
    EXPECT_FALSE(f.get_int("absent").has_value());

    ASSERT_EQ(f.tensors().size(), 3u);
    const auto* m = f.find_tensor("matrix");
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(m->shape(), (std::vector<std::int64_t>{3, 4}));
    EXPECT_EQ(m->n_bytes, 48);
    EXPECT_EQ(f.dequantize(*m), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
    const auto* q = f.find_tensor("q8");
    EXPECT_EQ(q->type->name, "Q8_0");
    const auto qv = f.dequantize(*q);
    EXPECT_EQ(qv[0], -5.0f);
    EXPECT_EQ(qv[31], 26.0f);
    EXPECT_EQ(f.dequantize(*f.find_tensor("vec")), (std::vector<float>{1.0f, -0.5f, 2.0f}));
    for (const auto& t : f.tensors()) EXPECT_EQ(t.offset % 32, 0u) << t.name;
}

TEST(GgufRoundTrip, CustomAlignment) {
    ScratchDir dir;
    GgufWriter w;
    w.set_alignment(64);
    w.add_f32_tensor("a", {3}, {1, 2, 3});
    w.add_f32_tensor("b", {2}, {4, 5});
    w.write(dir / "a.gguf");
    GgufFile f(dir / "a.gguf");
    EXPECT_EQ(f.alignment(), 64u);
    EXPECT_EQ(f.data_offset() % 64, 0u);
    EXPECT_EQ(f.find_tensor("b")->offset, 64u);
    EXPECT_EQ(f.dequantize(*f.find_tensor("b")), (std::vector<float>{4, 5}));
}

TEST(GgufRoundTrip, TypedGettersRejectWrongTypes) {
    ScratchDir dir;
    GgufWriter w;
    w.add_string("name", "x");
    w.add_i32_array("arr", {1});
    w.write(dir / "t.gguf");
    GgufFile f(dir / "t.gguf");
    expect_error([&] { (void)f.get_int("name"); }, "E5020", {"name", "expected an integer", "found string"});
    expect_error([&] { (void)f.get_int("arr"); }, "E5020", {"found array of i32"});
    expect_error([&] { (void)f.require_int("llama.block_count"); }, "E5021", {"llama.block_count", "missing"});
}

// ---- broken files -------------------------------------------------------------------------

struct RawTensor {
    std::string name;
    std::vector<std::uint64_t> ne;
    std::uint32_t type;
    std::uint64_t offset;
};

// Hand-assembles a file: header, encoded kv pairs, tensor infos, padding to 32, data.
std::string raw_gguf(const std::vector<std::pair<std::string, std::string>>& kvs, const std::vector<RawTensor>& tensors,
                     std::size_t data_bytes, std::uint32_t version = 3) {
    std::string out = "GGUF";
    put_u32(out, version);
    put_u64(out, tensors.size());
    put_u64(out, kvs.size());
    for (const auto& [k, v] : kvs) {
        put_gguf_string(out, k);
        out += v;
    }
    for (const auto& t : tensors) {
        put_gguf_string(out, t.name);
        put_u32(out, static_cast<std::uint32_t>(t.ne.size()));
        for (auto d : t.ne) put_u64(out, d);
        put_u32(out, t.type);
        put_u64(out, t.offset);
    }
    out.resize((out.size() + 31) / 32 * 32, '\0');
    out.resize(out.size() + data_bytes, '\0');
    return out;
}

class GgufBroken : public ::testing::Test {
protected:
    std::filesystem::path write(const std::string& bytes) {
        const auto p = dir_ / "broken.gguf";
        std::ofstream(p, std::ios::binary | std::ios::trunc) << bytes;  // no fsync: hundreds of files per test
        return p;
    }
    void expect(const std::string& bytes, const std::string& code, std::initializer_list<std::string> fragments) {
        const auto p = write(bytes);
        expect_error([&] { GgufFile f(p); }, code, fragments);
    }
    ScratchDir dir_;
};

const std::uint32_t kF32 = 0, kQ4_1 = 3;

TEST_F(GgufBroken, TooSmall) { expect("GGUF", "E5001", {"broken.gguf", "too small", "found 4 bytes"}); }

TEST_F(GgufBroken, BadMagic) {
    std::string b = raw_gguf({}, {}, 0);
    b[0] = 'G'; b[1] = 'G'; b[2] = 'M'; b[3] = 'L';
    expect(b, "E5002", {"bad magic", "expected \"GGUF\"", "found \"GGML\""});
}

TEST_F(GgufBroken, UnsupportedVersion) { expect(raw_gguf({}, {}, 0, 1), "E5003", {"version", "found 1"}); }

TEST_F(GgufBroken, CountLargerThanFile) {
    std::string b = raw_gguf({}, {}, 0);
    std::string huge;
    put_u64(huge, 1ull << 60);
    b.replace(16, 8, huge);  // n_kv
    expect(b, "E5005", {"metadata key-value count", "found 1152921504606846976"});
}

TEST_F(GgufBroken, StringLengthPastEof) {
    std::string kv;
    put_u32(kv, static_cast<std::uint32_t>(GgufType::string));
    put_u64(kv, 1000);  // claims 1000 bytes, file ends first
    kv += "abc";
    std::string b = raw_gguf({{"key", kv}}, {}, 0);
    b.resize(b.find("abc") + 3);
    expect(b, "E5009", {"string length runs past the end", "found 1000 bytes"});
}

TEST_F(GgufBroken, TruncatedInsideMetadata) {
    std::string b = raw_gguf({{"general.name", scalar(GgufType::u32, {1, 2, 3, 4})}}, {}, 0);
    b.resize(24 + 8 + 12 + 4 + 2);  // header, key, type, half the u32
    expect(b, "E5004", {"file ends while reading a u32 value", "truncated"});
}

TEST_F(GgufBroken, UnknownValueType) {
    expect(raw_gguf({{"k", scalar(static_cast<GgufType>(13), {0})}}, {}, 0), "E5006",
           {"k (byte 33)", "unknown metadata value type", "found 13"});
}

TEST_F(GgufBroken, DuplicateKey) {
    expect(raw_gguf({{"general.name", scalar(GgufType::u8, {1})}, {"general.name", scalar(GgufType::u8, {2})}}, {}, 0),
           "E5007", {"general.name", "duplicate metadata key"});
}

TEST_F(GgufBroken, BoolNotZeroOrOne) {
    expect(raw_gguf({{"flag", scalar(GgufType::boolean, {2})}}, {}, 0), "E5018", {"flag", "not 0 or 1", "found 2"});
}

TEST_F(GgufBroken, NestedArray) {
    std::string v;
    put_u32(v, static_cast<std::uint32_t>(GgufType::array));
    put_u32(v, static_cast<std::uint32_t>(GgufType::array));
    put_u64(v, 0);
    expect(raw_gguf({{"nest", v}}, {}, 0), "E5019", {"nest", "arrays of arrays"});
}

TEST_F(GgufBroken, AlignmentNotPowerOfTwo) {
    expect(raw_gguf({{"general.alignment", scalar(GgufType::u32, {24, 0, 0, 0})}}, {}, 0), "E5008",
           {"general.alignment", "power of two", "found 24"});
}

TEST_F(GgufBroken, DuplicateTensorName) {
    expect(raw_gguf({}, {{"w", {4}, kF32, 0}, {"w", {4}, kF32, 32}}, 64), "E5017", {"w", "duplicate tensor name"});
}

TEST_F(GgufBroken, UnknownTensorType) {
    expect(raw_gguf({}, {{"w", {256}, 16, 0}}, 1024), "E5012", {"w", "not supported", "found ggml type 16", "Q4_1"});
}

TEST_F(GgufBroken, RowNotWholeBlocks) {
    expect(raw_gguf({}, {{"w", {33, 2}, kQ4_1, 0}}, 64), "E5013", {"w", "Q4_1 blocks", "multiple of 32", "found 33"});
}

TEST_F(GgufBroken, DimensionCountOutOfRange) {
    expect(raw_gguf({}, {{"w", {1, 1, 1, 1, 1}, kF32, 0}}, 32), "E5010", {"w", "1..4", "found 5"});
}

TEST_F(GgufBroken, ZeroDimension) { expect(raw_gguf({}, {{"w", {4, 0}, kF32, 0}}, 32), "E5011", {"w", "zero"}); }

TEST_F(GgufBroken, MisalignedOffset) {
    expect(raw_gguf({}, {{"w", {4}, kF32, 8}}, 64), "E5014", {"w", "not aligned", "multiple of 32", "found 8"});
}

TEST_F(GgufBroken, TensorPastEndOfFile) {
    expect(raw_gguf({}, {{"w", {4, 8}, kF32, 0}}, 64), "E5015", {"w", "past the end", "128 bytes of F32"});
}

TEST_F(GgufBroken, TruncatedData) {
    std::string b = raw_gguf({}, {{"a", {8}, kF32, 0}, {"b", {8}, kF32, 32}}, 64);
    b.resize(b.size() - 1);
    expect(b, "E5015", {"b", "past the end"});
}

TEST_F(GgufBroken, OverlappingTensors) {
    expect(raw_gguf({}, {{"a", {16}, kF32, 0}, {"b", {8}, kF32, 32}}, 128), "E5016",
           {"b", "overlaps tensor a", "an offset >= 64", "found 32"});
}

TEST_F(GgufBroken, EveryTruncationOfAValidFileIsRejectedCleanly) {
    GgufWriter w;
    w.add_string("general.architecture", "llama");
    w.add_string_array("tokens", {"a", "b"});
    w.add_f32_tensor("t", {8}, {1, 2, 3, 4, 5, 6, 7, 8});
    const std::string full = w.bytes();
    for (std::size_t n = 0; n < full.size(); ++n) {
        const auto p = write(full.substr(0, n));
        try {
            GgufFile f(p);
            ADD_FAILURE() << "a file cut to " << n << " bytes loaded";
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input) << n;
        }
    }
    EXPECT_NO_THROW(GgufFile(write(full)));
}

}  // namespace
}  // namespace halo::model
