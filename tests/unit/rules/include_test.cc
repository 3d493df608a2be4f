// Include: relative paths, sorted globs, recursion limit, loadFiles/loadSources.
#include <gtest/gtest.h>

#include "rules/parser.h"

namespace rampart::rules {
namespace {

const std::string kData = std::string(RAMPART_TEST_DATA) + "/rules";

std::vector<int64_t> ids(const LoadResult& r) {
  std::vector<int64_t> out;
  for (const auto& x : r.ruleset.rules) out.push_back(x.id);
  return out;
}

TEST(Include, RelativeToIncludingFileAndGlobsSorted) {
  LoadResult r = loadFiles({kData + "/include/main.conf"});
  EXPECT_EQ(ids(r), (std::vector<int64_t>{1, 2, 3, 4, 9}));
  // The error in leaf.conf is reported in leaf.conf, with its own line numbers.
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_EQ(format(r.diagnostics[0]), kData + "/include/nested/../leaf.conf:2:17: error: unknown action 'bogus'");
  EXPECT_EQ(r.ruleset.rules[1].loc.file, kData + "/include/sub/a.conf");
  EXPECT_EQ(r.ruleset.rules[1].loc.line, 1u);
}

TEST(Include, BaseDirForTopLevelPaths) {
  ParseOptions o;
  o.base_dir = kData + "/include";
  LoadResult r = loadFiles({"sub/*.conf"}, o);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2, 3}));
  // Include inside loadString text is relative to base_dir.
  r = loadString("Include sub/a.conf\n", "<yaml>", o);
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2}));
}

TEST(Include, RecursionIsStopped) {
  LoadResult r = loadFiles({kData + "/loop/self.conf"});
  EXPECT_FALSE(r.ok());
  bool nested = false;
  for (const auto& d : r.diagnostics) nested |= d.message.find("nested more than 32 levels") != std::string::npos;
  EXPECT_TRUE(nested) << (r.diagnostics.empty() ? "" : format(r.diagnostics[0]));
  // id:1 is defined at every level: duplicates are reported too, but the load ends.
  EXPECT_EQ(ids(r), (std::vector<int64_t>{1}));
}

TEST(Include, MissingFilesAndDirectories) {
  LoadResult r = loadString(
      "Include nothing-here/*.conf\nInclude /no/such/file.conf\nIncludeOptional /no/*.conf\nIncludeOptional /no/x.conf\n");
  ASSERT_EQ(r.diagnostics.size(), 2u);
  EXPECT_EQ(format(r.diagnostics[0]), "<string>:1:9: error: no file matches 'nothing-here/*.conf'");
  EXPECT_EQ(format(r.diagnostics[1]), "<string>:2:9: error: cannot open '/no/such/file.conf': no such file");
  r = loadFiles({kData + "/include/sub"});
  ASSERT_EQ(r.diagnostics.size(), 1u);
  EXPECT_NE(r.diagnostics[0].message.find("is a directory"), std::string::npos);
  r = loadFiles({kData + "/none-*.conf"});
  EXPECT_FALSE(r.ok());
}

TEST(Include, SourcesMixFilesAndText) {
  LoadResult r = loadSources({{Source::Kind::Text, "<gen>", "SecAction \"id:7,pass\"\n"},
                              {Source::Kind::File, kData + "/include/sub/a.conf", ""},
                              {Source::Kind::Text, "<gen2>", "SecRuleRemoveById 7\n"}});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(ids(r), (std::vector<int64_t>{2}));
}

}  // namespace
}  // namespace rampart::rules
