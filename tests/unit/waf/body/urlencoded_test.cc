// URLENCODED processor: ModSecurity v2 parse_arguments() behaviour.
#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "waf/body/body.h"

namespace rampart::waf::body {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

Args args(const Result& r) {
  Args out;
  for (const auto& f : r.args) out.emplace_back(f.name, f.value);
  return out;
}

TEST(UrlEncoded, SimplePairs) {
  Result r = parseUrlEncoded("a=1&b=2", {});
  EXPECT_FALSE(r.error);
  EXPECT_EQ(args(r), (Args{{"a", "1"}, {"b", "2"}}));
}

TEST(UrlEncoded, PlusAndPercentDecoding) {
  Result r = parseUrlEncoded("q=select+1&x=%3Cscript%3e&n%61me=v", {});
  EXPECT_EQ(args(r), (Args{{"q", "select 1"}, {"x", "<script>"}, {"name", "v"}}));
}

TEST(UrlEncoded, InvalidEscapesKept) {
  Result r = parseUrlEncoded("a%2=%41%zz+b&c=%&d=%4", {});
  EXPECT_EQ(args(r), (Args{{"a%2", "A%zz b"}, {"c", "%"}, {"d", "%4"}}));
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(r.urlencoded_error);
}

TEST(UrlEncoded, UrlencodedErrorOnlyForInvalidEscapes) {
  EXPECT_FALSE(parseUrlEncoded("a=%41+b&c=%7e", {}).urlencoded_error);
  EXPECT_TRUE(parseUrlEncoded("a=1&%zz=2", {}).urlencoded_error);
  EXPECT_TRUE(parseUrlEncoded("a=100%", {}).urlencoded_error);
}

TEST(UrlEncoded, EscapeAtVeryEnd) {
  EXPECT_EQ(args(parseUrlEncoded("a=%41", {})), (Args{{"a", "A"}}));
  EXPECT_EQ(args(parseUrlEncoded("a=%4", {})), (Args{{"a", "%4"}}));
}

TEST(UrlEncoded, DecodesNulAndHighBytes) {
  Result r = parseUrlEncoded("a=%00%ff", {});
  ASSERT_EQ(r.args.size(), 1u);
  EXPECT_EQ(r.args[0].value, std::string("\0\xff", 2));
}

TEST(UrlEncoded, NameWithoutEquals) {
  EXPECT_EQ(args(parseUrlEncoded("a&b", {})), (Args{{"a", ""}, {"b", ""}}));
  EXPECT_EQ(args(parseUrlEncoded("flag", {})), (Args{{"flag", ""}}));
}

TEST(UrlEncoded, ValueContainingEquals) {
  EXPECT_EQ(args(parseUrlEncoded("a=b=c&d==", {})), (Args{{"a", "b=c"}, {"d", "="}}));
}

TEST(UrlEncoded, EmptyNameAndEmptyPieces) {
  EXPECT_EQ(args(parseUrlEncoded("=v", {})), (Args{{"", "v"}}));
  EXPECT_EQ(args(parseUrlEncoded("a=1&&b=2", {})), (Args{{"a", "1"}, {"", ""}, {"b", "2"}}));
  EXPECT_EQ(args(parseUrlEncoded("&", {})), (Args{{"", ""}}));
}

TEST(UrlEncoded, TrailingSeparatorAddsNothing) {
  EXPECT_EQ(args(parseUrlEncoded("a=1&", {})), (Args{{"a", "1"}}));
  EXPECT_EQ(args(parseUrlEncoded("a=", {})), (Args{{"a", ""}}));
}

TEST(UrlEncoded, EmptyBody) {
  Result r = parseUrlEncoded("", {});
  EXPECT_TRUE(r.args.empty());
  EXPECT_FALSE(r.error);
}

TEST(UrlEncoded, CustomSeparator) {
  EXPECT_EQ(args(parseUrlEncoded("a=1;b=2&c", {}, ';')), (Args{{"a", "1"}, {"b", "2&c"}}));
}

TEST(UrlEncoded, DuplicatesKeptInOrder) {
  EXPECT_EQ(args(parseUrlEncoded("a=1&a=2&a=3", {})), (Args{{"a", "1"}, {"a", "2"}, {"a", "3"}}));
}

TEST(UrlEncoded, ArgumentsLimitKeepsFirstN) {
  Limits limits;
  limits.max_args = 2;
  Result r = parseUrlEncoded("a=1&b=2&c=3&d=4", limits);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "SecArgumentsLimit exceeded");
  EXPECT_EQ(args(r), (Args{{"a", "1"}, {"b", "2"}}));
}

TEST(UrlEncoded, ArgumentsLimitExactlyReachedIsNoError) {
  Limits limits;
  limits.max_args = 2;
  Result r = parseUrlEncoded("a=1&b=2", limits);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.args.size(), 2u);
}

TEST(UrlEncoded, LargeInputIsLinear) {
  std::string body;
  for (int i = 0; i < 20000; ++i) body += "k=v&";
  Limits limits;
  limits.max_args = 100000;
  Result r = parseUrlEncoded(body, limits);
  EXPECT_EQ(r.args.size(), 20000u);
}

// The engine's parse: names and values without an escape or '+' view the body
// itself, the decoded ones the storage, which never moves while it is filled
// (views taken early stay right at the end).
TEST(UrlEncoded, ViewsPointIntoTheBodyOrTheStorage) {
  std::string body;
  for (int i = 0; i < 200; ++i) body += "k" + std::to_string(i) + "=a+b%41&plain" + std::to_string(i) + "=xyz&";
  std::string storage = "left over";
  std::vector<std::pair<std::string_view, std::string_view>> out{{"stale", "stale"}};
  bool invalid = false;
  parseUrlEncodedViews(body, '&', storage, out, &invalid);
  ASSERT_EQ(out.size(), 400u);
  EXPECT_FALSE(invalid);
  auto inside = [](std::string_view v, const std::string& s) {
    return v.data() >= s.data() && v.data() + v.size() <= s.data() + s.size();
  };
  for (int i = 0; i < 200; ++i) {
    const auto& [name, value] = out[size_t(2 * i)];
    EXPECT_EQ(name, "k" + std::to_string(i));
    EXPECT_TRUE(inside(name, body));
    EXPECT_EQ(value, "a bA");
    EXPECT_TRUE(inside(value, storage));
    const auto& [plain, xyz] = out[size_t(2 * i + 1)];
    EXPECT_EQ(plain, "plain" + std::to_string(i));
    EXPECT_TRUE(inside(xyz, body));
  }
  EXPECT_EQ(storage.size(), 200u * 4u);  // only the decoded bytes
}

// The views give what parseUrlEncoded gives (and a plain reading of the rules
// in this file's head: '+' is a space, %XX with two hex digits a byte,
// anything else as it is) on random bodies over the bytes that matter.
TEST(UrlEncoded, ViewsAgreeWithAPlainDecoderOnRandomBodies) {
  auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  auto decode = [&](std::string_view in, bool& invalid) {
    std::string out;
    for (size_t i = 0; i < in.size(); ++i) {
      if (in[i] == '+') {
        out += ' ';
      } else if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) && hex(in[i + 2])) {
        out += static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        if (in[i] == '%') invalid = true;
        out += in[i];
      }
    }
    return out;
  };
  const std::string alphabet = "ab=&%+2F4g";
  uint64_t seed = 42;
  std::string storage;
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (int round = 0; round < 3000; ++round) {
    std::string body;
    const size_t len = size_t(round % 40);
    for (size_t k = 0; k < len; ++k) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      body += alphabet[(seed >> 33) % alphabet.size()];
    }
    Args want;
    bool want_invalid = false;
    for (size_t i = 0; i < body.size();) {
      const size_t end = std::min(body.find('&', i), body.size());
      const std::string_view piece = std::string_view(body).substr(i, end - i);
      const size_t eq = piece.find('=');
      std::string name = decode(piece.substr(0, eq), want_invalid);
      std::string value = eq == std::string_view::npos ? "" : decode(piece.substr(eq + 1), want_invalid);
      want.emplace_back(std::move(name), std::move(value));
      i = end + 1;
    }
    bool invalid = false;
    parseUrlEncodedViews(body, '&', storage, out, &invalid);
    Args got;
    for (const auto& [n, v] : out) got.emplace_back(n, v);
    ASSERT_EQ(got, want) << body;
    EXPECT_EQ(invalid, want_invalid) << body;
    Limits limits;
    limits.max_args = 1000;
    EXPECT_EQ(args(parseUrlEncoded(body, limits)), want) << body;
  }
}

}  // namespace
}  // namespace rampart::waf::body
