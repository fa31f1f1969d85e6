// Broken Liberty files built in code: each must fail with its code, file and line.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "error_matchers.hpp"
#include "liberty_fixture.hpp"
#include "halo/liberty/liberty_reader.hpp"

using namespace halo::liberty;

namespace {

halo::Diagnostic read_error(const std::string& text) {
    return expect_halo_error([&] { read_liberty_string(text, "broken.lib"); });
}

}  // namespace

TEST(BrokenLiberty, BaseIsValid) {
    Library lib = read_liberty_string(lib_with(output_with("!A",
        "        cell_rise (t2) { values (\"1, 2, 3\", \"4, 5, 6\"); }\n")), "ok.lib");
    EXPECT_DOUBLE_EQ(lib.cells[0].pins[1].timing[0].cell_rise_ns->lookup(3, 2), 6);
}

TEST(BrokenLiberty, TruncatedOsu018) {
    std::ifstream in("/usr/share/qflow/tech/osu018/osu018_stdcells.lib");
    std::stringstream buf;
    buf << in.rdbuf();
    std::string text = buf.str().substr(0, buf.str().size() / 2);
    // Cut after a complete line so the lexer stops cleanly at end of file.
    text = text.substr(0, text.rfind('\n') + 1);
    long lines = static_cast<long>(std::count(text.begin(), text.end(), '\n'));
    auto d = read_error(text);
    EXPECT_EQ(d.code, "E1007");
    EXPECT_EQ(d.file, "broken.lib");
    EXPECT_EQ(d.line, lines + 1);  // end of file is on the line after the last newline
    EXPECT_NE(d.hint.find("truncated"), std::string::npos);
}

TEST(BrokenLiberty, TruncatedInsideStringOrComment) {
    auto d = read_error("library (b) {\n  cell (X) {\n    pin (A) { function : \"A +");
    EXPECT_EQ(d.code, "E1001");
    EXPECT_EQ(d.line, 3);
    d = read_error("library (b) {\n/* open comment\n\n");
    EXPECT_EQ(d.code, "E1001");
    EXPECT_EQ(d.line, 2);
}

TEST(BrokenLiberty, UnbalancedBraces) {
    auto d = read_error("library (b) {\n  cell (X) { area : 1; }\n  }\n}\n");
    EXPECT_EQ(d.code, "E1004");
    EXPECT_EQ(d.line, 4);
    d = read_error("library (b) {\n  cell (X) { area : 1;\n");
    EXPECT_EQ(d.code, "E1007");
    EXPECT_NE(d.message.find("cell (line 2)"), std::string::npos) << d.message;
}

TEST(BrokenLiberty, NonNumberInTable) {
    auto d = read_error(lib_with(output_with("!A", "        cell_rise (t2) { values (\"1, 2, 3\", \"4, five, 6\"); }\n")));
    EXPECT_EQ(d.code, "E1201");
    EXPECT_EQ(d.file, "broken.lib");
    EXPECT_EQ(d.line, 10);
    EXPECT_EQ(d.found, "\"five\"");
}

TEST(BrokenLiberty, NonNumberAttribute) {
    auto d = read_error(lib_with("    area : big;\n"));
    EXPECT_EQ(d.code, "E1201");
    EXPECT_EQ(d.line, 8);
    EXPECT_EQ(read_error(lib_with("    area : nan;\n")).code, "E1201");
    EXPECT_EQ(read_error(lib_with("    area : 1e999;\n")).code, "E1201");
}

TEST(BrokenLiberty, TableSizeMismatch) {
    auto d = read_error(lib_with(output_with("!A", "        cell_rise (t2) { values (\"1, 2, 3\", \"4, 5\"); }\n")));
    EXPECT_EQ(d.code, "E1202");
    EXPECT_EQ(d.line, 10);
    d = read_error(lib_with(output_with("!A", "        cell_rise (t2) { values (\"1, 2, 3, 4, 5\"); }\n")));
    EXPECT_EQ(d.code, "E1202");
    EXPECT_EQ(d.expected, "6 values");
    EXPECT_EQ(d.found, "5 values");
    d = read_error(lib_with(output_with("!A", "        cell_rise (t2) { values (\"1, 2, 3\", \"4, 5, 6\", \"7, 8, 9\"); }\n")));
    EXPECT_EQ(d.code, "E1202");
}

TEST(BrokenLiberty, UnknownTemplate) {
    auto d = read_error(lib_with(output_with("!A", "        cell_rise (nope) { values (\"1\"); }\n")));
    EXPECT_EQ(d.code, "E1203");
    EXPECT_EQ(d.line, 10);
    EXPECT_EQ(d.found, "nope");
}

TEST(BrokenLiberty, IndexNotIncreasing) {
    auto d = read_error(lib_with(output_with("!A",
        "        cell_rise (t2) { index_1 (\"2, 1\"); values (\"1, 2, 3\", \"4, 5, 6\"); }\n")));
    EXPECT_EQ(d.code, "E1204");
    EXPECT_EQ(d.line, 10);
}

TEST(BrokenLiberty, BadUnitsAndFunctions) {
    auto d = read_error("library (b) {\n  time_unit : \"1 fortnight\";\n}\n");
    EXPECT_EQ(d.code, "E1150");
    EXPECT_EQ(d.line, 2);
    d = read_error("library (b) {\n  capacitive_load_unit (1, furlong);\n}\n");
    EXPECT_EQ(d.code, "E1151");
    d = read_error(lib_with("    pin (Y) { direction : output; function : \"A & Q\"; }\n"));
    EXPECT_EQ(d.code, "E1302");
    EXPECT_EQ(d.file, "broken.lib");
    EXPECT_EQ(d.line, 8);
    EXPECT_EQ(d.place, "X/Y");
    d = read_error(lib_with("    pin (A) { direction : input; }\n"));
    EXPECT_EQ(d.code, "E1403");
    d = read_error("cell (X) { }\n");
    EXPECT_EQ(d.code, "E1102");
    d = read_error("library (b) {\n  area : 1;\n} junk\n");
    EXPECT_EQ(d.code, "E1004");
    EXPECT_EQ(d.line, 3);
}

TEST(BrokenLiberty, RelatedPinMustExist) {
    auto d = read_error(lib_with("    pin (Y) { direction : output; function : \"!A\";\n"
                                 "      timing () { related_pin : \"A Q\"; cell_rise (scalar) { values (\"1\"); } } }\n"));
    EXPECT_EQ(d.code, "E1405");
    EXPECT_EQ(d.line, 8);
    EXPECT_EQ(d.found, "Q");
}

TEST(BrokenLiberty, DeepNestingIsRejectedNotACrash) {
    std::string text = "library (b) {\n";
    for (int i = 0; i < 100000; ++i) text += "g () {";
    auto d = read_error(text);
    EXPECT_EQ(d.code, "E1006");
}
