// Issue #17, class 2: the checked JSON getter every JSON reader uses. A wrong type, a missing key
// or an out-of-range number is a bad-input diagnostic naming the file, the key path, what was
// expected and what was found; a string that is not UTF-8 cannot reach JSON output (E0023).
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"

namespace {

using nlohmann::json;

// The rendered message of the halo::Error `f` throws ("none" when it throws nothing), and its kind.
std::string error_of(const std::function<void()>& f, halo::ErrorKind* kind = nullptr) {
    try {
        f();
    } catch (const halo::Error& e) {
        if (kind) *kind = e.diagnostic().kind;
        return e.what();
    }
    return "none";
}

const json kDoc = json::parse(R"({
  "n": 12, "f": 2.0, "half": 2.5, "big": 1e300, "s": "12", "b": true, "nul": null,
  "arr": [1, "two", {"deep": [0, 1, {"x": "y"}]}],
  "obj": {"k": 4294967296}
})");

TEST(JsonView, ValuesOfTheRightTypeAreRead) {
    const halo::JsonView v(kDoc, "c.json");
    EXPECT_EQ(v.at("n").integer(), 12);
    EXPECT_EQ(v.at("f").int32(), 2);  // an integral float is an integer
    EXPECT_DOUBLE_EQ(v.at("half").number(), 2.5);
    EXPECT_EQ(v.at("s").string(), "12");
    EXPECT_TRUE(v.at("b").boolean());
    EXPECT_EQ(v.at("obj").at("k").integer(), 4294967296LL);
    EXPECT_EQ(v.at("arr").size(), 3u);
    EXPECT_EQ(v.at("arr").at(std::size_t{2}).at("deep").at(std::size_t{2}).at("x").string(), "y");
    // Absent and null mean "not given": the fallback.
    EXPECT_EQ(v.integer_or("nul", 7), 7);
    EXPECT_EQ(v.string_or("missing", "d"), "d");
    EXPECT_FALSE(v.boolean_or("missing", false));
}

TEST(JsonView, WrongTypeNamesFileKeyPathExpectedAndFound) {
    const halo::JsonView v(kDoc, "c.json");
    halo::ErrorKind kind = halo::ErrorKind::internal;
    EXPECT_EQ(error_of([&] { (void)v.at("s").integer(); }, &kind),
              "c.json: error E0020: s: JSON value has the wrong type (expected an integer, found a string \"12\")");
    EXPECT_EQ(kind, halo::ErrorKind::bad_input);  // exit 2, never 3
    EXPECT_EQ(error_of([&] { (void)v.at("half").int32(); }),
              "c.json: error E0020: half: JSON value has the wrong type (expected an integer, found the number 2.5)");
    EXPECT_EQ(error_of([&] { (void)v.at("n").string(); }),
              "c.json: error E0020: n: JSON value has the wrong type (expected a string, found the integer 12)");
    EXPECT_EQ(error_of([&] { (void)v.at("n").boolean(); }),
              "c.json: error E0020: n: JSON value has the wrong type (expected true or false, found the integer 12)");
    EXPECT_EQ(error_of([&] { (void)v.at("arr").at(std::size_t{1}).number(); }),
              "c.json: error E0020: arr[1]: JSON value has the wrong type (expected a number, found a string \"two\")");
    EXPECT_EQ(error_of([&] { (void)v.at("arr").at(std::size_t{2}).at("deep").at(std::size_t{2}).at("x").integer(); }),
              "c.json: error E0020: arr[2].deep[2].x: JSON value has the wrong type (expected an integer, found a string \"y\")");
    EXPECT_EQ(error_of([&] { (void)v.at("n").at("k"); }),
              "c.json: error E0020: n: JSON value has the wrong type (expected an object, found the integer 12)");
    EXPECT_EQ(error_of([&] { (void)v.at("obj").elements(); }),
              "c.json: error E0020: obj: JSON value has the wrong type (expected an array, found an object)");
    EXPECT_EQ(error_of([&] { halo::JsonView(json::array(), "t.json").require_object(); }),
              "t.json: error E0020: (top): JSON value has the wrong type (expected an object, found an array of 0)");
}

TEST(JsonView, MissingKeyAndOutOfRangeNumbers) {
    const halo::JsonView v(kDoc, "c.json");
    EXPECT_EQ(error_of([&] { (void)v.at("obj").at("rows"); }),
              "c.json: error E0021: obj.rows: required JSON key is missing (expected a value, found none)");
    EXPECT_EQ(error_of([&] { (void)v.at("nul"); }),
              "c.json: error E0021: nul: required JSON key is missing (expected a value, found none)");
    // 2^32 read as an int: refused, never wrapped to 0 or reported as -2147483648.
    EXPECT_EQ(error_of([&] { (void)v.at("obj").at("k").int32(); }),
              "c.json: error E0022: obj.k: JSON number is out of range (expected -2147483648..2147483647, found 4294967296)");
    EXPECT_EQ(error_of([&] { (void)v.at("n").integer(1, 8); }),
              "c.json: error E0022: n: JSON number is out of range (expected 1..8, found 12)");
    EXPECT_EQ(error_of([&] { (void)v.at("big").integer(); }),
              "c.json: error E0022: big: JSON number is out of range (expected -9223372036854775808..9223372036854775807, found 1e+300)");
    EXPECT_EQ(error_of([&] { (void)v.at("half").number(0, 1); }),
              "c.json: error E0022: half: JSON number is out of range (expected a finite number in [0, 1], found 2.5)");
    EXPECT_EQ(error_of([&] { (void)v.at("arr").at(std::size_t{5}); }),
              "c.json: error E0025: arr[5]: JSON array is too short (expected at least 6 elements, found 3)");
}

TEST(JsonDump, NonUtf8NameIsRefusedNamingOutputKeyAndBytes) {
    json j = {{"model", "ok"}, {"files", {"a.hqt", std::string("b\xff\xfe.hqt")}}};
    EXPECT_EQ(error_of([&] { (void)halo::dump_json(j, 1, "out/manifest.json"); }),
              "out/manifest.json: error E0023: files[1]: a name to be written into JSON output is not UTF-8 text "
              "(expected UTF-8 text (rename the input file or tensor), found \"b\\xff\\xfe.hqt\")");
    // Keys too, and overlong or surrogate encodings; valid multi-byte text passes unchanged.
    EXPECT_NE(error_of([&] { (void)halo::dump_json(json{{std::string("k\xc0\xaf"), 1}}, -1, "o.json"); }).find("E0023: (key)"),
              std::string::npos);
    EXPECT_NE(error_of([&] { (void)halo::dump_json(json(std::string("\xed\xa0\x80")), -1, "o.json"); }).find("E0023"),
              std::string::npos);
    EXPECT_EQ(halo::dump_json(json{{"name", "caf\xc3\xa9 \xf0\x9f\x98\x80"}}, -1, "o.json"), "{\"name\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"}");
    nlohmann::ordered_json o = {{"z", 1}, {"a", std::string("x\x80")}};
    EXPECT_NE(error_of([&] { (void)halo::dump_json(o, 2, "p.json"); }).find("p.json: error E0023: a:"), std::string::npos);
}

TEST(Diagnostics, EchoedInputIsCappedAndAFileValueIsNotBlamedOnAFlag) {
    // A 600 kB token echoed by a reader: the line keeps the start and says how long it was.
    const std::string huge(600 * 1024, 'x');
    const std::string msg = error_of([&] { halo::throw_bad_input_at("E0020", "f.json", huge, "m", "e", huge); });
    EXPECT_LT(msg.size(), 1000u) << msg.size();
    EXPECT_NE(msg.find("... (614400 bytes in all)"), std::string::npos);
    // A value a library checked as a flag ("--group") but that came from a file is reported there.
    halo::ErrorKind kind = halo::ErrorKind::internal;
    const std::string moved = error_of(
        [&] {
            try {
                halo::throw_bad_flag("E6001", "--group", "group and tile sizes must be positive", ">= 1", "0x-1");
            } catch (const halo::Error& e) {
                halo::rethrow_at(e, "q/manifest.json", "linears[3].spec");
            }
        },
        &kind);
    EXPECT_EQ(moved, "q/manifest.json: error E6001: linears[3].spec: group and tile sizes must be positive (expected >= 1, found 0x-1)");
    EXPECT_EQ(kind, halo::ErrorKind::bad_input);  // exit 2: a bad file, not a bad flag
}

}  // namespace
