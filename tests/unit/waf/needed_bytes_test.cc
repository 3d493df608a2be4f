// match::neededClasses: what bytes a pattern's every match must hold one of
// (the phase scan leaves out a value without any). A mask that misses a byte
// some match holds would leave an attack unscanned: the CRS test below checks
// every CRS pattern the analysis gives a mask against the regression tests'
// payloads with those bytes taken out.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rules/parser.h"
#include "waf/match/needed_bytes.h"
#include "waf/match/regex.h"
#include "waf/transformations/transformation.h"

namespace rampart::waf::match {
namespace {

bool mayMatch(std::string_view pattern, std::string_view value) {
  const auto need = neededClasses(pattern);
  return !need || (*need & byteClasses(value));
}

TEST(NeededBytes, ARareByteOfAConcatenationIsKept) {
  const auto need = neededClasses("(?i)<script[^>]*>");
  ASSERT_TRUE(need);
  EXPECT_TRUE(*need & classOf('<'));
  EXPECT_FALSE(mayMatch("(?i)<script[^>]*>", "948b82b1d910ddd76215f679e38a59aa"));
  EXPECT_TRUE(mayMatch("(?i)<script[^>]*>", "a<b"));
  // Case and bytes from 0x80 go with a letter.
  const auto word = neededClasses("zz");
  ASSERT_TRUE(word);
  EXPECT_EQ(*word, classOf('z') | classOf(0xE9));
  EXPECT_EQ(classOf('Z'), classOf('z'));
}

TEST(NeededBytes, AlternationsNeedEveryBranchs) {
  const auto need = neededClasses("\\{|\\$&|x{2,}");
  ASSERT_TRUE(need);
  for (char c : {'{', '$', 'x'}) EXPECT_TRUE(mayMatch("\\{|\\$&|x{2,}", std::string(1, c))) << c;
  EXPECT_FALSE(mayMatch("\\{|\\$&|x{2,}", "abc 123"));
  EXPECT_FALSE(neededClasses("\\{|a?"));  // a branch that needs nothing
}

TEST(NeededBytes, WhatMayBeAbsentOrConsumesNothingNeedsNothing) {
  for (const char* p : {"a?", "(?:ab)*", "x{0,3}", "x{,3}", "x{0}", "^$", "\\b", "(?=<)", "(?<!a)", "(a?)\\1", "",
                        "(?i)", "[<>]*?"})
    EXPECT_FALSE(neededClasses(p)) << p;
  // ...but the parts around them still do.
  EXPECT_FALSE(mayMatch("\\ba?<", "ab"));
  EXPECT_TRUE(mayMatch("\\ba?<", "<"));
  EXPECT_FALSE(mayMatch("(?=x)<", "x"));
}

TEST(NeededBytes, ClassesAndEscapes) {
  EXPECT_FALSE(mayMatch("[;|`]", "abc"));
  EXPECT_TRUE(mayMatch("[;|`]", "a`"));
  EXPECT_TRUE(mayMatch("[\\x00-\\x1f]", std::string(1, '\x01')));
  EXPECT_TRUE(mayMatch("[\\x00-\\x1f]", "\n"));
  EXPECT_FALSE(mayMatch("[\\x00-\\x08]", "abc\n"));
  EXPECT_TRUE(mayMatch("\\x{ff}", "\xff"));
  EXPECT_TRUE(mayMatch("\\d", "7"));
  EXPECT_FALSE(mayMatch("\\d", "abc"));
  EXPECT_TRUE(mayMatch("\\s", "\t"));
  EXPECT_TRUE(mayMatch("\\s", "\xa0"));  // (bytes from 0x80 count as white space)
  EXPECT_TRUE(mayMatch("[^a]", "b"));    // a negated class needs any byte
  EXPECT_TRUE(mayMatch("[\\w.-]+@", "@"));
  EXPECT_FALSE(mayMatch("[\\w.-]+@", "a.b-c"));  // the @ is rarer: kept
  EXPECT_TRUE(mayMatch("[]x]", "]"));
  EXPECT_TRUE(mayMatch("\\Q*+\\E", "*+"));  // (one of the two is kept)
  EXPECT_FALSE(mayMatch("\\Q*+\\E", "ab"));
  EXPECT_TRUE(mayMatch("(a)\\1", "a"));
  EXPECT_TRUE(mayMatch("a{1,3}b", "ab"));
  EXPECT_TRUE(mayMatch("\\cA", "\x01"));
  EXPECT_TRUE(mayMatch("\\012", "\n"));
}

TEST(NeededBytes, SyntaxBeyondTheAnalysisIsRefused) {
  for (const char* p : {"(?x) a b", "(?(1)a|b)", "\\o{101}", "(?1)", "(?&n)", "a)", "(a", "[a", "x{ 1,3}", "\\"})
    EXPECT_FALSE(neededClasses(p)) << p;
}

TEST(NeededBytes, Phrases) {
  const auto need = neededClassesOfPhrases({"<?php", "union all"});
  ASSERT_TRUE(need);
  EXPECT_TRUE(*need & byteClasses("<?PHP"));
  EXPECT_TRUE(*need & byteClasses("UNION ALL"));
  EXPECT_FALSE(*need & byteClasses("948b82b1d910ddd76215f679e38a59aa"));
  EXPECT_FALSE(neededClassesOfPhrases({}));
  EXPECT_FALSE(neededClassesOfPhrases({"a", ""}));
}

// A payload line as the rules see it after ModSecurity's urlDecode (%XX, '+').
std::string percentDecoded(const std::string& line) {
  std::string out;
  return transformations::find("urlDecode")->fn(line, out) ? out : line;
}

std::string lowered(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Every CRS @rx, @pm and @pmFromFile pattern the analysis gives a mask: none
// matches a regression-test payload (a line of the tests' YAML, as it is and
// percent-decoded) with every byte of the mask's classes taken out, nor
// random strings of the other bytes; and those masks rule out most benign
// values. Read from ../shared/crs in place; skipped without it.
TEST(NeededBytes, CrsPatternsMatchNothingWithoutWhatTheyNeed) {
  const char* env = std::getenv("RAMPART_CRS_DIR");
  const std::string crs = env ? env : std::string(RAMPART_SOURCE_DIR) + "/../shared/crs";
  if (!std::filesystem::exists(crs + "/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"))
    GTEST_SKIP() << "CRS not found at " << crs << " (set RAMPART_CRS_DIR): SKIPPED";
  auto loaded = rules::loadFiles({crs + "/rules/*.conf"});
  ASSERT_TRUE(loaded.ok());
  struct Pattern {
    int64_t id;
    std::string text;  // the regex, or empty for phrases
    std::vector<std::string> phrases;
  };
  std::vector<Pattern> patterns;
  auto add = [&](int64_t id, const rules::Operator& op) {
    if (op.negated) return;
    if (op.name == "rx") {
      patterns.push_back({id, op.argument, {}});
    } else if (op.name == "pm" || op.name == "pmfromfile" || op.name == "pmf") {
      std::vector<std::string> phrases;
      if (op.name == "pm") {
        std::istringstream in(op.argument);
        for (std::string w; in >> w;) phrases.push_back(w);
      } else {
        std::ifstream in(crs + "/rules/" + op.argument);
        for (std::string line; std::getline(in, line);) {
          while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
          if (!line.empty() && line[0] != '#') phrases.push_back(line);
        }
      }
      if (!phrases.empty()) patterns.push_back({id, {}, phrases});
    }
  };
  for (const auto& r : loaded.ruleset.rules) {
    add(r.id, r.op);
    for (const auto& link : r.chain) add(r.id, link.op);
  }
  ASSERT_GT(patterns.size(), 200u);
  // The payloads: the regression tests' lines but for the ones every test
  // repeats (its settings, the stock headers), as they are and decoded.
  std::set<std::string> lines;
  for (const auto& e : std::filesystem::recursive_directory_iterator(crs + "/tests")) {
    if (e.path().extension() != ".yaml") continue;
    std::ifstream in(e.path());
    for (std::string line; std::getline(in, line);) {
      const size_t start = line.find_first_not_of(" -");
      const std::string key = start == std::string::npos ? "" : line.substr(start, line.find(':', start) - start);
      static const std::set<std::string> stock = {"output", "dest_addr", "input", "stages", "headers", "Host",
                                                  "test_id", "log", "port", "version", "method", "desc",
                                                  "expect_ids", "no_expect_ids", "Accept", "User-Agent"};
      if (stock.count(key)) continue;
      lines.insert(line);
      lines.insert(percentDecoded(line));
    }
  }
  const std::vector<std::string> payloads(lines.begin(), lines.end());
  ASSERT_GT(payloads.size(), 3000u);
  std::mt19937 rng(7);
  size_t with_mask = 0, checked = 0;
  for (const auto& p : patterns) {
    const auto need = p.text.empty() ? neededClassesOfPhrases(p.phrases) : neededClasses(p.text);
    if (!need) continue;
    ++with_mask;
    std::unique_ptr<Regex> re;
    std::vector<std::string> phrases;
    for (const auto& ph : p.phrases) phrases.push_back(lowered(ph));
    if (!p.text.empty()) {
      std::string err;
      re = Regex::compile(p.text, {}, &err);
      if (!re) continue;  // (a pattern the engine refuses is no rule's)
    }
    auto matches = [&](const std::string& v) {
      if (re) return re->matches(v);
      const std::string lower = lowered(v);
      for (const auto& ph : phrases)
        if (lower.find(ph) != std::string::npos) return true;
      return false;
    };
    // The bytes the mask leaves: what a value the scan passes over holds.
    std::vector<char> other;
    for (int c = 0; c < 256; ++c)
      if (!(classOf(static_cast<unsigned char>(c)) & *need)) other.push_back(static_cast<char>(c));
    for (const auto& line : payloads) {
      std::string stripped;
      for (char c : line)
        if (!(classOf(static_cast<unsigned char>(c)) & *need)) stripped.push_back(c);
      ++checked;
      ASSERT_FALSE(matches(stripped)) << "rule " << p.id << " matches without the bytes it is said to need: \""
                                      << stripped << "\" (from \"" << line << "\")";
    }
    for (int n = 0; n < 200 && !other.empty(); ++n) {
      std::string s(1 + rng() % 64, ' ');
      for (char& c : s) c = other[rng() % other.size()];
      ASSERT_FALSE(matches(s)) << "rule " << p.id << " matches \"" << s << "\"";
    }
  }
  EXPECT_GT(checked, 0u);
  // Most patterns have a mask (the others are scanned for in every value).
  EXPECT_GT(with_mask * 10, patterns.size() * 7) << with_mask << " of " << patterns.size();
}

}  // namespace
}  // namespace rampart::waf::match
