// Runs the language-neutral vectors in tests/data/transformations/<name>.json
// against the registry (format: tests/data/transformations/README.md), and
// checks the registry's lookup rules and the "unchanged input is not copied"
// contract.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "waf/transformations/transformation.h"

namespace rampart::waf::transformations {
namespace {

namespace fs = std::filesystem;

struct Vector {
  std::string input;
  std::string output;
  bool changed = false;
  int line = 0;
};

// A reader for exactly the flat format the vectors use: a top-level array of
// objects whose values are strings or booleans. Strings: code points up to
// U+00FF, one byte each; "*_hex" keys hold hex digits.
class VectorReader {
 public:
  explicit VectorReader(std::string text) : s_(std::move(text)) {}

  std::optional<std::vector<Vector>> read(std::string& error) {
    std::vector<Vector> result;
    skipWs();
    if (!eat('[')) return fail(error, "expected '['");
    skipWs();
    if (eat(']')) return result;
    for (;;) {
      skipWs();
      Vector v;
      v.line = line();
      if (!readObject(v, error)) return std::nullopt;
      result.push_back(std::move(v));
      skipWs();
      if (eat(']')) break;
      if (!eat(',')) return fail(error, "expected ',' or ']'");
    }
    skipWs();
    if (p_ != s_.size()) return fail(error, "trailing data");
    return result;
  }

 private:
  std::nullopt_t fail(std::string& error, const std::string& what) {
    error = what + " at line " + std::to_string(line());
    return std::nullopt;
  }
  int line() const { return 1 + static_cast<int>(std::count(s_.begin(), s_.begin() + p_, '\n')); }
  void skipWs() {
    while (p_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[p_]))) ++p_;
  }
  bool eat(char c) {
    if (p_ < s_.size() && s_[p_] == c) {
      ++p_;
      return true;
    }
    return false;
  }
  static int hexVal(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool readString(std::string& out, std::string& error) {
    if (!eat('"')) return fail(error, "expected string"), false;
    out.clear();
    while (p_ < s_.size() && s_[p_] != '"') {
      const char c = s_[p_++];
      if (static_cast<unsigned char>(c) >= 0x80)
        return fail(error, "raw non-ASCII byte; use \\u00XX"), false;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (p_ >= s_.size()) break;
      const char e = s_[p_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          if (p_ + 4 > s_.size()) return fail(error, "short \\u"), false;
          int v = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = hexVal(s_[p_++]);
            if (h < 0) return fail(error, "bad \\u"), false;
            v = v * 16 + h;
          }
          if (v > 0xff) return fail(error, "\\u above 00ff: one byte per escape"), false;
          out.push_back(static_cast<char>(v));
          break;
        }
        default:
          return fail(error, "bad escape"), false;
      }
    }
    if (!eat('"')) return fail(error, "unterminated string"), false;
    return true;
  }
  bool fromHex(const std::string& hex, std::string& out, std::string& error) {
    out.clear();
    if (hex.size() % 2 != 0) return fail(error, "odd hex length"), false;
    for (std::size_t k = 0; k < hex.size(); k += 2) {
      const int a = hexVal(hex[k]), b = hexVal(hex[k + 1]);
      if (a < 0 || b < 0) return fail(error, "bad hex"), false;
      out.push_back(static_cast<char>(a * 16 + b));
    }
    return true;
  }
  bool readObject(Vector& v, std::string& error) {
    if (!eat('{')) return fail(error, "expected '{'"), false;
    bool haveIn = false, haveOut = false, haveChanged = false;
    for (;;) {
      skipWs();
      std::string key;
      if (!readString(key, error)) return false;
      skipWs();
      if (!eat(':')) return fail(error, "expected ':'"), false;
      skipWs();
      if (key == "changed") {
        if (s_.compare(p_, 4, "true") == 0) {
          v.changed = true;
          p_ += 4;
        } else if (s_.compare(p_, 5, "false") == 0) {
          v.changed = false;
          p_ += 5;
        } else {
          return fail(error, "changed must be true or false"), false;
        }
        haveChanged = true;
      } else {
        std::string value;
        if (!readString(value, error)) return false;
        if (key == "input") {
          v.input = value;
          haveIn = true;
        } else if (key == "output") {
          v.output = value;
          haveOut = true;
        } else if (key == "input_hex") {
          if (!fromHex(value, v.input, error)) return false;
          haveIn = true;
        } else if (key == "output_hex") {
          if (!fromHex(value, v.output, error)) return false;
          haveOut = true;
        } else if (key != "comment") {
          return fail(error, "unknown key " + key), false;
        }
      }
      skipWs();
      if (eat('}')) break;
      if (!eat(',')) return fail(error, "expected ',' or '}'"), false;
    }
    if (!haveIn || !haveOut || !haveChanged)
      return fail(error, "missing input/output/changed"), false;
    return true;
  }

  std::string s_;
  std::size_t p_ = 0;
};

std::string printable(const std::string& s) {
  std::string r;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && u != '\\') {
      r.push_back(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      r += buf;
    }
  }
  return r;
}

fs::path dataDir() { return fs::path(RAMPART_TEST_DATA) / "transformations"; }

std::map<std::string, std::vector<Vector>> loadAll() {
  std::map<std::string, std::vector<Vector>> all;
  for (const auto& entry : fs::directory_iterator(dataDir())) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream f(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    std::string error;
    auto vectors = VectorReader(ss.str()).read(error);
    EXPECT_TRUE(vectors.has_value()) << entry.path() << ": " << error;
    if (vectors) all[entry.path().stem().string()] = std::move(*vectors);
  }
  return all;
}

TEST(TransformationVectors, AllVectorsPass) {
  const auto all = loadAll();
  std::size_t total = 0;
  for (const auto& [name, vectors] : all) {
    const Info* info = find(name);
    ASSERT_NE(info, nullptr) << "vector file for unknown transformation " << name;
    for (const Vector& v : vectors) {
      ++total;
      SCOPED_TRACE(name + ".json line " + std::to_string(v.line) + " input \"" +
                   printable(v.input) + "\"");
      // The file itself must be consistent: changed means the bytes differ.
      EXPECT_EQ(v.changed, v.input != v.output);
      std::string out = "\x01untouched\x02";
      const bool changed = info->fn(v.input, out);
      EXPECT_EQ(changed, v.changed);
      if (changed) {
        EXPECT_EQ(printable(out), printable(v.output));
      } else {
        EXPECT_EQ(out, "\x01untouched\x02") << "out written although unchanged";
      }
    }
  }
  EXPECT_GE(total, 300u);
}

// A transformation changes only values that hold one of its trigger classes:
// every vector that changes its input holds one.
TEST(TransformationTriggers, EveryChangingVectorHoldsATrigger) {
  std::size_t checked = 0;
  for (const auto& [name, vectors] : loadAll()) {
    const Info* info = find(name);
    ASSERT_NE(info, nullptr);
    for (const Vector& v : vectors) {
      if (!v.changed) continue;
      ++checked;
      EXPECT_NE(classify(v.input) & info->triggers, 0u)
          << name << ".json line " << v.line << " input \"" << printable(v.input) << "\"";
    }
  }
  EXPECT_GE(checked, 150u);
}

// The same on random values: made only of bytes outside a transformation's
// triggers (and of pieces of the syntaxes the transformations decode, where
// those hold none), they come back unchanged.
TEST(TransformationTriggers, ValuesWithoutTriggersAreUnchanged) {
  std::mt19937 rng(20261204);
  const std::vector<std::string> pieces = {
      "../", "./", "//", "/*", "*/", "<!--", "-->", "--", "#", "&amp;", "&#x41;", "%41", "%u0041", "+",
      "\\x41", "\\u0041", "\\n", "\xc3\xa9", "\xa0", " ", "  ", "\t", "A", std::string(1, '\0'), "'", "\"", "^",
      ",", ";", "("};
  std::size_t skippable = 0;
  for (const Info& info : all()) {
    if (info.triggers & cls::kAny) continue;
    ++skippable;
    std::string bytes;
    for (int b = 0; b < 256; ++b)
      if (!(classify(std::string(1, static_cast<char>(b))) & info.triggers)) bytes.push_back(static_cast<char>(b));
    std::vector<std::string> usable;
    for (const auto& p : pieces)
      if (!(classify(p) & info.triggers)) usable.push_back(p);
    std::string in, out;
    for (int k = 0; k < 20000; ++k) {
      in.clear();
      const int len = static_cast<int>(rng() % 24);
      for (int i = 0; i < len; ++i) {
        if (!usable.empty() && rng() % 3 == 0) in += usable[rng() % usable.size()];
        else in.push_back(bytes[rng() % bytes.size()]);
      }
      ASSERT_EQ(classify(in) & info.triggers, 0u);
      EXPECT_FALSE(info.fn(in, out)) << info.name << " changed \"" << printable(in) << "\"";
    }
  }
  EXPECT_GE(skippable, 20u);
}

TEST(TransformationTriggers, ClassifyNamesTheClassesOfTheBytes) {
  EXPECT_EQ(classify(""), cls::kAny);
  EXPECT_EQ(classify("abc123"), cls::kAny);
  EXPECT_EQ(classify("aBc%"), cls::kAny | cls::kUpper | cls::kPercentPlus);
  EXPECT_EQ(classify(std::string("x\0y\xa0", 4)), cls::kAny | cls::kNul | cls::kHigh);
  EXPECT_EQ(classify("a b\tc"), cls::kAny | cls::kSpace | cls::kOtherSpace);
  EXPECT_EQ(classify("/a.b&c\\d"), cls::kAny | cls::kSlash | cls::kDot | cls::kAmp | cls::kBackslash);
  EXPECT_EQ(classify("'x'(#"), cls::kAny | cls::kShell | cls::kCommentStart);
  // Every position counts (the loop takes four bytes at a time).
  for (std::size_t at = 0; at < 9; ++at) {
    std::string v(9, 'a');
    v[at] = '%';
    EXPECT_EQ(classify(v), cls::kAny | cls::kPercentPlus) << at;
  }
}

// Values equal but for the case of ASCII letters.
bool equalButForCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i] && std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// Random values rich in what the transformations decode, in mixed case.
std::string randomMixedCase(std::mt19937& rng) {
  static const std::vector<std::string> pieces = {
      "%41", "%4a", "%4A", "%u0041", "%U0041", "%uff41", "%UFF41", "%", "+", "&amp;", "&AMP;", "&#x41;", "&#X41;",
      "\\x4a", "\\X4A", "\\u0041", "\\U0041", "\\4a", "\\4A", "\xc3\xa9", "\xc3" "A", "\xe2\x82", "\xa0", " ", "\t",
      "\n", std::string(1, '\0'), "../", "./", "/", "\\", "/*", "*/", "<!--", "-->", "--", "#", "'", "\"", "^", ",",
      ";", "(", "aB", "Zz", "Q", "f", "F", "x", "X", "u", "U"};
  std::string in;
  const int len = static_cast<int>(rng() % 12);
  for (int i = 0; i < len; ++i) in += pieces[rng() % pieces.size()];
  return in;
}

std::string flipSomeCase(std::string s, std::mt19937& rng) {
  for (char& c : s)
    if (std::isalpha(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80 && rng() % 2)
      c = static_cast<char>(std::islower(static_cast<unsigned char>(c)) ? std::toupper(c) : std::tolower(c));
  return s;
}

std::string transformed(const Info& info, const std::string& in) {
  std::string out;
  return info.fn(in, out) ? out : in;
}

// What a transformation that says it is case congruent must do: values equal
// but for case give results equal but for case (the phase scan relies on it).
TEST(TransformationCase, CongruentTransformationsKeepValuesEqualButForCase) {
  std::mt19937 rng(20261205);
  std::size_t congruent = 0;
  std::vector<const Info*> infos;
  for (const Info& info : all()) infos.push_back(&info);
  infos.push_back(&cmdLineKeepCaseInfo());
  for (const Info* info : infos) {
    if (!info->case_congruent) continue;
    ++congruent;
    for (int k = 0; k < 20000; ++k) {
      const std::string x = randomMixedCase(rng);
      const std::string y = flipSomeCase(x, rng);
      const std::string fx = transformed(*info, x), fy = transformed(*info, y);
      ASSERT_TRUE(equalButForCase(fx, fy)) << info->name << ": \"" << printable(x) << "\" -> \"" << printable(fx)
                                           << "\", \"" << printable(y) << "\" -> \"" << printable(fy) << "\"";
    }
  }
  EXPECT_GE(congruent, 22u);
  // And the check can fail: jsDecode decodes \u but not \U.
  const Info* js = find("jsDecode");
  EXPECT_FALSE(js->case_congruent);
  EXPECT_FALSE(equalButForCase(transformed(*js, "\\u0041"), transformed(*js, "\\U0041")));
}

TEST(TransformationCase, CmdLineIsLowercaseOfCmdLineKeepCase) {
  std::mt19937 rng(7);
  const Info& keep = cmdLineKeepCaseInfo();
  const Info* cmd = find("cmdLine");
  const Info* lower = find("lowercase");
  EXPECT_EQ(transformed(keep, "C^:\\WiNdOwS\\sYsTem32 , /c  \"dir\""), "C:WiNdOwSsYsTem32/c dir");
  for (int k = 0; k < 20000; ++k) {
    const std::string x = randomMixedCase(rng);
    ASSERT_EQ(transformed(*cmd, x), transformed(*lower, transformed(keep, x))) << printable(x);
  }
}

TEST(TransformationCase, WithoutLowercasingDropsOnlyWhatCaseCannotUndo) {
  auto pipeline = [](std::initializer_list<const char*> names) {
    std::vector<const Info*> p;
    for (const char* n : names) p.push_back(find(n));
    return p;
  };
  auto names = [](const std::vector<const Info*>& p) {
    std::string s;
    for (const Info* t : p) s += std::string(t->name) + ",";
    return s;
  };
  std::vector<const Info*> out;
  EXPECT_TRUE(withoutLowercasing(pipeline({"lowercase"}), out));
  EXPECT_EQ(names(out), "");
  EXPECT_TRUE(withoutLowercasing(pipeline({"urlDecodeUni", "lowercase", "removeNulls"}), out));
  EXPECT_EQ(names(out), "urlDecodeUni,removeNulls,");
  EXPECT_TRUE(withoutLowercasing(pipeline({"cmdLine", "normalizePath"}), out));
  EXPECT_EQ(names(out), "cmdLineKeepCase,normalizePath,");
  out.clear();
  EXPECT_FALSE(withoutLowercasing(pipeline({"urlDecodeUni", "htmlEntityDecode"}), out));  // nothing lower-cases
  EXPECT_FALSE(withoutLowercasing(pipeline({"lowercase", "urlDecodeUni", "htmlEntityDecode", "jsDecode"}), out));
  EXPECT_FALSE(withoutLowercasing(pipeline({"jsDecode", "lowercase", "base64Decode"}), out));
  EXPECT_TRUE(out.empty());
  // Equal but for case on random values, for the pipelines CRS has.
  std::mt19937 rng(11);
  for (const auto& p : {pipeline({"lowercase", "urlDecodeUni"}), pipeline({"utf8toUnicode", "urlDecodeUni", "removeNulls", "cmdLine"}),
                        pipeline({"htmlEntityDecode", "lowercase"}), pipeline({"cmdLine", "normalizePath"}),
                        pipeline({"lowercase", "removeWhitespace"})}) {
    ASSERT_TRUE(withoutLowercasing(p, out)) << names(p);
    for (int k = 0; k < 5000; ++k) {
      std::string a = randomMixedCase(rng), b = a;
      for (const Info* t : p) a = transformed(*t, a);
      for (const Info* t : out) b = transformed(*t, b);
      ASSERT_TRUE(equalButForCase(a, b)) << names(p) << " \"" << printable(a) << "\" \"" << printable(b) << "\"";
    }
  }
}

TEST(TransformationVectors, EveryTransformationHasVectors) {
  const auto vectorFiles = loadAll();
  for (const Info& info : all()) {
    // normalisePath* are aliases; their vectors live under the z spelling.
    if (info.name == "normalisePath" || info.name == "normalisePathWin") continue;
    auto it = vectorFiles.find(std::string(info.name));
    ASSERT_NE(it, vectorFiles.end()) << "no vectors for " << info.name;
    EXPECT_GE(it->second.size(), 4u) << info.name;
  }
}

TEST(TransformationRegistry, FindsEveryNameCaseInsensitively) {
  ASSERT_GE(all().size(), 37u);
  for (const Info& info : all()) {
    std::string name(info.name);
    EXPECT_EQ(find(name), &info) << name;
    std::string lower = name, upper = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    ASSERT_NE(find(lower), nullptr) << lower;
    EXPECT_EQ(find(lower)->fn, info.fn) << lower;
    ASSERT_NE(find(upper), nullptr) << upper;
    EXPECT_EQ(find(upper)->fn, info.fn) << upper;
  }
}

TEST(TransformationRegistry, KnowsTheModSecurityNames) {
  for (const char* name : {"base64Decode",
                           "base64DecodeExt",
                           "base64Encode",
                           "cmdLine",
                           "compressWhitespace",
                           "cssDecode",
                           "escapeSeqDecode",
                           "hexDecode",
                           "hexEncode",
                           "htmlEntityDecode",
                           "jsDecode",
                           "length",
                           "lowercase",
                           "md5",
                           "normalisePath",
                           "normalizePath",
                           "normalisePathWin",
                           "normalizePathWin",
                           "parityEven7bit",
                           "parityOdd7bit",
                           "parityZero7bit",
                           "removeComments",
                           "removeCommentsChar",
                           "removeNulls",
                           "removeWhitespace",
                           "replaceComments",
                           "replaceNulls",
                           "sha1",
                           "sqlHexDecode",
                           "trim",
                           "trimLeft",
                           "trimRight",
                           "uppercase",
                           "urlDecode",
                           "urlDecodeUni",
                           "urlEncode",
                           "utf8toUnicode",
                           "Utf8toUnicode",
                           "cmdline"}) {
    EXPECT_NE(find(name), nullptr) << name;
  }
  EXPECT_EQ(find("normalisePath")->fn, find("normalizePath")->fn);
  EXPECT_EQ(find("normalisePathWin")->fn, find("normalizePathWin")->fn);
}

TEST(TransformationRegistry, NoneAndUnknownAreNotFound) {
  EXPECT_EQ(find("none"), nullptr);
  EXPECT_EQ(find("NONE"), nullptr);
  EXPECT_EQ(find(""), nullptr);
  EXPECT_EQ(find("urlDecodeUnicode"), nullptr);
  EXPECT_EQ(find("lowercase "), nullptr);
  EXPECT_EQ(find("lower"), nullptr);
}

// t:urlDecode against the plain statement of it (%XX of two hex digits, either
// case, to the byte; '+' to a space; anything else as it is) on random values
// crowded with '%', '+' and hex digits, near misses and escapes at the end.
TEST(Transformations, UrlDecodeAgreesWithItsDefinition) {
  const Info* t = find("urlDecode");
  ASSERT_NE(t, nullptr);
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto val = [](char c) { return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::mt19937 rng(7);
  const std::string alphabet = "%%%++aF9g0 \xff";
  // (and longer ones with fewer '%': runs of sixteen bytes without one are
  // decoded a vector at a time)
  const std::string sparse = "abcdefghijklmnopqrstuvwxyz++ F09%";
  for (int round = 0; round < 20000; ++round) {
    const bool long_value = round % 2 == 1;
    const std::string& from = long_value ? sparse : alphabet;
    std::string in(long_value ? rng() % 90 : rng() % 14, ' ');
    for (auto& c : in) c = from[rng() % from.size()];
    std::string want;
    for (size_t i = 0; i < in.size();) {
      if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) && hex(in[i + 2])) {
        want.push_back(static_cast<char>(val(in[i + 1]) * 16 + val(in[i + 2])));
        i += 3;
      } else {
        want.push_back(in[i] == '+' ? ' ' : in[i]);
        ++i;
      }
    }
    std::string out = "sentinel";
    const bool changed = t->fn(in, out);
    ASSERT_EQ(changed, want != in) << in;
    ASSERT_EQ(changed ? out : in, want) << in;
    if (!changed) ASSERT_EQ(out, "sentinel") << in;
  }
}

// Ordinary values pass through every transformation that has nothing to do on
// them without a write (the engine then keeps using the input view).
TEST(TransformationContract, OrdinaryValuesAreNotCopied) {
  const std::vector<std::string> skip = {"base64Decode",
                                         "base64DecodeExt",
                                         "base64Encode",
                                         "hexDecode",
                                         "hexEncode",
                                         "length",
                                         "md5",
                                         "sha1",
                                         "urlEncode",
                                         "uppercase",
                                         "parityEven7bit",
                                         "parityOdd7bit"};
  const std::vector<std::string> values = {
      "",
      "hello",
      "abc 123",
      "/a/b.html",
      "x=1&y=2;z",
      "select name from users where id = 5",
      "mozilla/5.0 (x11; linux x86_64) gecko/20100101 firefox/120.0",
      "text/html,application/xhtml+xml;q=0.9",
  };
  for (const Info& info : all()) {
    if (std::find(skip.begin(), skip.end(), info.name) != skip.end()) continue;
    for (const std::string& v : values) {
      // A few of them do have work on some of these values; skip exactly those.
      if ((info.name == "urlDecode" || info.name == "urlDecodeUni") &&
          v.find('+') != std::string::npos)
        continue;
      if (info.name == "cmdLine" &&
          (v.find(';') != std::string::npos || v.find(',') != std::string::npos ||
           v.find(" (") != std::string::npos))
        continue;
      if (info.name == "removeWhitespace" && v.find(' ') != std::string::npos) continue;
      std::string out = "sentinel";
      EXPECT_FALSE(info.fn(v, out)) << info.name << " on \"" << v << "\"";
      EXPECT_EQ(out, "sentinel") << info.name;
    }
  }
}

// Lower-case on an already lower-case value must not write (the hot path).
TEST(TransformationContract, LowercaseOfLowerIsFalse) {
  std::string out;
  EXPECT_FALSE(find("lowercase")->fn("already lower, 123 \xc3\xa9", out));
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(find("lowercase")->fn("Upper", out));
  EXPECT_EQ(out, "upper");
}

// A reused output buffer is cleared, whatever it held.
TEST(TransformationContract, OutIsReplacedNotAppended) {
  std::string out(1000, 'z');
  ASSERT_TRUE(find("urlDecodeUni")->fn("a%41", out));
  EXPECT_EQ(out, "aA");
  ASSERT_TRUE(find("hexEncode")->fn("A", out));
  EXPECT_EQ(out, "41");
  ASSERT_TRUE(find("md5")->fn("", out));
  EXPECT_EQ(out.size(), 16u);
}

// Large inputs finish quickly (linear time); a quadratic step would not.
TEST(TransformationContract, LinearOnLargeInputs) {
  const std::vector<std::string> inputs = {std::string(1 << 18, '/'), std::string(1 << 18, '.'),
                                           std::string(1 << 18, '%'), std::string(1 << 18, '\\'),
                                           std::string(1 << 18, '&'), std::string(1 << 18, ' ')};
  std::vector<std::string> patterned = inputs;
  for (const char* unit : {"aa/../", "../", "/*", "&#x41", "\\u0041", "%u0041", "\xe2\x82\xac"}) {
    std::string s;
    while (s.size() < (1 << 18)) s += unit;
    patterned.push_back(s);
  }
  std::string out;
  for (const Info& info : all()) {
    for (const std::string& in : patterned) {
      const auto start = std::chrono::steady_clock::now();
      info.fn(in, out);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
      EXPECT_LT(ms, 2000) << info.name;
    }
  }
}

}  // namespace
}  // namespace rampart::waf::transformations
