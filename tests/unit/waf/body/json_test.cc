// JSON processor: ModSecurity v2 naming (default) and v3 naming.
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

Limits v3() {
  Limits l;
  l.json_v3_naming = true;
  return l;
}

TEST(JsonV2, FlatObject) {
  Result r = parseJson(R"({"a":"x","b":"y"})", {});
  EXPECT_FALSE(r.error) << r.error_msg;
  EXPECT_EQ(args(r), (Args{{"a", "x"}, {"b", "y"}}));
}

TEST(JsonV2, NestedObjects) {
  Result r = parseJson(R"({"a":{"b":{"c":"d"}},"e":"f"})", {});
  EXPECT_EQ(args(r), (Args{{"a.b.c", "d"}, {"e", "f"}}));
}

TEST(JsonV2, ArrayRepeatsKey) {
  Result r = parseJson(R"({"a":{"b":[1,2]}})", {});
  EXPECT_EQ(args(r), (Args{{"a.b.b", "1"}, {"a.b.b", "2"}}));
}

TEST(JsonV2, ObjectsInsideArray) {
  Result r = parseJson(R"({"a":[{"b":1},5]})", {});
  EXPECT_EQ(args(r), (Args{{"a.a.b", "1"}, {"a.a", "5"}}));
}

TEST(JsonV2, TopLevelArray) {
  EXPECT_EQ(args(parseJson(R"([1,"x"])", {})), (Args{{"array.array", "1"}, {"array.array", "x"}}));
  EXPECT_EQ(args(parseJson(R"([[1]])", {})), (Args{{"array.array.array", "1"}}));
  EXPECT_EQ(args(parseJson(R"([{"a":1}])", {})), (Args{{"array.array.a", "1"}}));
}

TEST(JsonV2, KeyAfterNestedObjectRestoresPrefix) {
  Result r = parseJson(R"({"a":{"b":1},"c":{"d":{"e":2},"f":3},"g":4})", {});
  EXPECT_EQ(args(r), (Args{{"a.b", "1"}, {"c.d.e", "2"}, {"c.f", "3"}, {"g", "4"}}));
}

TEST(JsonV2, ScalarsAndTheirStringForms) {
  Result r = parseJson(R"({"t":true,"f":false,"n":null,"i":-12,"d":1.50e3,"s":"a\"b\u0041"})", {});
  EXPECT_EQ(args(r),
            (Args{{"t", "true"}, {"f", "false"}, {"n", ""}, {"i", "-12"}, {"d", "1.50e3"}, {"s", "a\"bA"}}));
}

TEST(JsonV2, BigIntegerKeptAsText) {
  EXPECT_EQ(args(parseJson(R"({"n":123456789012345678901234567890})", {})),
            (Args{{"n", "123456789012345678901234567890"}}));
}

TEST(JsonV2, EmptyContainersAddNothing) {
  Result r = parseJson(R"({"a":{},"b":[],"c":"x"})", {});
  EXPECT_FALSE(r.error);
  EXPECT_EQ(args(r), (Args{{"c", "x"}}));
  EXPECT_TRUE(parseJson("{}", {}).args.empty());
  EXPECT_TRUE(parseJson("[]", {}).args.empty());
}

TEST(JsonV2, TopLevelScalar) {
  EXPECT_EQ(args(parseJson(R"("x")", {})), (Args{{"", "x"}}));
  EXPECT_EQ(args(parseJson("42", {})), (Args{{"", "42"}}));
}

TEST(JsonV2, DottedKeysUnwindLikeV2) {
  Result r = parseJson(R"({"a.b":[1],"c":2})", {});
  EXPECT_EQ(args(r), (Args{{"a.b.a.b", "1"}, {"a.c", "2"}}));
}

TEST(JsonV2, EmptyKey) { EXPECT_EQ(args(parseJson(R"({"":{"x":1}})", {})), (Args{{".x", "1"}})); }

TEST(JsonV3, Naming) {
  EXPECT_EQ(args(parseJson(R"({"a":{"b":[1,2]}})", v3())),
            (Args{{"json.a.b.array_0", "1"}, {"json.a.b.array_1", "2"}}));
  EXPECT_EQ(args(parseJson(R"([1,{"b":2}])", v3())), (Args{{"json.array_0", "1"}, {"json.array_1.b", "2"}}));
  EXPECT_EQ(args(parseJson(R"("x")", v3())), (Args{{"json", "x"}}));
  EXPECT_EQ(args(parseJson(R"({"a":"x","":"y"})", v3())), (Args{{"json.a", "x"}, {"json.empty-key", "y"}}));
}

TEST(JsonV3, NestedArrays) {
  EXPECT_EQ(args(parseJson(R"({"a":[[1],2]})", v3())),
            (Args{{"json.a.array_0.array_0", "1"}, {"json.a.array_1", "2"}}));
}

TEST(Json, EmptyBodyIsNoError) {
  Result r = parseJson("", {});
  EXPECT_FALSE(r.error);
  EXPECT_TRUE(r.args.empty());
}

TEST(Json, WhitespaceOnlyIsError) {
  Result r = parseJson("  \n", {});
  EXPECT_TRUE(r.error);
}

TEST(Json, InvalidJsonKeepsEarlierArgs) {
  Result r = parseJson(R"({"a":"1","b":tru})", {});
  EXPECT_TRUE(r.error);
  EXPECT_FALSE(r.error_msg.empty());
  EXPECT_EQ(r.error_msg.find("JSON parser error"), std::string::npos);  // the engine adds it
  EXPECT_EQ(args(r), (Args{{"a", "1"}}));
}

TEST(Json, TruncatedIsError) {
  Result r = parseJson(R"({"a":"1")", {});
  EXPECT_TRUE(r.error);
}

TEST(Json, TrailingGarbageIsError) {
  Result r = parseJson(R"({"a":"1"} x)", {});
  EXPECT_TRUE(r.error);
  Result r2 = parseJson(R"({"a":1}{"b":2})", {});
  EXPECT_TRUE(r2.error);
}

TEST(Json, InvalidNumberIsError) {
  EXPECT_TRUE(parseJson(R"({"a":01})", {}).error);
  EXPECT_TRUE(parseJson(R"({"a":1.})", {}).error);
  EXPECT_TRUE(parseJson(R"({"a":-})", {}).error);
}

TEST(Json, InvalidUtf8IsError) { EXPECT_TRUE(parseJson("{\"a\":\"\xff\"}", {}).error); }

TEST(Json, DepthLimitV2CountsNestedNotTopLevelObject) {
  Limits l;
  l.json_depth = 2;
  Result ok = parseJson(R"({"a":{"b":{"c":1}}})", l);  // depth 2 in v2
  EXPECT_FALSE(ok.error) << ok.error_msg;
  Result bad = parseJson(R"({"a":{"b":{"c":{"d":1}}}})", l);
  EXPECT_TRUE(bad.error);
  EXPECT_EQ(bad.error_msg, "JSON depth limit exceeded");
}

TEST(Json, DepthLimitArrays) {
  Limits l;
  l.json_depth = 1;
  EXPECT_FALSE(parseJson("[1]", l).error);
  EXPECT_TRUE(parseJson("[[1]]", l).error);
}

TEST(Json, VeryDeepNestingIsErrorNotCrash) {
  std::string deep(100000, '[');
  deep += std::string(100000, ']');
  Result r = parseJson(deep, {});
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "JSON depth limit exceeded");
}

TEST(Json, NestingCappedAt1024WhateverTheLimit) {
  // Found by fuzz_body_json: v3 naming, 4191 nested arrays, stack overflow.
  for (bool v3naming : {false, true}) {
    Limits l;
    l.json_v3_naming = v3naming;
    std::string ok = std::string(1000, '[') + "1" + std::string(1000, ']');
    EXPECT_FALSE(parseJson(ok, l).error) << v3naming;
    std::string deep = std::string(4191, '[') + std::string(4191, ']');
    Result r = parseJson(deep, l);
    EXPECT_TRUE(r.error);
    EXPECT_EQ(r.error_msg, "JSON depth limit exceeded");
  }
}

TEST(Json, ArgumentsLimit) {
  Limits l;
  l.max_args = 2;
  Result r = parseJson(R"({"a":1,"b":2,"c":3})", l);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "More than 2 JSON keys");
  EXPECT_EQ(args(r), (Args{{"a", "1"}, {"b", "2"}}));
}

TEST(Json, LongKeyOverLongArrayIsBounded) {
  // v2 names every element "<key>.<key>": 60 KB x 100000 elements would be 12 GB.
  std::string key(60000, 'k');
  std::string body = "{\"" + key + "\":[";
  for (int i = 0; i < 100000; ++i) body += "1,";
  body += "1]}";
  Limits l;
  l.max_args = 1000000;
  Result r = parseJson(body, l);
  EXPECT_TRUE(r.error);
  EXPECT_EQ(r.error_msg, "JSON argument names and values too large");
  size_t total = 0;
  for (const auto& f : r.args) total += f.name.size() + f.value.size();
  EXPECT_LE(total, (4u << 20) + 16 * body.size());
  EXPECT_GT(r.args.size(), 10u);
}

TEST(Json, KeysAreUnescaped) { EXPECT_EQ(args(parseJson(R"({"a\u0027b":"x"})", {})), (Args{{"a'b", "x"}})); }

}  // namespace
}  // namespace rampart::waf::body
