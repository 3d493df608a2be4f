#include "gateway/log/json.h"

#include <gtest/gtest.h>

#include "gateway/log/access_log.h"

namespace rampart::gateway::log {
namespace {

std::string js(std::string_view s) {
  std::string o;
  appendJsonString(o, s);
  return o;
}

TEST(Json, StringsEscapeExactly) {
  EXPECT_EQ(js("/products/x?a=1&b=2"), "\"/products/x?a=1&b=2\"");
  EXPECT_EQ(js("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(js("\n\r\t"), "\"\\n\\r\\t\"");
  EXPECT_EQ(js(std::string_view("\x01\x7f", 2)), "\"\\u0001\\u007f\"");
  EXPECT_EQ(js("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");  // valid UTF-8 kept
  EXPECT_EQ(js("\xff\xc3"), "\"\\u00ff\\u00c3\"");  // not UTF-8: Latin-1 code points
  EXPECT_EQ(js("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");  // a surrogate is not UTF-8
  EXPECT_EQ(js(""), "\"\"");
}

TEST(Json, IsoTimeAcrossSecondsAndRepeats) {
  std::string o;
  appendIsoTime(o, 1796305318543);
  EXPECT_EQ(o, "2026-12-03T13:41:58.543Z");
  o.clear();
  appendIsoTime(o, 1796305318999);  // same second: from the cache
  EXPECT_EQ(o, "2026-12-03T13:41:58.999Z");
  o.clear();
  appendIsoTime(o, 1796305319000);
  EXPECT_EQ(o, "2026-12-03T13:41:59.000Z");
  o.clear();
  appendIsoTime(o, 0);
  EXPECT_EQ(o, "1970-01-01T00:00:00.000Z");
}

TEST(Json, AccessRecordAppendsWhatToJsonReturns) {
  AccessRecord r;
  r.time_ms = 1796305318543;
  r.request_id = "abc";
  r.path = "/p";
  r.status = 404;
  r.upstream_ms = 1.5;
  r.total_ms = 2.25;
  r.waf = "blocked";
  std::string o = "x";
  r.appendJson(o);
  EXPECT_EQ(o, "x" + r.toJson());
  EXPECT_NE(o.find("\"status\":404"), std::string::npos);
  EXPECT_NE(o.find("\"upstream_ms\":1.500,\"total_ms\":2.250"), std::string::npos);
  EXPECT_NE(o.find("\"waf\":\"blocked\"}"), std::string::npos);
}

}  // namespace
}  // namespace rampart::gateway::log
