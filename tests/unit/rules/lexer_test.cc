// Apache-style line joining and word splitting (rules/lexer.h).
#include <gtest/gtest.h>

#include "rules/lexer.h"

namespace rampart::rules {
namespace {

std::vector<std::string> words(const std::string& line) {
  std::vector<std::string> out;
  for (auto& w : splitWords(line)) out.push_back(w.value);
  return out;
}

TEST(Lexer, JoinsContinuationLinesKeepingIndentation) {
  auto lines = splitLogicalLines("SecRule A \"b\" \\\n    \"id:1,\\\n    phase:2\"\nSecMarker X\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "SecRule A \"b\"     \"id:1,    phase:2\"");
  EXPECT_EQ(lines[1].text, "SecMarker X");
  uint32_t line = 0, col = 0;
  lines[0].position(lines[0].text.find("phase"), line, col);
  EXPECT_EQ(line, 3u);
  EXPECT_EQ(col, 5u);
  lines[1].position(0, line, col);
  EXPECT_EQ(line, 4u);
  EXPECT_EQ(col, 1u);
}

TEST(Lexer, DoubleBackslashAtEndIsNotAContinuation) {
  auto lines = splitLogicalLines("A b\\\\\nC d\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].text, "A b\\\\");
}

TEST(Lexer, CommentsAndBlankLinesAreDropped) {
  auto lines = splitLogicalLines("# c\n   \n\t# indented comment\nA b\r\n\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "A b");
  EXPECT_EQ(lines[0].segments[0].line, 4u);
}

TEST(Lexer, CommentEndingInBackslashSwallowsNextLine) {
  // Apache joins lines before looking for '#'.
  auto lines = splitLogicalLines("# comment \\\nSecMarker X\nSecMarker Y\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].text, "SecMarker Y");
}

TEST(Lexer, QuotedAndUnquotedWords) {
  EXPECT_EQ(words("SecRule ARGS \"@rx a b\" 'x y'"),
            (std::vector<std::string>{"SecRule", "ARGS", "@rx a b", "x y"}));
  EXPECT_EQ(words("  a\t\tb  "), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(words("\"\""), (std::vector<std::string>{""}));
}

TEST(Lexer, EscapesAreApacheEscapes) {
  // \" -> ", \\ -> \, any other backslash kept for the regex engine.
  EXPECT_EQ(words(R"("a\"b" "c\\d" "\d\x5c\/")"),
            (std::vector<std::string>{"a\"b", "c\\d", "\\d\\x5c\\/"}));
  // In a single-quoted word \' is the escape and \" is kept.
  EXPECT_EQ(words(R"('it\'s \"x\"')"), (std::vector<std::string>{"it's \\\"x\\\""}));
  // Unquoted words unescape \\ too.
  EXPECT_EQ(words(R"(a\\b a\b)"), (std::vector<std::string>{"a\\b", "a\\b"}));
}

TEST(Lexer, UnterminatedQuoteIsFlagged) {
  auto w = splitWords("SecRule ARGS \"@rx abc");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_TRUE(w[2].unterminated);
  EXPECT_FALSE(w[1].unterminated);
}

TEST(Lexer, RawOffsetsMapThroughEscapes) {
  std::string line = R"(X "a\"b\\c d")";
  auto w = splitWords(line);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[1].value, "a\"b\\c d");
  EXPECT_EQ(line[w[1].rawOffsetOf(0)], 'a');
  EXPECT_EQ(line[w[1].rawOffsetOf(2)], 'b');
  EXPECT_EQ(line[w[1].rawOffsetOf(4)], 'c');
  EXPECT_EQ(line[w[1].rawOffsetOf(6)], 'd');
}

}  // namespace
}  // namespace rampart::rules
