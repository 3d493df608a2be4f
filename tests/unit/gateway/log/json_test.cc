#include "gateway/log/json.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

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

// The 8-bytes-at-a-time path against a byte-at-a-time reference, on strings
// with a byte that needs escaping at every position of a word and in runs.
std::string reference(std::string_view s) {
  std::string o = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    char buf[8];
    if (c == '"') o += "\\\"";
    else if (c == '\\') o += "\\\\";
    else if (c == '\n') o += "\\n";
    else if (c == '\r') o += "\\r";
    else if (c == '\t') o += "\\t";
    else if (c >= 0x20 && c < 0x7f) o += char(c);
    else if (c >= 0xc2 && c <= 0xdf && i + 1 < s.size() &&
             (static_cast<unsigned char>(s[i + 1]) & 0xc0) == 0x80) {  // two-byte UTF-8 only
      o.append(s.substr(i, 2));
      ++i;
    } else {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o += buf;
    }
  }
  return o + "\"";
}

TEST(Json, WordAtATimeEscapingMatchesByteAtATime) {
  const unsigned char specials[] = {'"', '\\', '\n', 0x01, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xc3, 0xff};
  for (size_t len = 0; len <= 24; ++len)
    for (size_t at = 0; at < len; ++at)
      for (unsigned char c : specials) {
        std::string s(len, 'a');
        s[at] = char(c);
        EXPECT_EQ(js(s), reference(s)) << "length " << len << ", byte " << int(c) << " at " << at;
      }
  std::string pair = "abcdefg\xc3\xa9hijklmnop\"q";  // a UTF-8 pair across a word boundary
  EXPECT_EQ(js(pair), reference(pair));
  std::mt19937 rng(7);
  for (int n = 0; n < 2000; ++n) {
    std::string s(rng() % 40, '\0');
    for (auto& ch : s) ch = char(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 26);
    // Only one- and two-byte sequences in the reference: drop longer lead bytes.
    for (auto& ch : s)
      if (static_cast<unsigned char>(ch) >= 0xe0) ch = 'z';
    ASSERT_EQ(js(s), reference(s)) << n;
  }
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
