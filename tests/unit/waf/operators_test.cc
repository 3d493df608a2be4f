// Operators, evaluated directly through the registry (no transaction).
#include <gtest/gtest.h>

#include <cstring>

#include "waf/operators/operator.h"

namespace rampart::waf::operators {
namespace {

class FakeMacros : public MacroExpander {
 public:
  std::string expand(std::string_view text) override {
    std::string s(text);
    auto p = s.find("%{tx.v}");
    if (p != std::string::npos) s.replace(p, 7, value);
    return s;
  }
  bool txView(std::string_view key, std::string_view* out) override {
    if (key != "v") return false;
    *out = value;
    return true;
  }
  std::string value = "5";
};

struct Op {
  std::unique_ptr<Operator> op;
  FakeMacros macros;
  Op(std::string_view name, const std::string& arg) {
    CompileContext cc;
    cc.rule_dir = RAMPART_TEST_DATA "/waf";
    std::string err;
    op = create(name, arg, cc, &err);
    EXPECT_TRUE(op) << err;
  }
  bool operator()(std::string_view in) {
    EvalContext ctx;
    ctx.macros = &macros;
    return op->evaluate(ctx, in);
  }
  std::string capture(std::string_view in, int idx = 0) {
    EvalContext ctx;
    ctx.macros = &macros;
    ctx.capture = true;
    if (!op->evaluate(ctx, in) || ctx.ncaps <= idx) return "<none>";
    return std::string(ctx.caps[idx]);
  }
};

TEST(Operators, RxMatchesAnywhere) {
  Op rx("rx", "b+c");
  EXPECT_TRUE(rx("abbbcd"));
  EXPECT_FALSE(rx("acb"));
}

TEST(Operators, RxDotMatchesNewline) {
  Op rx("rx", "a.b");
  EXPECT_TRUE(rx("a\nb"));
}

TEST(Operators, RxDollarIsEndOnly) {
  Op rx("rx", "abc$");
  EXPECT_TRUE(rx("xabc"));
  EXPECT_FALSE(rx("abc\n"));  // PCRE_DOLLAR_ENDONLY
}

TEST(Operators, RxCaseSensitiveUnlessFlag) {
  EXPECT_FALSE(Op("rx", "select")("SELECT"));
  EXPECT_TRUE(Op("rx", "(?i)select")("SELECT"));
}

TEST(Operators, RxBytesAreCharacters) {
  Op rx("rx", "^\\xff.$");
  EXPECT_TRUE(rx(std::string("\xff\xfe", 2)));
}

TEST(Operators, RxCaptures) {
  Op rx("rx", "(\\d+)-(\\d+)");
  EXPECT_EQ(rx.capture("a 12-34 b", 0), "12-34");
  EXPECT_EQ(rx.capture("a 12-34 b", 2), "34");
}

TEST(Operators, RxPcreFallbackForLookaround) {
  Op rx("rx", "foo(?!bar)");
  EXPECT_TRUE(rx("foobaz"));
  EXPECT_FALSE(rx("foobar"));
}

TEST(Operators, RxBackreferenceViaPcre) {
  Op rx("rx", "(a+)b\\1");
  EXPECT_TRUE(rx("aabaa"));
  EXPECT_FALSE(rx("ab"));
}

TEST(Operators, RxInvalidIsError) {
  CompileContext cc;
  std::string err;
  EXPECT_FALSE(create("rx", "(abc", cc, &err));
  EXPECT_FALSE(err.empty());
}

TEST(Operators, RxWithMacroCompiledPerValue) {
  Op rx("rx", "^%{tx.v}$");
  rx.macros.value = "a+";
  EXPECT_TRUE(rx("aaa"));
  rx.macros.value = "b+";
  EXPECT_FALSE(rx("aaa"));
  EXPECT_TRUE(rx("bb"));
}

TEST(Operators, PmCaseInsensitive) {
  Op pm("pm", "select union");
  EXPECT_TRUE(pm("1 UNION 2"));
  EXPECT_FALSE(pm("nothing"));
  EXPECT_EQ(pm.capture("x UnIoN y"), "UnIoN");
}

TEST(Operators, PmOverlappingPhrases) {
  Op pm("pm", "abcd bc");
  EXPECT_EQ(pm.capture("xabcy"), "bc");
  EXPECT_EQ(pm.capture("xabcd"), "bc");  // the first match to end wins
}

TEST(Operators, PmFromFileSkipsCommentsAndTrims) {
  Op pm("pmFromFile", "phrases.data");
  EXPECT_TRUE(pm("ALPHA"));
  EXPECT_TRUE(pm("a beta phrase here"));
  EXPECT_FALSE(pm("comment"));
  Op pmf("pmf", "phrases.data");
  EXPECT_TRUE(pmf("alpha"));
}

TEST(Operators, PmFromFileMissingIsError) {
  CompileContext cc;
  cc.rule_dir = RAMPART_TEST_DATA "/waf";
  std::string err;
  EXPECT_FALSE(create("pmfromfile", "nope.data", cc, &err));
}

TEST(Operators, Streq) {
  Op op("streq", "POST");
  EXPECT_TRUE(op("POST"));
  EXPECT_FALSE(op("post"));
  EXPECT_FALSE(op("POSTS"));
}

TEST(Operators, StreqWithMacro) {
  Op op("streq", "%{tx.v}");
  op.macros.value = "abc";
  EXPECT_TRUE(op("abc"));
}

TEST(Operators, ContainsAndEmptyArgument) {
  EXPECT_TRUE(Op("contains", "etc/passwd")("/x/etc/passwd"));
  EXPECT_FALSE(Op("contains", "etc/passwd")("/x/etc/pass"));
  EXPECT_TRUE(Op("contains", "")("anything"));
  EXPECT_TRUE(Op("contains", "aab")("aaaab"));  // after a partial start
  EXPECT_FALSE(Op("contains", "aab")("aa"));
  EXPECT_TRUE(Op("contains", "x")(std::string_view("\0x", 2)));
  EXPECT_FALSE(Op("contains", "x")(std::string_view()));  // no data pointer at all
}

TEST(Operators, BeginsEndsWith) {
  EXPECT_TRUE(Op("beginsWith", "/admin")("/admin/x"));
  EXPECT_FALSE(Op("beginsWith", "/admin")("/x/admin"));
  EXPECT_TRUE(Op("endsWith", ".php")("/a.php"));
  EXPECT_FALSE(Op("endsWith", ".php")("/a.php5"));
  EXPECT_FALSE(Op("endsWith", "long-suffix")("x"));
}

TEST(Operators, WithinIsSubstringOfArgument) {
  Op op("within", "GET HEAD POST");
  EXPECT_TRUE(op("HEAD"));
  EXPECT_TRUE(op("ET H"));  // v2: plain substring
  EXPECT_FALSE(op("PUT"));
  EXPECT_TRUE(op(""));  // empty value always matches
  // A list like CRS's restricted headers: many starts of a match, one whole one.
  Op list("within", "/content-encoding/ /proxy/ /lock-token/ /content-range/ /if/ /x-method-override/");
  EXPECT_TRUE(list("/proxy/"));
  EXPECT_TRUE(list("/x-method-override/"));  // at the very end
  EXPECT_FALSE(list("/user-agent/"));
  EXPECT_FALSE(list("/x-method-override/ "));  // longer than what is left
  EXPECT_TRUE(list(std::string_view("/if/\0", 4)));
}

// A repeatable stream of pseudo-random numbers (xorshift64).
struct XorShift {
  uint64_t seed;
  uint64_t operator()() {
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
  }
};

// A fixed list is looked up by its byte pairs: the answer is still "a
// substring of the list up to its first NUL", for every needle.
TEST(Operators, WithinAgreesWithFind) {
  XorShift next{0xD1B54A32D192ED03ull};
  for (int round = 0; round < 3000; ++round) {
    const char* alphabet = round % 2 ? "/ab" : "/abcdefgh- \xff";
    const size_t letters = std::strlen(alphabet);
    std::string hay(next() % (round % 5 == 0 ? 900 : 80), ' ');
    for (auto& c : hay) c = alphabet[next() % letters];
    if (round % 7 == 0 && !hay.empty()) hay[next() % hay.size()] = '\0';
    Op op("within", hay);
    const std::string_view listed(hay.c_str());  // up to the first NUL
    for (int k = 0; k < 20; ++k) {
      std::string needle(next() % 12, ' ');
      for (auto& c : needle) c = alphabet[next() % letters];
      if (!hay.empty() && next() % 2) {
        const size_t at = next() % hay.size();
        needle = hay.substr(at, next() % 12);
      }
      const bool want = needle.empty() || listed.find(needle) != std::string_view::npos;
      ASSERT_EQ(op(needle), want) << "list '" << hay << "' value '" << needle << "'";
    }
  }
}

// findBytes (@within, @contains) agrees with string_view::find on both of its
// paths: short lists searched by the needle's second byte, the rest by memmem.
TEST(Operators, FindBytesAgreesWithFind) {
  XorShift next{0x9E3779B97F4A7C15ull};
  for (int round = 0; round < 20000; ++round) {
    const char* alphabet = round % 2 ? "/ab" : "/abcdefgh- ";  // few letters: many near misses
    const size_t letters = std::strlen(alphabet);
    std::string hay(next() % (round % 3 == 0 ? 700 : 64), ' ');
    for (auto& c : hay) c = alphabet[next() % letters];
    std::string needle(next() % 40, ' ');
    for (auto& c : needle) c = alphabet[next() % letters];
    if (!hay.empty() && next() % 2) {  // often a piece of the haystack itself
      const size_t at = next() % hay.size();
      needle = hay.substr(at, next() % 12);
    }
    ASSERT_EQ(findBytes(hay, needle), std::string_view(hay).find(needle)) << "hay '" << hay << "' needle '" << needle << "'";
  }
}

TEST(Operators, ContainsWordNeedsBoundaries) {
  Op op("containsWord", "select");
  EXPECT_TRUE(op("a select b"));
  EXPECT_TRUE(op("select"));
  EXPECT_FALSE(op("selection"));
  EXPECT_FALSE(op("_select"));
  EXPECT_TRUE(op("preselect select"));
}

TEST(Operators, Strmatch) {
  EXPECT_TRUE(Op("strmatch", "WebZIP")("Mozilla WebZIP/1"));
  EXPECT_FALSE(Op("strmatch", "WebZIP")("webzip"));
}

TEST(Operators, NumericComparisonsUseAtoi) {
  EXPECT_TRUE(Op("eq", "0")(""));
  EXPECT_TRUE(Op("eq", "12")("12abc"));
  EXPECT_TRUE(Op("gt", "5")("6"));
  EXPECT_FALSE(Op("gt", "5")("5"));
  EXPECT_TRUE(Op("ge", "5")("5"));
  EXPECT_TRUE(Op("lt", "5")("-3"));
  EXPECT_TRUE(Op("le", "5")("5"));
  EXPECT_FALSE(Op("le", "5")("6"));
  EXPECT_TRUE(Op("eq", "0")("abc"));
}

TEST(Operators, NumericWithMacro) {
  Op ge("ge", "%{tx.v}");
  ge.macros.value = "10";
  EXPECT_TRUE(ge("10"));
  EXPECT_FALSE(ge("9"));
}

TEST(Operators, ValidateByteRange) {
  Op op("validateByteRange", "32-126,9,10,13");
  EXPECT_FALSE(op("hello world\n"));
  EXPECT_TRUE(op(std::string("a\x01", 2)));
  EXPECT_TRUE(op("caf\xc3\xa9"));
  EXPECT_FALSE(op(""));
  // The byte outside at each place of a value longer than a step (4 bytes) and
  // in its tail.
  for (size_t len = 1; len <= 11; ++len)
    for (size_t at = 0; at < len; ++at) {
      std::string v(len, 'a');
      v[at] = '\x7f';
      EXPECT_TRUE(op(v)) << len << " " << at;
      v[at] = 'b';
      EXPECT_FALSE(op(v)) << len << " " << at;
    }
}

TEST(Operators, ValidateByteRangeOnlyNulOutside) {
  // 1-255 (CRS 920270): a NUL anywhere matches, any other byte does not.
  Op op("validateByteRange", "1-255");
  EXPECT_FALSE(op(""));
  std::string all;
  for (int b = 1; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_FALSE(op(all));
  for (size_t at : {size_t(0), size_t(7), all.size()}) {
    std::string v = all;
    v.insert(at, 1, '\0');
    EXPECT_TRUE(op(v)) << at;
  }
  // 0-255 allows everything; 0 alone allows only NUL.
  EXPECT_FALSE(Op("validateByteRange", "0-255")(std::string("a\0b", 3)));
  EXPECT_TRUE(Op("validateByteRange", "0")("a"));
  EXPECT_FALSE(Op("validateByteRange", "0")(std::string("\0\0", 2)));
}

TEST(Operators, ValidateByteRangeRejectsBadSpec) {
  CompileContext cc;
  std::string err;
  EXPECT_FALSE(create("validatebyterange", "1-300", cc, &err));
  EXPECT_FALSE(create("validatebyterange", "a-b", cc, &err));
}

TEST(Operators, ValidateUrlEncoding) {
  Op op("validateUrlEncoding", "");
  EXPECT_FALSE(op("a%20b"));
  EXPECT_TRUE(op("a%2"));
  EXPECT_TRUE(op("a%zz"));
  EXPECT_TRUE(op("%"));
  EXPECT_FALSE(op("plain"));
}

TEST(Operators, ValidateUtf8) {
  Op op("validateUtf8Encoding", "");
  EXPECT_FALSE(op("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_TRUE(op("\xc3"));              // truncated
  EXPECT_TRUE(op("\xc0\xaf"));          // overlong '/'
  EXPECT_TRUE(op("\xed\xa0\x80"));      // surrogate
  EXPECT_TRUE(op("\x80"));              // continuation as lead
  EXPECT_TRUE(op("\xf4\x90\x80\x80"));  // > U+10FFFF
}

TEST(Operators, IpMatchV4AndV6) {
  Op op("ipMatch", "127.0.0.1, 10.0.0.0/8,2001:db8::/32");
  EXPECT_TRUE(op("127.0.0.1"));
  EXPECT_TRUE(op("10.20.30.40"));
  EXPECT_FALSE(op("11.0.0.1"));
  EXPECT_TRUE(op("2001:db8::1"));
  EXPECT_FALSE(op("2001:db9::1"));
  EXPECT_FALSE(op("not-an-ip"));
}

TEST(Operators, IpMatchOddPrefix) {
  Op op("ipMatch", "192.168.1.128/25");
  EXPECT_TRUE(op("192.168.1.200"));
  EXPECT_FALSE(op("192.168.1.100"));
}

TEST(Operators, IpMatchFromFile) {
  Op op("ipMatchFromFile", "ips.data");
  EXPECT_TRUE(op("10.1.1.1"));
  EXPECT_TRUE(op("2001:db8::5"));
  EXPECT_FALSE(op("8.8.8.8"));
}

TEST(Operators, UnconditionalAndNoMatch) {
  EXPECT_TRUE(Op("unconditionalMatch", "")("x"));
  EXPECT_FALSE(Op("noMatch", "")("x"));
}

TEST(Operators, VerifyCcUsesLuhn) {
  Op op("verifyCC", "\\d{13,16}");
  EXPECT_TRUE(op("card 4111111111111111 ok"));
  EXPECT_FALSE(op("card 4111111111111112 ok"));
}

TEST(Operators, VerifySsnAndCpf) {
  EXPECT_TRUE(Op("verifySSN", "\\d{3}-\\d{2}-\\d{4}")("ssn 123-45-6789"));
  EXPECT_FALSE(Op("verifySSN", "\\d{3}-\\d{2}-\\d{4}")("ssn 000-45-6789"));
  EXPECT_TRUE(Op("verifyCPF", "\\d{11}")("52998224725"));
  EXPECT_FALSE(Op("verifyCPF", "\\d{11}")("52998224724"));
}

TEST(Operators, UnsupportedAndUnknown) {
  CompileContext cc;
  std::string err;
  EXPECT_FALSE(create("rbl", "x", cc, &err));
  EXPECT_NE(err.find("not supported"), std::string::npos);
  EXPECT_FALSE(create("bogus", "x", cc, &err));
  EXPECT_NE(err.find("unknown"), std::string::npos);
  EXPECT_TRUE(known("detectSQLi"));
}

TEST(Operators, AtoiLike) {
  EXPECT_EQ(atoiLike("  42x"), 42);
  EXPECT_EQ(atoiLike("-7"), -7);
  EXPECT_EQ(atoiLike("x1"), 0);
  EXPECT_EQ(atoiLike(""), 0);
  EXPECT_EQ(atoiLike("\t\n\v\f\r 5"), 5);  // C isspace
  EXPECT_EQ(atoiLike("\xa0" "5"), 0);        // not a space in the C locale
  EXPECT_EQ(atoiLike("+3"), 3);
}

}  // namespace
}  // namespace rampart::waf::operators
