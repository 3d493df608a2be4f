// The matching building blocks: Regex (RE2 first, PCRE2 fallback) and the
// case-insensitive Aho-Corasick automaton behind @pm.
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

#include "waf/match/aho_corasick.h"
#include "waf/match/hs_prefilter.h"
#include "waf/match/regex.h"
#include "rules/parser.h"

namespace rampart::waf::match {
namespace {

TEST(Regex, Re2UsedWhenPossible) {
  auto re = Regex::compile("a+b", {}, nullptr);
  ASSERT_TRUE(re);
  EXPECT_FALSE(re->usesPcre());
  EXPECT_TRUE(re->matches("xaab"));
}

TEST(Regex, PcreFallbackForLookbehind) {
  std::string err;
  auto re = Regex::compile("(?<=a)b", {}, &err);
  ASSERT_TRUE(re) << err;
  EXPECT_TRUE(re->usesPcre());
  EXPECT_TRUE(re->matches("ab"));
  EXPECT_FALSE(re->matches("cb"));
}

TEST(Regex, CaselessOption) {
  RegexOptions o;
  o.caseless = true;
  auto re = Regex::compile("^id_", o, nullptr);
  EXPECT_TRUE(re->matches("ID_x"));
}

// A pattern that is a literal is looked for without the engine: found at
// every place of values around the 16-byte blocks it is looked for in, in
// either case when caseless, and not where only a part of it or its other
// case is.
TEST(Regex, WholeLiteralFoundAtEveryPlace) {
  for (bool caseless : {false, true}) {
    RegexOptions o;
    o.caseless = caseless;
    for (const std::string lit : {"x", "sel", "select", "<script", "0123456789abcdefghij"}) {
      auto re = Regex::compile(lit, o, nullptr);
      ASSERT_TRUE(re);
      for (size_t len = lit.size(); len <= 40; ++len)
        for (size_t at = 0; at + lit.size() <= len; ++at) {
          std::string v(len, '.');
          v.replace(at, lit.size(), lit);
          EXPECT_TRUE(re->matches(v)) << lit << " at " << at << " of " << len;
          std::string upper = v;
          for (auto& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
          const bool has_letter = std::any_of(lit.begin(), lit.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
          EXPECT_EQ(re->matches(upper), caseless || !has_letter) << lit << " upper at " << at << " of " << len;
          if (lit.size() > 1) {
            std::string cut = v;
            cut[at + lit.size() - 1] = '.';  // all but its last byte
            EXPECT_FALSE(re->matches(cut)) << lit << " cut at " << at << " of " << len;
          }
        }
      EXPECT_FALSE(re->matches(std::string(lit.size() - 1, lit[0])));
    }
  }
}

// A pattern as a rule's (caseless: with the engine's caseless option, as a
// selector's), and the case tables of the tests that take only that.
std::unique_ptr<Regex> compileAs(const char* pattern, bool caseless) {
  RegexOptions o;
  o.caseless = caseless;
  return Regex::compile(pattern, o, nullptr);
}
struct PatternCase {
  const char* pattern;
  bool caseless;
};

// A pattern that starts with a literal rejects inputs without it before the
// engine runs: the answers are the engine's, quantified last characters and
// alternations included.
TEST(Regex, LeadingLiteralGuardKeepsTheEnginesAnswers) {
  struct Case {
    const char* pattern;
    bool caseless;
    const char* input;
    bool match;
  } cases[] = {
      {"MULTIPART_HEADERS_CONTENT_TYPES_*", true, "tx:multipart_headers_content_types_x", true},
      {"MULTIPART_HEADERS_CONTENT_TYPES_*", true, "multipart_headers_content_types", true},  // '_*': optional
      {"MULTIPART_HEADERS_CONTENT_TYPES_*", true, "multipart_headers", false},
      {"ab?c", false, "ac", true},
      {"ab?c", false, "xbc", false},
      {"abc+d", false, "zabcccd", true},
      {"abc+d", false, "abd", false},
      {"ab|cd", false, "xcd", true},
      {"^x\\.y[0-9]", false, "x.y7", true},
      {"^x\\.y[0-9]", false, "ax.y7", false},
      {"^id_\\d", true, "ID_7", true},
      {"ab{2}c", false, "abbc", true},
      // \xHH escapes, and an optional first atom before the literal.
      {"\\x22?\\x24Version", false, "$Version", true},
      {"\\x22?\\x24Version", false, "a\"$Version=1", true},
      {"\\x22?\\x24Version", false, "Version", false},
      {"\\x22?\\x24Version", false, "$versio", false},
      {"^a?bc", false, "bc", true},
      {"^a?bc", false, "abcd", true},
      {"^a?bc", false, "xbc", false},
      {"^a?bc$", false, "abcx", false},
      {"a?bc", false, "xxbc", true},
      {"a?b?", false, "", true},
      {"^\\x41\\x2fB", true, "a/b", true},
      {"^\\x41\\x2fB", true, "xa/b", false},
      {"x\\x41*y", false, "xy", true},
      {"x\\x41*y", false, "xAAy", true},
  };
  for (const auto& c : cases) {
    auto re = compileAs(c.pattern, c.caseless);
    ASSERT_TRUE(re) << c.pattern;
    EXPECT_EQ(re->matches(c.input), c.match) << c.pattern << " on " << c.input;
    std::string_view cap;
    EXPECT_EQ(re->match(c.input, &cap, 1) > 0, c.match) << c.pattern << " on " << c.input;
  }
}

// A pattern with no leading literal but a few literals every match holds (RE2's
// prefilter atoms) is tried by RE2 only on inputs holding one: the answers are
// RE2's own, on inputs made of those literals' pieces in either case.
// Inputs joined from 1 to `most` pieces, drawn by a xorshift from a fixed seed.
struct Pieces {
  uint64_t state;
  uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  template <size_t N>
  std::string join(const char* const (&pieces)[N], int most) {
    std::string s;
    for (int k = int(next() % uint64_t(most)); k >= 0; --k) s += pieces[next() % N];
    return s;
  }
};

// Regex's answers on `input` (matches(), and match() with the whole match
// only: found or not, and where) are RE2's; *found: RE2's.
testing::AssertionResult answersAsRe2(const Regex& re, const RE2& plain, const std::string& input, bool* found) {
  re2::StringPiece whole;
  *found = plain.Match(input, 0, input.size(), RE2::UNANCHORED, &whole, 1);
  std::string_view cap;
  if (re.matches(input) != *found || (re.match(input, &cap, 1) > 0) != *found)
    return testing::AssertionFailure() << plain.pattern() << " on " << input << ": RE2 says " << *found;
  if (*found && (cap.data() != whole.data() || cap.size() != whole.size()))
    return testing::AssertionFailure() << plain.pattern() << " on " << input << ": the match [" << cap
                                       << "], RE2's [" << std::string_view(whole.data(), whole.size()) << "]";
  return testing::AssertionSuccess();
}

// `count` inputs joined from up to `most` of `pieces`, each answered by
// Regex as by RE2 (answersAsRe2); how many matched.
template <size_t N>
int matchedAsRe2(const Regex& re, const RE2& plain, Pieces& random, const char* const (&pieces)[N], int most,
                 int count) {
  int matched = 0;
  for (int n = 0; n < count; ++n) {
    bool want = false;
    const testing::AssertionResult same = answersAsRe2(re, plain, random.join(pieces, most), &want);
    EXPECT_TRUE(same);
    if (!same) break;
    matched += want;
  }
  return matched;
}

// Regex's match() of `input` with up to 10 groups is RE2's: found or not, and
// the whole match and each group the same bytes of the input (an empty group
// anywhere, set or not, is the empty string); *found: RE2's.
testing::AssertionResult groupsAsRe2(const Regex& re, const RE2& plain, const std::string& input, bool* found) {
  const int n = std::min(10, plain.NumberOfCapturingGroups() + 1);
  re2::StringPiece want[10];
  *found = plain.Match(input, 0, input.size(), RE2::UNANCHORED, want, n);
  std::string_view got[10];
  const int k = re.match(input, got, 10);
  if (k != (*found ? n : 0))
    return testing::AssertionFailure() << plain.pattern() << " on " << input << ": " << k << " groups, RE2 "
                                       << (*found ? n : 0);
  for (int i = 0; i < k; ++i) {
    if (want[i].empty() && got[i].empty()) continue;
    if (got[i].data() != want[i].data() || got[i].size() != want[i].size())
      return testing::AssertionFailure() << plain.pattern() << " on " << input << ": group " << i << " [" << got[i]
                                         << "], RE2's [" << std::string_view(want[i].data(), want[i].size()) << "]";
  }
  return testing::AssertionSuccess();
}

// A literal whose last atom is repeated or optional, with nothing after it
// (TX:/MULTIPART_HEADERS_CONTENT_TYPES_*/), is found where the literal is:
// compared bytes, the engine's answers (RE2's, on inputs of the literal's
// pieces), and an anchored caseless one is a key range (onlyAnchoredLiteral).
TEST(Regex, LiteralWithARepeatedLastAtomIsALiteral) {
  const PatternCase cases[] = {{"MULTIPART_HEADERS_CONTENT_TYPES_*", true}, {"abc_+", false}, {"^ab_?", true},
               {"ab\\.*?", false},  {"x\\x41*", false},                 {"^ab_*c", true}};
  const char* pieces[] = {"MULTIPART_HEADERS_CONTENT_TYPES", "multipart_headers_content_types", "MULTIPART_", "_",
                          "a", "ab", "AB", "abc", "abc_", "c", ".", "x", "xA", "A", "z", "\xe9"};
  Pieces random{0x94D049BB133111EBull};
  for (const auto& c : cases) {
    auto re = compileAs(c.pattern, c.caseless);
    ASSERT_TRUE(re) << c.pattern;
    const auto plain = compileRe2(c.pattern, c.caseless);
    ASSERT_TRUE(plain->ok());
    EXPECT_GT(matchedAsRe2(*re, *plain, random, pieces, 5, 3000), 100) << c.pattern;
  }
  EXPECT_TRUE(compileAs("^ab_?", true)->onlyAnchoredLiteral());
  EXPECT_EQ(compileAs("^ab_?", true)->anchoredLiteral(), "ab");
  EXPECT_FALSE(compileAs("^ab_*c", true)->onlyAnchoredLiteral());
  EXPECT_FALSE(Regex::compile("^ab_*", RegexOptions{}, nullptr)->onlyAnchoredLiteral());  // (caseless only)
}

TEST(Regex, AtomGuardKeepsRe2sAnswers) {
  struct Case {
    const char* pattern;
    bool caseless;
    bool guarded;  // has atoms
  } cases[] = {
      {R"(_(?:\$\$ND_FUNC\$\$_|_js_function)|(?:\beval|new[\s\x0b]+Function[\s\x0b]*)\(|this\.constructor)", false, true},
      {R"((?i)<(?:script|style|iframe)\b[^>]*>)", false, true},
      {R"((?:select|union)\s.{0,40}from)", true, true},
      {R"([a-z]+=\d{3,}|sleep\()", false, false},  // a branch with no literal: no guard
      {R"(\d+abc)", false, false},                // a leading literal? no; 'abc' is an atom
  };
  const char* pieces[] = {"eval", "EVAL", "(", " ", "new", "Function", "FUNCTION", "this.", "constructor", "_$$ND_FUNC$$_",
                          "__js_function", "<", ">", "script", "SCRIPT", "style", "iframe", "select", "SELECT", "union",
                          "from", "FROM", "<SCRIPT", "<iframe ", "x", "1", "12345", "a=", "sleep(", "abc", "ABC", "\x0b", "$", "_", "\xe9"};
  Pieces random{0x2545F4914F6CDD1Dull};
  for (const auto& c : cases) {
    auto re = compileAs(c.pattern, c.caseless);
    ASSERT_TRUE(re) << c.pattern;
    if (c.guarded) {
      EXPECT_GT(re->atomCount(), 0u) << c.pattern;
    } else if (std::string_view(c.pattern).find('|') != std::string_view::npos) {
      EXPECT_EQ(re->atomCount(), 0u) << c.pattern;
    }
    const auto plain = compileRe2(c.pattern, c.caseless);
    ASSERT_TRUE(plain->ok());
    EXPECT_GT(matchedAsRe2(*re, *plain, random, pieces, 7, 3000), 0) << c.pattern << ": the inputs never matched";
  }
}

// A pattern whose every match needs a byte of some classes (neededClasses:
// CRS's command lists need one of `;|&$<>(` and the like) is run only on an
// input holding one: the answers stay RE2's (PCRE2's for a lookbehind), on
// inputs with and without those bytes; a RegexSet asks its DFA only of an
// input holding a byte one of its members needs.
TEST(Regex, NeededBytesKeepTheEnginesAnswers) {
  const char* patterns[] = {R"((?:[;\n\r|&`]|\$\()\s*(?:cat|ls|id)\b)", R"((?i)[<>][\s/]*(?:script|img)\b)",
                            R"(\.\./|%2e%2e)", R"((?i)(?:\bor\b|\|\|)\s*\d+\s*=)"};
  const char* pieces[] = {"cat", "ls", "id", " ", ";", "|", "&", "`", "$(", "\n", "<", ">", "/", "script", "SCRIPT",
                          "img", "../", "..", ".", "%2e", "%2E", "or", "OR", "||", "1", "=", "x", "abc", "\xe9",
                          "<script", "/img", " or 1=", "||2 ="};
  Pieces random{0xD1B54A32D192ED03ull};
  for (const char* p : patterns) {
    auto re = Regex::compile(p, {}, nullptr);
    ASSERT_TRUE(re) << p;
    ASSERT_NE(re->need(), Regex::kNoNeed) << p << ": no need found (the test would not test it)";
    const auto plain = compileRe2(p, false);
    ASSERT_TRUE(plain->ok());
    int matched = 0, without = 0;
    for (int n = 0; n < 4000; ++n) {
      const std::string input = random.join(pieces, 6);
      bool want = false;
      ASSERT_TRUE(answersAsRe2(*re, *plain, input, &want));
      matched += want;
      without += (byteClasses(input) & re->need()) == 0;
    }
    EXPECT_GT(matched, 100) << p;
    EXPECT_GT(without, 100) << p << ": the inputs always held a needed byte";
  }
  // PCRE2's (a lookbehind): "ab;" is the only way to match.
  auto pcre = Regex::compile("(?<=a)b;", {}, nullptr);
  ASSERT_TRUE(pcre && pcre->usesPcre());
  ASSERT_NE(pcre->need(), Regex::kNoNeed);
  const char* bits[] = {"a", "b", ";", "ab", "b;", "x", " "};
  for (int n = 0; n < 4000; ++n) {
    const std::string input = random.join(bits, 6);
    ASSERT_EQ(pcre->matches(input), input.find("ab;") != std::string::npos) << input;
  }
  // A set: an input without its members' needs is answered without its DFA,
  // and every answer is its members' (as RE2 gives them).
  std::vector<std::unique_ptr<Regex>> owned;
  std::vector<const Regex*> members;
  for (const char* p : {patterns[0], patterns[2]}) {
    owned.push_back(Regex::compile(p, {}, nullptr));
    members.push_back(owned.back().get());
  }
  auto set = RegexSet::build(members);
  ASSERT_TRUE(set);
  const auto first = compileRe2(patterns[0], false), second = compileRe2(patterns[2], false);
  EXPECT_FALSE(set->mayMatch("session 48b82b1d910ddd76"));
  EXPECT_TRUE(set->mayMatch("a;b"));
  for (int n = 0; n < 4000; ++n) {
    const std::string input = random.join(pieces, 6);
    uint64_t got = 0;
    ASSERT_TRUE(set->match(input, &got));
    for (size_t i = 0; i < members.size(); ++i)
      ASSERT_EQ((got >> i & 1) != 0, RE2::PartialMatch(input, i == 0 ? *first : *second)) << input;
  }
}

// A short input is matched by PCRE2's JIT where the pattern reads alike in
// both engines (Regex::pcre_first_): the answers, the match's span and its
// groups stay RE2's (leftmost, the same alternative first), on inputs with
// \x0b, Latin-1 letters and longer than kFirstInputMax (RE2's then); where
// the engines differ, RE2's: \s and \x0b, a caseless Latin-1 letter, a
// pattern past PCRE2's budget.
TEST(Regex, ShortInputsByPcreKeepRe2sAnswers) {
  const PatternCase cases[] = {
      {R"((?i)^(?:connect (?:(?:[0-9]{1,3}\.){3}[0-9]{1,3}\.?(?::[0-9]+)?|[\--9A-Z_a-z]+:[0-9]+)|options \*|[a-z]{3,10}[\s\x0b]+(?:[0-9A-Z_a-z]{3,7}?://[\--9A-Z_a-z]*(?::[0-9]+)?)?/[^#\?]*(?:\?[^\s\x0b#]*)?(?:#[^\s\x0b]*)?)[\s\x0b]+[\.-9A-Z_a-z]+$)",
       false},
      {R"(^content-type\s*:\s*(.*)$)", true},
      {R"([^\x21-\x7E][\x21-\x39\x3B-\x7E]*:)", false},
      {R"((a|ab)(c|bcd)(d*))", false},
      {R"(\bget\b\s+(\w+)|(\d+)\W)", true},
      {R"(x(a*)*y|(b+?)c)", false},
  };
  const char* pieces[] = {"GET", "get", " ", "/", "/a?b=1", "#x", "HTTP/1.1", "connect ", "1.2.3.4", ":80",
                          "content-type", "Content-Type", ":", " text/html", "\x0b", "\t", "a", "ab", "b", "c",
                          "bcd", "d", "x", "y", "12", "=", "\xe9", "\xc9", "options *", "\r\n", "GET /a?b=1 HTTP/1.1",
                          "Content-Type: text/html", "get /x#y http/2"};
  Pieces random{0xA0761D6478BD642Full};
  for (const auto& c : cases) {
    auto re = compileAs(c.pattern, c.caseless);
    ASSERT_TRUE(re && !re->usesPcre()) << c.pattern;
    const auto plain = compileRe2(c.pattern, c.caseless);
    ASSERT_TRUE(plain->ok());
    int matched = 0;
    for (int k = 0; k < 4000; ++k) {
      std::string input = random.join(pieces, 8);
      if (k % 50 == 0) input = std::string(1100, 'a') + input;  // past kFirstInputMax: RE2's
      bool found = false;
      ASSERT_TRUE(groupsAsRe2(*re, *plain, input, &found));
      ASSERT_EQ(re->matches(input), found) << c.pattern << " on " << input;
      matched += found;
    }
    EXPECT_GT(matched, 5) << c.pattern;
  }
  // Where the engines differ, RE2's answer: \s does not hold \x0b for RE2
  // (PCRE2's does), a caseless Latin-1 letter folds for RE2 only.
  auto space = Regex::compile(R"(a\sb)", {}, nullptr);
  EXPECT_FALSE(space->matches("a\x0b" "b"));
  EXPECT_TRUE(space->matches("a b"));
  auto latin = compileAs("x\xe9", true);
  EXPECT_TRUE(latin->matches("X\xc9"));
  auto latin_escape = compileAs(R"(x\xe9)", true);
  EXPECT_TRUE(latin_escape->matches("X\xc9"));
  // Past PCRE2's budget (its backtracking on a run of a's): RE2's answer.
  auto heavy = Regex::compile(R"((a|aa)+(b|c)+d)", {}, nullptr);
  EXPECT_FALSE(heavy->matches(std::string(60, 'a') + "bcx"));
  EXPECT_TRUE(heavy->matches(std::string(60, 'a') + "bcd"));
}

// A RegexSet of patterns RE2 runs as they are (plainRe2), and its members.
struct SetOf {
  std::vector<std::unique_ptr<Regex>> owned;
  std::vector<const Regex*> members;
  std::unique_ptr<RegexSet> set;
};
template <size_t N>
void buildSet(const char* const (&patterns)[N], SetOf& s) {
  for (const char* p : patterns) {
    std::string err;
    s.owned.push_back(Regex::compile(p, {}, &err));
    ASSERT_TRUE(s.owned.back() && s.owned.back()->plainRe2()) << p << " " << err;
    s.members.push_back(s.owned.back().get());
  }
  s.set = RegexSet::build(s.members);
  ASSERT_TRUE(s.set);
}

// One pass of a RegexSet says for each member what Regex::matches says.
TEST(RegexSet, AgreesWithItsMembers) {
  const char* patterns[] = {"(?i)b[\"'\\\\]*u[\"'\\\\]*s[\"'\\\\]*y", "^(?:x*|abc)$", "(?:;|^)\\s*ls\\b", "[0-9]{3,}",
                            "[ab].c", "(?i)select\\s+\\w+\\s+from"};
  SetOf built;
  ASSERT_NO_FATAL_FAILURE(buildSet(patterns, built));
  const auto& members = built.members;
  const auto& set = built.set;
  std::mt19937 rng(3);
  const std::string alphabet = "abcxBUSY\"'\\ ;ls0123456789\nSELECT from";
  size_t matched = 0;
  for (int k = 0; k < 20000; ++k) {
    std::string in;
    const int len = static_cast<int>(rng() % 16);
    for (int i = 0; i < len; ++i) in.push_back(alphabet[rng() % alphabet.size()]);
    uint64_t bits = 0;
    ASSERT_TRUE(set->match(in, &bits));
    for (size_t i = 0; i < members.size(); ++i) {
      ASSERT_EQ((bits >> i & 1) != 0, members[i]->matches(in)) << patterns[i] << " on \"" << in << "\"";
      matched += bits >> i & 1;
    }
  }
  EXPECT_GT(matched, 1000u);
  // Not for a pattern with a cheaper test of its own, nor for PCRE2's.
  std::string err;
  auto literal = Regex::compile("^header_", {}, &err);
  auto pcre = Regex::compile("(?<=a)b", {}, &err);
  EXPECT_FALSE(literal->plainRe2());
  EXPECT_FALSE(RegexSet::build({members[0], literal.get()}));
  EXPECT_FALSE(RegexSet::build({members[0], pcre.get()}));
}

// Values asked at once: whenever a member matches one of them alone, the
// joined question does not answer "none" (^ and $ hold at each value's ends,
// \b beside the '\n's as beside the text's ends), and it does answer "none"
// when none matches. No joined form for a member that asserts the text's own
// ends or turns multi-line mode off.
TEST(RegexSet, JoinedValuesNeverHideAMatch) {
  const char* patterns[] = {"^(?:x*|abc)$", "(?:;|^)\\s*ls\\b", "[de]ef$", "\\bxyz\\b", "[0-9]{3,}",
                            "(?i)b[\"'\\\\]*u[\"'\\\\]*s[\"'\\\\]*y", "^$"};
  SetOf built;
  ASSERT_NO_FATAL_FAILURE(buildSet(patterns, built));
  const auto& members = built.members;
  const auto& set = built.set;
  ASSERT_TRUE(set->canJoin());
  std::mt19937 rng(5);
  const std::string alphabet = "abcdefxyzlsBUSY\"'\\ ;0123\n";
  size_t none = 0, some = 0;
  for (int k = 0; k < 20000; ++k) {
    std::string joined;
    bool any = false;
    const int values = 1 + static_cast<int>(rng() % 5);
    for (int v = 0; v < values; ++v) {
      std::string in;
      const int len = static_cast<int>(rng() % 8);
      for (int i = 0; i < len; ++i) in.push_back(alphabet[rng() % alphabet.size()]);
      for (const Regex* m : members) any = any || m->matches(in);
      if (v > 0) joined.push_back('\n');
      joined.append(in);
    }
    if (any) {
      ASSERT_FALSE(set->noneMatchJoined(joined)) << "\"" << joined << "\"";
      ++some;
    } else {
      none += set->noneMatchJoined(joined);
    }
  }
  EXPECT_GT(some, 1000u);
  EXPECT_GT(none, 100u);  // (the answer "none" is given)
  for (const char* p : {"\\A[ab]+c", "[ab]+c\\z", "(?-m)^[ab]+c", "(?i-sm:^[ab]+c)"}) {
    std::string err;
    auto re = Regex::compile(p, {}, &err);
    ASSERT_TRUE(re && re->plainRe2()) << p << " " << err;
    auto with = RegexSet::build({members[0], re.get()});
    ASSERT_TRUE(with) << p;
    EXPECT_FALSE(with->canJoin()) << p;
    EXPECT_FALSE(with->noneMatchJoined("zzz\n")) << p;
  }
}

TEST(Regex, MatchLimitStopsCatastrophicBacktracking) {
  RegexOptions o;
  o.match_limit = 1000;
  auto re = Regex::compile("^(a+)+\\1$", o, nullptr);  // backreference: PCRE2
  ASSERT_TRUE(re);
  ASSERT_TRUE(re->usesPcre());
  std::string evil(40, 'a');
  evil += "b";
  EXPECT_FALSE(re->matches(evil));  // a limit error counts as no match, and returns quickly
}

TEST(Regex, MatchEverythingPatternsAgreeWithRe2) {
  // ^.*$ and friends take a fast path; the answers are RE2's (dot matches newline, $ at the end).
  for (const char* p : {"^.*$", ".*", "^.*", ".*$"}) {
    auto fast = Regex::compile(p, {}, nullptr);
    const auto slow = compileRe2(p, false);
    for (std::string_view in : {std::string_view(""), std::string_view("Content-Type"),
                                std::string_view("a\nb"), std::string_view("x\0y", 3)}) {
      re2::StringPiece sp;
      ASSERT_TRUE(slow->Match(in, 0, in.size(), RE2::UNANCHORED, &sp, 1));
      std::string_view cap;
      EXPECT_TRUE(fast->matches(in));
      EXPECT_EQ(fast->match(in, &cap, 1), 1);
      EXPECT_EQ(cap, std::string_view(sp.data(), sp.size())) << p;
    }
  }
}

// A match's groups are found by PCRE2 where RE2's match is (RE2's own search
// for them allocates its state at every call): the same as RE2's, also where
// PCRE2 would not match there (a Latin-1 letter of another case: RE2's groups
// are taken), but for a group that can match nothing inside a repeat
// (GroupOfAnEmptyLastTurnIsPcres).
TEST(Regex, GroupsAreRe2s) {
  const PatternCase cases[] = {
      {R"(\.([^.]+)$)", false},                      // 920440's extension
      {R"(^([^=]+)=(.*)$)", false},
      {R"((a|ab)(c|bcd)(d*))", false},                // leftmost-first, not longest
      {R"((a)|(b)|(c))", false},                      // unset groups
      {R"(((a)|b)+)", false},                         // a group in a repeat: its last turn
      {R"((x?)(x?)(x))", false},
      {R"(\b(\w+)@(\w+)\.com\b)", false},            // \b before the match's start
      {R"((?i)(select)\s+(\w+)\s+(from))", false},
      {R"((caf\xc9)(s?))", true},                     // RE2 folds the Latin-1 letter, PCRE2 does not
      {R"(^(?:(GET)|(POST)) (/\S*))", false},
  };
  const char* pieces[] = {"a", "b", "c", "d", "ab", "bcd", "x", "xx", ".", "..", "=", "==", "@", "example", ".com",
                          " ", "select", "SELECT", "from", "FROM", "id", "caf\xe9", "CAF\xc9", "s", "GET", "POST",
                          "/", "/p", "\n", "\xe9", "select id from", "GET /x", "POST /", "me@example.com", "abc",
                          "abcd"};
  Pieces random{0x9E3779B97F4A7C15ull};
  for (const auto& c : cases) {
    auto re = compileAs(c.pattern, c.caseless);
    ASSERT_TRUE(re && !re->usesPcre()) << c.pattern;
    auto plain = compileRe2(c.pattern, c.caseless);
    ASSERT_TRUE(plain->ok());
    int matched = 0;
    for (int k = 0; k < 4000; ++k) {
      bool hit = false;
      ASSERT_TRUE(groupsAsRe2(*re, *plain, random.join(pieces, 8), &hit));
      matched += hit;
    }
    EXPECT_GT(matched, 50) << c.pattern << ": the inputs seldom matched";
  }
}

// A group that can match nothing, repeated: its value is that of the
// repeat's last turn, which PCRE (ModSecurity's engine) takes to be the empty
// one after the last character, where RE2 keeps the turn before it.
TEST(Regex, GroupOfAnEmptyLastTurnIsPcres) {
  std::string_view caps[2];
  auto star = Regex::compile("(a*)*b", {}, nullptr);
  ASSERT_EQ(star->match("xaab", caps, 2), 2);
  EXPECT_EQ(caps[0], "aab");
  EXPECT_EQ(caps[1], "");
  auto plus = Regex::compile("(a*)+$", {}, nullptr);
  ASSERT_EQ(plus->match("aa", caps, 2), 2);
  EXPECT_EQ(caps[0], "aa");
  EXPECT_EQ(caps[1], "");
}

// A pattern PCRE2 would backtrack through at length before reaching the match
// RE2 found (its first branch fails on every split of the a's): past a small
// budget the groups are RE2's.
TEST(Regex, GroupsPastPcresBudgetAreRe2s) {
  auto re = Regex::compile("(a*)*b|(a+)c?", {}, nullptr);
  ASSERT_TRUE(re && !re->usesPcre());
  const std::string input = "x" + std::string(40, 'a');
  std::string_view caps[3];
  ASSERT_EQ(re->match(input, caps, 3), 3);
  EXPECT_EQ(caps[0], std::string(40, 'a'));
  EXPECT_TRUE(caps[1].empty());
  EXPECT_EQ(caps[2], std::string(40, 'a'));
}

TEST(Regex, UnsetGroupIsEmpty) {
  auto re = Regex::compile("(a)|(b)", {}, nullptr);
  std::string_view caps[3];
  int n = re->match("b", caps, 3);
  ASSERT_EQ(n, 3);
  EXPECT_TRUE(caps[1].empty());
  EXPECT_EQ(caps[2], "b");
}

TEST(AhoCorasick, FindsEarliestEnd) {
  AhoCorasick ac;
  ac.add("he");
  ac.add("she");
  ac.add("hers");
  ac.build();
  auto h = ac.findFirst("ushers");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->pos, 1u);  // "she" ends at 4, the longest literal ending there
  EXPECT_EQ(h->len, 3u);
}

TEST(AhoCorasick, CaseFolding) {
  AhoCorasick ac;
  ac.add("SeLeCt");
  ac.build();
  EXPECT_TRUE(ac.findFirst("xselectx"));
  EXPECT_TRUE(ac.findFirst("SELECT"));
  EXPECT_FALSE(ac.findFirst("selec"));
}

TEST(AhoCorasick, EmptySetNeverMatches) {
  AhoCorasick ac;
  ac.add("");
  ac.build();
  EXPECT_FALSE(ac.findFirst("anything"));
  EXPECT_EQ(ac.size(), 0u);
}

TEST(AhoCorasick, BinaryBytes) {
  AhoCorasick ac;
  ac.add(std::string("\x00\xff", 2));
  ac.build();
  EXPECT_TRUE(ac.findFirst(std::string("a\x00\xff", 3)));
  EXPECT_FALSE(ac.findFirst(std::string("a\xff\x00", 3)));
}

// Randomised comparison with a naive search, on a set large enough for many states.
TEST(AhoCorasick, AgreesWithNaiveSearch) {
  std::mt19937 rng(7);
  auto word = [&](int len) {
    std::string w;
    for (int i = 0; i < len; ++i) w.push_back("abcAB/._"[rng() % 8]);
    return w;
  };
  std::vector<std::string> words;
  AhoCorasick ac;
  for (int i = 0; i < 2000; ++i) {
    words.push_back(word(2 + rng() % 6));
    ac.add(words.back());
  }
  ac.build();
  auto lower = [](std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (int t = 0; t < 300; ++t) {
    std::string text = word(rng() % 12);
    std::string lt = lower(text);
    bool naive = false;
    for (auto& w : words)
      if (lt.find(lower(w)) != std::string::npos) naive = true;
    auto hit = ac.findFirst(text);
    ASSERT_EQ(naive, hit.has_value()) << text;
    if (hit) {
      std::string found = lower(text.substr(hit->pos, hit->len));
      bool listed = false;
      for (auto& w : words)
        if (lower(w) == found) listed = true;
      EXPECT_TRUE(listed) << found;
    }
  }
}

}  // namespace
}  // namespace rampart::waf::match

namespace rampart::waf::match {
namespace {

TEST(HsPrefilter, ReportsPossibleMatchesOnly) {
  HsPrefilter db;
  int a = db.add("(?i)union\\s+select", true);
  int b = db.add("^abc$", true);
  int c = db.add("caf\xc3\xa9", true);  // bytes >= 0x80: as they are (RE2 runs Latin-1)
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  ASSERT_GE(c, 0);
  EXPECT_EQ(db.add("(?i)caf\xc3\xa9", true), -1);  // RE2 folds Latin-1 letters, Hyperscan does not
  ASSERT_TRUE(db.build());
  std::vector<uint8_t> hits;
  ASSERT_TRUE(db.scan("1 UNION  SELECT 2", hits));
  EXPECT_EQ(hits[a], 1);
  EXPECT_EQ(hits[b], 0);
  EXPECT_EQ(hits[c], 0);
  ASSERT_TRUE(db.scan("un caf\xc3\xa9", hits));
  EXPECT_EQ(hits[c], 1);
  ASSERT_TRUE(db.scan("abc", hits));
  EXPECT_EQ(hits[a], 0);
  EXPECT_EQ(hits[b], 1);
}

// Values scanned as one buffer, '\n' between them: ^ and $ hold at every value's edges.
TEST(HsPrefilter, AnchorsHoldAtEveryValueOfABatch) {
  HsPrefilter db;
  int whole = db.add("^abc$", true);
  int start = db.add("^x=", true);
  int end = db.add("\\.php$", true);
  ASSERT_TRUE(db.build());
  std::vector<uint8_t> hits;
  ASSERT_TRUE(db.scan("first\nabc\nlast\n", hits));
  EXPECT_EQ(hits[whole], 1);
  EXPECT_EQ(hits[start], 0);
  EXPECT_EQ(hits[end], 0);
  ASSERT_TRUE(db.scan("a\nx=1\n/index.php\n", hits));
  EXPECT_EQ(hits[whole], 0);
  EXPECT_EQ(hits[start], 1);
  EXPECT_EQ(hits[end], 1);
}

// What would drop a match in a batch, or where Hyperscan and RE2 differ, is refused or rewritten.
TEST(HsPrefilter, FindsLineAnchorsOutsideClasses) {
  EXPECT_TRUE(HsPrefilter::usesLineAnchors("^admin"));
  EXPECT_TRUE(HsPrefilter::usesLineAnchors("admin$"));
  EXPECT_TRUE(HsPrefilter::usesLineAnchors("(?:^|;)ls"));
  EXPECT_TRUE(HsPrefilter::usesLineAnchors("[^a]x|y$"));
  EXPECT_TRUE(HsPrefilter::usesLineAnchors("[]^]$"));
  EXPECT_TRUE(HsPrefilter::usesLineAnchors("\\Q^\\E"));  // quoted text is not read: taken as anchored
  EXPECT_FALSE(HsPrefilter::usesLineAnchors("[^a-z]select"));
  EXPECT_FALSE(HsPrefilter::usesLineAnchors("a\\^b\\$c"));
  EXPECT_FALSE(HsPrefilter::usesLineAnchors("[\\n\\r;`$]ls"));
  EXPECT_FALSE(HsPrefilter::usesLineAnchors("[]^$]"));
}

TEST(HsPrefilter, TranslationKeepsRe2Semantics) {
  EXPECT_EQ(HsPrefilter::translate("\\Aadmin", true), "");  // absolute anchors
  EXPECT_EQ(HsPrefilter::translate("admin\\z", true), "");
  EXPECT_EQ(HsPrefilter::translate("admin\\Z", false), "");
  // Bytes >= 0x80 as they are, unless case is ignored (RE2 folds Latin-1 letters).
  EXPECT_EQ(HsPrefilter::translate("a\\x85", true), "a\\x85");
  EXPECT_EQ(HsPrefilter::translate("[a-z\\x7f-\\x{ff}]", true), "[a-z\\x7f-\\xff]");
  EXPECT_EQ(HsPrefilter::translate("\xbc[^>]", true), "\\xbc[^>]");
  EXPECT_EQ(HsPrefilter::translate("(?i)a\\x85", true), "");
  EXPECT_EQ(HsPrefilter::translate("(?si:a)\\x{e9}", true), "");
  EXPECT_EQ(HsPrefilter::translate("(?i)caf\xe9", true), "");
  EXPECT_EQ(HsPrefilter::translate("(?i)a\\x7f", true), "(?i)a\\x7f");
  EXPECT_EQ(HsPrefilter::translate("a\\x{100}", true), "");  // wider than a byte
  // RE2's \s has no \v: spelled out, inside and outside classes; PCRE2 patterns keep theirs.
  EXPECT_EQ(HsPrefilter::translate("a\\sb", true), "a[\\t\\n\\f\\r\\x20]b");
  EXPECT_EQ(HsPrefilter::translate("a[^\\s]b", true), "a[^\\t\\n\\f\\r\\x20]b");
  EXPECT_EQ(HsPrefilter::translate("a\\Sb", true), "a[^\\t\\n\\f\\r\\x20]b");
  EXPECT_EQ(HsPrefilter::translate("a\\sb", false), "a\\sb");
  EXPECT_EQ(HsPrefilter::translate("<s>[\\s\\S]*?", true),
            "<s>[\\t\\n\\f\\r\\x20\\x00-\\x08\\x0b\\x0e-\\x1f\\x21-\\xff]*?");
  // A ']' first in a class and POSIX classes do not end the class early.
  EXPECT_EQ(HsPrefilter::translate("[]\\s]x", true), "[]\\t\\n\\f\\r\\x20]x");
  EXPECT_EQ(HsPrefilter::translate("[[:alpha:]\\s]", true), "[[:alpha:]\\t\\n\\f\\r\\x20]");
  // \A inside a class is not an anchor (and Hyperscan judges it).
  HsPrefilter db;
  int id = db.add("a\\Sb", true);
  ASSERT_GE(id, 0);
  ASSERT_TRUE(db.build());
  std::vector<uint8_t> hits;
  ASSERT_TRUE(db.scan("a\vb", hits));  // RE2's \S takes \v, so the prefilter must too
  EXPECT_EQ(hits[id], 1);
  EXPECT_TRUE(RE2::PartialMatch("a\vb", "a\\Sb"));
}

// @pm phrases: any of them, ASCII case ignored, punctuation taken literally.
TEST(HsPrefilter, PhraseSets) {
  HsPrefilter db;
  int id = db.addPhrases({"/etc/passwd", "a.b", "(x)"});
  int high = db.addPhrases({"caf\xc3\xa9"});  // bytes >= 0x80 match as they are
  EXPECT_EQ(db.addPhrases({}), -1);
  ASSERT_GE(high, 0);
  ASSERT_GE(id, 0);
  ASSERT_TRUE(db.build());
  std::vector<uint8_t> hits;
  ASSERT_TRUE(db.scan("q=1\nfile=/ETC/PASSWD\n", hits));
  EXPECT_EQ(hits[id], 1);
  ASSERT_TRUE(db.scan("axb\nx\n", hits));  // '.' is a dot, '(' a parenthesis
  EXPECT_EQ(hits[id], 0);
  ASSERT_TRUE(db.scan("A.B\n", hits));
  EXPECT_EQ(hits[id], 1);
  EXPECT_EQ(hits[high], 0);
  ASSERT_TRUE(db.scan("CAF\xc3\xa9\n", hits));  // ASCII case ignored
  EXPECT_EQ(hits[high], 1);
  ASSERT_TRUE(db.scan("CAF\xc3\x89\n", hits));  // not Latin-1 or UTF-8 case
  EXPECT_EQ(hits[high], 0);
}

// A pattern that matches the separator itself ([\n\r]) is not a candidate for
// every batch of two values: a match whose last byte is a separator is dropped,
// a newline inside a value still counts.
TEST(HsPrefilter, SeparatorsAreNotMatches) {
  HsPrefilter db;
  int nl = db.add("[\\n\\r]", true, true);
  int word = db.add("b$", true);
  int phrases = db.addPhrases({"x\n"});
  ASSERT_GE(nl, 0);
  ASSERT_GE(phrases, 0);
  ASSERT_TRUE(db.build());
  std::vector<uint8_t> hits;
  std::vector<uint32_t> seps{1, 3};
  ASSERT_TRUE(db.scan("a\nb\n", hits, &seps));
  EXPECT_EQ(hits[nl], 0);
  EXPECT_EQ(hits[word], 1);
  ASSERT_TRUE(db.scan("a\nb\n", hits));  // no separators known: every match counts
  EXPECT_EQ(hits[nl], 1);
  seps = {1, 4};
  ASSERT_TRUE(db.scan("a\nb\rc\n", hits, &seps));
  EXPECT_EQ(hits[nl], 1);
  seps = {3, 5};
  ASSERT_TRUE(db.scan("a\nb\nc\n", hits, &seps));  // the first value is "a\nb"
  EXPECT_EQ(hits[nl], 1);
  seps = {1, 3};
  ASSERT_TRUE(db.scan("x\ny\n", hits, &seps));
  EXPECT_EQ(hits[phrases], 0);
  seps = {3};
  ASSERT_TRUE(db.scan("x\ny\n", hits, &seps));
  EXPECT_EQ(hits[phrases], 1);
}

TEST(HsPrefilter, LookaroundFallsBackToPrefilterModeOrIsLeftOut) {
  HsPrefilter db;
  int id = db.add("foo(?!bar)", false);
  if (id < 0) GTEST_SKIP() << "Hyperscan rejects it even in prefilter mode";
  ASSERT_TRUE(db.build());
  std::vector<uint8_t> hits;
  ASSERT_TRUE(db.scan("foobaz", hits));
  EXPECT_EQ(hits[id], 1);  // a superset: never drops the real match
}

// A long pattern Hyperscan takes only in prefilter mode is left out (its rule
// always evaluated): the approximation of a long list matches nearly anything.
TEST(HsPrefilter, LongPatternsAreNotApproximated) {
  std::string list = "(?:";
  for (int i = 0; i < 200; ++i) list += (i ? "|" : "") + std::string("command") + std::to_string(i);
  list += ")(?!x)";  // a lookahead: exact mode rejects it
  ASSERT_GT(list.size(), 1500u);
  HsPrefilter db;
  EXPECT_EQ(db.add(list, false), -1);
  EXPECT_GE(db.add("foo(?!bar)", false), 0);  // a short one is still approximated
}

// A cache directory of the test's own, and the previous one back afterwards
// (also when an assertion ends the test early).
struct ScopedCacheDir {
  explicit ScopedCacheDir(const std::string& name)
      : dir(::testing::TempDir() + "/" + name + "-" + std::to_string(::getpid())), before(HsPrefilter::cacheDir()) {
    std::filesystem::remove_all(dir);
    HsPrefilter::setCacheDir(dir);
  }
  ~ScopedCacheDir() {
    HsPrefilter::setCacheDir(before);
    std::filesystem::remove_all(dir);
  }
  std::string dir, before;
};

// A database compiled once is written to the cache directory and read back by the next build.
TEST(HsPrefilter, DiskCacheRoundTrip) {
  ScopedCacheDir cache("rampart-hs-cache");
  const std::string& dir = cache.dir;
  const std::string unique = "(?i)rampart-cache-test-" + std::to_string(::getpid()) + "\\d+";
  {
    HsPrefilter db;
    ASSERT_EQ(db.add(unique, true), 0);
    ASSERT_TRUE(db.build());
  }
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.path().filename().string().rfind("hs-", 0) == 0;
  EXPECT_EQ(files, 1u);
  // Corrupt the file: the next build compiles again (and still works).
  for (auto& e : std::filesystem::directory_iterator(dir)) std::filesystem::resize_file(e.path(), 40);
  {
    HsPrefilter db;
    ASSERT_EQ(db.add(unique, true), 0);
    ASSERT_TRUE(db.build());
    std::vector<uint8_t> hits;
    ASSERT_TRUE(db.scan("x\nRAMPART-CACHE-TEST-" + std::to_string(::getpid()) + "42\n", hits));
    EXPECT_EQ(hits[0], 1);
  }
  // A good file is read back, not compiled again: reading touches it.
  std::filesystem::path file;
  for (auto& e : std::filesystem::directory_iterator(dir)) file = e.path();
  ASSERT_GT(std::filesystem::file_size(file), 40u);
  auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(48);
  std::filesystem::last_write_time(file, old);
  {
    HsPrefilter db;
    ASSERT_EQ(db.add(unique, true), 0);
    ASSERT_TRUE(db.build());
  }
  EXPECT_GT(std::filesystem::last_write_time(file), old + std::chrono::hours(24));
}

// CRS's long RCE command lists (every letter may be followed by quotes,
// backslashes or a shell variable) are what the measure exists for: 932350's
// Hyperscan scans ~10x slower than RE2 runs it, so it is left out; 932230,
// 932235, 932250 and 932260 Hyperscan refuses ("Pattern is too large").
// The long word lists of the same rule set (933120's PHP settings, 942151's
// SQL functions: Hyperscan at a tenth of RE2's time) are kept. Until
// 2026-12-05 the measure was Hyperscan's time alone against a fixed figure,
// and one start on the benchmarks' machine measured such lists several times
// slower than they are (why is not known) and left them out for good (the
// decision is cached): the corpus's benign requests took 15% longer. Read
// from ../shared/crs in place; skipped without it.
TEST(HsPrefilter, CrsSlowListsLeftOutWordListsKept) {
  const char* env = std::getenv("RAMPART_CRS_DIR");
  const std::string crs = env ? env : std::string(RAMPART_SOURCE_DIR) + "/../shared/crs";
  if (!std::filesystem::exists(crs + "/rules/REQUEST-932-APPLICATION-ATTACK-RCE.conf"))
    GTEST_SKIP() << "CRS not found at " << crs << " (set RAMPART_CRS_DIR): SKIPPED";
#if defined(__SANITIZE_THREAD__)
  // TSan intercepts RE2's allocations and locks (Hyperscan's scan makes none):
  // the two are not timed alike, and 932350 measures as fast as RE2 there.
  GTEST_SKIP() << "a timing decision: meaningless under ThreadSanitizer";
#endif
  auto loaded = rules::loadFiles({crs + "/rules/REQUEST-932-APPLICATION-ATTACK-RCE.conf",
                                  crs + "/rules/REQUEST-933-APPLICATION-ATTACK-PHP.conf",
                                  crs + "/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"});
  std::map<int64_t, std::string> rx;
  for (const auto& r : loaded.ruleset.rules)
    if (r.op.name == "rx") rx[r.id] = r.op.argument;
  ScopedCacheDir cache("rampart-hs-crs-calibration");
  // Each in a database of its own: in one set, Hyperscan would refuse the
  // lists together ("Pattern is too large") whatever their measure.
  auto kept = [&](int64_t id) {
    HsPrefilter db;
    const int at = db.add(rx[id], true);
    return at >= 0 && db.build() && !db.leftOut(at);
  };
  for (int64_t id : {932230, 932235, 932250, 932260, 932350, 933120, 942151}) {
    ASSERT_TRUE(rx.count(id)) << id;
    ASSERT_GT(rx[id].size(), 1500u) << id;  // measured
  }
  for (int64_t id : {932230, 932235, 932250, 932260, 932350}) EXPECT_FALSE(kept(id)) << id;
  for (int64_t id : {933120, 942151}) EXPECT_TRUE(kept(id)) << id;
}

// A list longer than Hyperscan takes in one expression (16000 bytes: CRS
// 930120's lfi-os-files.data is ~21 KB as an alternation) is split into
// several that report one id; the ids after it are not shifted, and a
// database read back from the disk cache reports the same.
TEST(HsPrefilter, LongPhraseListsReportOneId) {
  ScopedCacheDir cache("rampart-hs-phrases");
  std::vector<std::string> phrases;
  for (int i = 0; i < 3000; ++i) phrases.push_back("/file-" + std::to_string(i) + ".conf");  // ~50 KB escaped
  for (int round = 0; round < 2; ++round) {  // compiled, then read back from the cache
    HsPrefilter db;
    const int before = db.add("before\\d", true);
    const int list = db.addPhrases(phrases);
    const int after = db.addPhrases({"after"});
    ASSERT_EQ(before, 0);
    ASSERT_EQ(list, 1);
    ASSERT_EQ(after, 2);
    EXPECT_EQ(db.size(), 3u);
    ASSERT_TRUE(db.build());
    EXPECT_FALSE(db.leftOut(list));
    std::vector<uint8_t> hits;
    for (const char* v : {"x=/FILE-0.conf\n", "x=/file-1500.conf\n", "x=/file-2999.conf\n"}) {
      ASSERT_TRUE(db.scan(v, hits));
      EXPECT_EQ(hits, (std::vector<uint8_t>{0, 1, 0})) << v;
    }
    ASSERT_TRUE(db.scan("x=/file-3000.con\nafter\nbefore1\n", hits));
    EXPECT_EQ(hits, (std::vector<uint8_t>{1, 0, 1}));
  }
}

// A long pattern is measured once on a benign sample, Hyperscan against RE2
// on the same values: one that Hyperscan runs fast (a long literal list, well
// under a nanosecond per byte) is kept, and the decision is written to the
// cache directory for the next start.
TEST(HsPrefilter, LongPatternsAreMeasuredOnce) {
  ScopedCacheDir cache("rampart-hs-calib");
  std::string list = "(?:";
  for (int i = 0; i < 300; ++i) list += (i ? "|" : "") + std::string("command") + std::to_string(i) + "x" + std::to_string(::getpid());
  list += ")";
  ASSERT_GT(list.size(), 1500u);
  {
    HsPrefilter db;
    ASSERT_EQ(db.add(list, true), 0);
    ASSERT_TRUE(db.build());
    std::vector<uint8_t> hits;
    ASSERT_TRUE(db.scan("a\ncommand299x" + std::to_string(::getpid()) + "\n", hits));
    EXPECT_EQ(hits[0], 1);
  }
  std::vector<std::filesystem::path> files;
  for (auto& e : std::filesystem::directory_iterator(cache.dir))
    if (e.path().filename().string().rfind("calib-", 0) == 0) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  std::ifstream in(files[0]);
  std::string first;
  std::getline(in, first);
  EXPECT_EQ(first, "0");  // not slow
}

}  // namespace
}  // namespace rampart::waf::match
