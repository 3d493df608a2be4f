// Loads the whole OWASP CRS (crs-setup.conf.example + rules/*.conf) and checks
// it parses with no error, that print() round-trips every rule, and how long it takes.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "rules/parser.h"

namespace rampart::rules {
namespace {

std::string crsDir() {
  if (const char* e = std::getenv("RAMPART_CRS_DIR")) return e;
  return std::string(RAMPART_SOURCE_DIR) + "/../shared/crs";
}

class Crs : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = crsDir();
    if (!std::filesystem::exists(dir_ + "/crs-setup.conf.example"))
      GTEST_SKIP() << "CRS not found at " << dir_ << " (set RAMPART_CRS_DIR): CRS tests SKIPPED";
  }
  LoadResult load() {
    return loadFiles({dir_ + "/crs-setup.conf.example", dir_ + "/rules/*.conf"});
  }
  std::string dir_;
};

size_t countRules(const RuleSet& rs, Rule::Kind k) {
  size_t n = 0;
  for (const auto& r : rs.rules) {
    if (r.kind == k) ++n;
    if (k == Rule::Kind::SecRule)
      for (const auto& c : r.chain) n += c.kind == k;
  }
  return n;
}

TEST_F(Crs, LoadsWithoutErrorsOrWarnings) {
  auto t0 = std::chrono::steady_clock::now();
  LoadResult r = load();
  auto t1 = std::chrono::steady_clock::now();
  for (const auto& d : r.diagnostics) ADD_FAILURE() << format(d);
  EXPECT_TRUE(r.ok());
  // CRS 4.x: 622 SecRule lines, 8 SecAction (1 in crs-setup), 30 SecMarker.
  EXPECT_GT(countRules(r.ruleset, Rule::Kind::SecRule), 550u);
  EXPECT_EQ(countRules(r.ruleset, Rule::Kind::SecMarker), 30u);
  EXPECT_EQ(r.ruleset.settings.component_signatures.size(), 1u);
  std::cout << "[ CRS ] " << r.ruleset.rules.size() << " top-level rules loaded in "
            << std::chrono::duration<double, std::milli>(t1 - t0).count() << " ms\n";
  // 942100 (libinjection) is a known rule with the detectSQLi operator.
  bool found = false;
  for (const auto& rule : r.ruleset.rules) {
    if (rule.id == 942100) {
      found = true;
      EXPECT_EQ(rule.op.name, "detectsqli");
      EXPECT_EQ(rule.phase, 2);
      ASSERT_FALSE(rule.default_actions.empty());
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(Crs, RegexTextIsWhatPcreWouldReceive) {
  LoadResult r = load();
  ASSERT_TRUE(r.ok());
  const Rule* rule = nullptr;
  for (const auto& x : r.ruleset.rules)
    if (x.id == 920470) rule = &x;
  ASSERT_NE(rule, nullptr);
  // Source: "!@rx ^[\w/.+*-]+(?:...\s?=\s?['\"\w.()+,/:=?<>@#*-]+)*$": Apache turns \" into ",
  // every other backslash reaches PCRE unchanged.
  EXPECT_EQ(rule->op, (Operator{"rx",
                                R"(^[\w/.+*-]+(?:\s?;\s*(?:action|boundary|charset|component|start(?:-info)?|type|version)\s?=\s?['"\w.()+,/:=?<>@#*-]+)*$)",
                                true}));
  EXPECT_EQ(rule->variables, (std::vector<Variable>{{"REQUEST_HEADERS", "Content-Type", false, false, false}}));
  size_t escaped_quotes = 0;
  for (const auto& x : r.ruleset.rules) {
    if (x.op.argument.find("\\\"") != std::string::npos) ++escaped_quotes;
    for (const auto& c : x.chain)
      if (c.op.argument.find("\\\"") != std::string::npos) ++escaped_quotes;
  }
  EXPECT_EQ(escaped_quotes, 0u);
}

TEST_F(Crs, PrintRoundTripsEveryRule) {
  LoadResult r = load();
  ASSERT_TRUE(r.ok());
  size_t checked = 0;
  for (const auto& rule : r.ruleset.rules) {
    std::string text = print(rule);
    LoadResult again = loadString(text, "<printed>");
    ASSERT_TRUE(again.ok()) << text << "\n" << (again.diagnostics.empty() ? "" : format(again.diagnostics[0]));
    ASSERT_EQ(again.ruleset.rules.size(), 1u) << text;
    Rule a = rule, b = again.ruleset.rules[0];
    // Defaults come from SecDefaultAction, not from the rule text.
    a.default_actions.clear();
    for (auto& c : a.chain) c.default_actions.clear();
    EXPECT_TRUE(equalIgnoringLocation(a, b)) << "rule at " << rule.loc.file << ":" << rule.loc.line
                                             << " printed as\n" << text;
    EXPECT_EQ(print(b), text);  // printing is idempotent
    ++checked;
  }
  EXPECT_EQ(checked, r.ruleset.rules.size());
}

}  // namespace
}  // namespace rampart::rules
