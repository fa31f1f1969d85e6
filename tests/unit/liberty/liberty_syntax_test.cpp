#include <gtest/gtest.h>

#include "error_matchers.hpp"
#include "halo/liberty/liberty_syntax.hpp"

using namespace halo::liberty;

TEST(LibertySyntax, TreeShapeLinesCommentsContinuations) {
    const std::string text =
        "/* header\n comment */ library (lib1) {\n"   // 1-2
        "  define (my_attr, cell, string);\n"         // 3
        "  time_unit : \"1ns\" ;\n"                   // 4
        "  delay_model : table_lookup\n"              // 5: no ';'
        "  function : A + B ;\n"                      // 6: unquoted multi-word value
        "  cell (X, Y) { // line comment\n"           // 7
        "    values ( \\\n"                           // 8: continuation
        "      \"1, 2\", \\\n"                        // 9
        "      \"3, \\\n"                             // 10: continuation inside a string
        "4\");\n"                                     // 11
        "    empty () { }\n"                          // 12
        "  }\n"
        "}\n";
    SyntaxGroup g = parse_liberty_syntax(text, "t.lib");
    EXPECT_EQ(g.type, "library");
    EXPECT_EQ(g.line, 2u);
    ASSERT_EQ(g.args.size(), 1u);
    EXPECT_EQ(g.args[0].text, "lib1");
    ASSERT_EQ(g.attributes.size(), 4u);
    EXPECT_EQ(g.attributes[0].name, "define");
    EXPECT_TRUE(g.attributes[0].complex);
    EXPECT_EQ(g.attributes[0].values.size(), 3u);
    EXPECT_EQ(g.attributes[0].values[2].text, "string");
    EXPECT_EQ(g.attributes[0].line, 3u);
    EXPECT_EQ(g.attributes[1].values[0].text, "1ns");
    EXPECT_TRUE(g.attributes[1].values[0].quoted);
    EXPECT_EQ(g.attributes[2].values[0].text, "table_lookup");
    EXPECT_FALSE(g.attributes[2].values[0].quoted);
    EXPECT_EQ(g.attributes[2].line, 5u);
    EXPECT_EQ(g.attributes[3].values[0].text, "A + B");
    ASSERT_EQ(g.groups.size(), 1u);
    const SyntaxGroup& cell = g.groups[0];
    EXPECT_EQ(cell.type, "cell");
    EXPECT_EQ(cell.line, 7u);
    ASSERT_EQ(cell.args.size(), 2u);
    EXPECT_EQ(cell.args[1].text, "Y");
    const SyntaxAttribute* values = cell.find_attribute("values");
    ASSERT_NE(values, nullptr);
    EXPECT_EQ(values->line, 8u);
    ASSERT_EQ(values->values.size(), 2u);
    EXPECT_EQ(values->values[0].text, "1, 2");
    EXPECT_EQ(values->values[1].text, "3, 4");
    ASSERT_EQ(cell.groups.size(), 1u);
    EXPECT_EQ(cell.groups[0].type, "empty");
    EXPECT_EQ(cell.groups[0].line, 12u);
    EXPECT_TRUE(cell.groups[0].args.empty());
    EXPECT_EQ(cell.find_attribute("nope"), nullptr);
}

TEST(LibertySyntax, Errors) {
    auto d = expect_halo_error([] { parse_liberty_syntax("library (a) {\n  x : ;\n}\n", "e.lib"); });
    EXPECT_EQ(d.code, "E1005");
    EXPECT_EQ(d.line, 2);
    EXPECT_EQ(d.file, "e.lib");
    d = expect_halo_error([] { parse_liberty_syntax("library (a) {\n  x y;\n}\n", "e.lib"); });
    EXPECT_EQ(d.code, "E1003");
    d = expect_halo_error([] { parse_liberty_syntax("library (a) {\n\n  x : \x01;\n}\n", "e.lib"); });
    EXPECT_EQ(d.code, "E1002");
    EXPECT_EQ(d.line, 3);
    d = expect_halo_error([] { parse_liberty_syntax("", "e.lib"); });
    EXPECT_EQ(d.code, "E1007");
}
