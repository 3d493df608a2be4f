// URLENCODED processor: ModSecurity v2 parse_arguments() behaviour.
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace rampart::waf::body
