// GgufWriter::add_value: every metadata value GgufFile reads, written back with add_value, gives
// the original bytes (scalars and arrays of each type, extremes included); a nested array is an
// internal error.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "gguf_test_util.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/gguf_writer.hpp"

namespace halo::model {
namespace {

using testing::ScratchDir;

template <class V>
std::string le(V v) {
    std::string s(sizeof(V), '\0');
    std::memcpy(s.data(), &v, sizeof(V));
    return s;
}
std::string typed(GgufType t) {
    std::string s;
    put_u32(s, static_cast<std::uint32_t>(t));
    return s;
}
template <class V>
std::string array_of(GgufType t, std::initializer_list<V> values) {
    std::string s = typed(GgufType::array);
    put_u32(s, static_cast<std::uint32_t>(t));
    put_u64(s, values.size());
    for (V v : values) s += le(v);
    return s;
}

TEST(GgufWriterAddValue, CopyOfEveryKeyAsReadIsByteIdentical) {
    // Keys in sorted order: GgufFile::metadata() is a std::map, so the copy comes out sorted.
    GgufWriter w;
    w.add_raw("a.bool", typed(GgufType::boolean) + le<std::uint8_t>(1));
    w.add_raw("a.f32", typed(GgufType::f32) + le(0.1f));
    w.add_raw("a.f64", typed(GgufType::f64) + le(-1e300));
    w.add_raw("a.i16", typed(GgufType::i16) + le<std::int16_t>(-32768));
    w.add_raw("a.i32", typed(GgufType::i32) + le<std::int32_t>(std::numeric_limits<std::int32_t>::min()));
    w.add_raw("a.i64", typed(GgufType::i64) + le<std::int64_t>(std::numeric_limits<std::int64_t>::min()));
    w.add_raw("a.i8", typed(GgufType::i8) + le<std::int8_t>(-128));
    w.add_raw("a.string", typed(GgufType::string) + le<std::uint64_t>(3) + std::string("x\0y", 3));
    w.add_raw("a.u16", typed(GgufType::u16) + le<std::uint16_t>(65535));
    w.add_raw("a.u32", typed(GgufType::u32) + le<std::uint32_t>(4294967295u));
    w.add_raw("a.u64", typed(GgufType::u64) + le<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
    w.add_raw("a.u8", typed(GgufType::u8) + le<std::uint8_t>(255));
    w.add_raw("b.bool", array_of<std::uint8_t>(GgufType::boolean, {0, 1, 1}));
    w.add_raw("b.empty", array_of<std::int32_t>(GgufType::i32, {}));
    w.add_raw("b.f32", array_of<float>(GgufType::f32, {-0.0f, 3.4e38f, 1e-45f}));
    w.add_raw("b.f64", array_of<double>(GgufType::f64, {0.1, -2.5}));
    w.add_raw("b.i16", array_of<std::int16_t>(GgufType::i16, {-1, 7}));
    w.add_raw("b.i8", array_of<std::int8_t>(GgufType::i8, {-1, 127}));
    w.add_string_array("b.strings", {"a", "", "\xc4\xb3"});
    w.add_raw("b.u16", array_of<std::uint16_t>(GgufType::u16, {1, 65535}));
    w.add_raw("b.u64", array_of<std::uint64_t>(GgufType::u64, {0, 1ull << 62}));
    w.add_f32_tensor("t", {2}, {1.0f, 2.0f});
    ScratchDir dir;
    w.write(dir / "in.gguf");

    const GgufFile in(dir / "in.gguf");
    ASSERT_EQ(in.metadata().size(), 21u);
    GgufWriter copy;
    for (const auto& [key, value] : in.metadata()) copy.add_value(key, value);
    copy.add_f32_tensor("t", {2}, {1.0f, 2.0f});
    EXPECT_EQ(copy.bytes(), w.bytes());
}

TEST(GgufWriterAddValue, NestedArrayIsAnInternalError) {
    GgufValue v;
    v.type = GgufType::array;
    v.element_type = GgufType::array;
    v.ints = {1};
    GgufWriter w;
    try {
        w.add_value("k", v);
        ADD_FAILURE() << "a nested array must be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E5023");
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::internal);
        EXPECT_NE(std::string(e.what()).find("arrays of arrays"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace halo::model
