// The CRS runner's own pieces: go-ftw request building, YAML reading, the
// gateway's view of the bytes, the reflector and the log lines.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gateway/cli/ftw_request.h"
#include "gateway/cli/ftw_test.h"
#include "gateway/cli/waf_runner.h"

namespace rampart::cli {
namespace {

ftw::Input input(std::vector<std::pair<std::string, std::string>> headers) {
  ftw::Input in;
  in.headers = std::move(headers);
  return in;
}

TEST(FtwRequest, DefaultsAndSortedHeaders) {
  auto in = input({{"User-Agent", "OWASP CRS test agent"}, {"Host", "localhost"}});
  EXPECT_EQ(ftw::buildRawRequest(in),
            "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: OWASP CRS test agent\r\nConnection: close\r\n\r\n");
  // ordered_headers keep their order
  in.headers_ordered = true;
  EXPECT_EQ(ftw::buildRawRequest(in),
            "GET / HTTP/1.1\r\nUser-Agent: OWASP CRS test agent\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

TEST(FtwRequest, FormDataIsEncodedAndFramed) {
  auto in = input({{"Host", "localhost"}});
  in.method = "POST";
  in.data = "var=1234 OR 1=1&x";
  EXPECT_EQ(ftw::buildRawRequest(in),
            "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            "Connection: close\r\nContent-Length: 19\r\n\r\n"
            "var=1234+OR+1%3D1&x");
}

TEST(FtwRequest, HeaderPresenceIgnoresCase) {
  auto in = input({{"Host", "localhost"}, {"content-type", "application/xml"}, {"content-length", "2"}});
  in.method = "POST";
  in.data = "<a>";
  EXPECT_EQ(ftw::buildRawRequest(in),
            "POST / HTTP/1.1\r\nHost: localhost\r\ncontent-length: 2\r\ncontent-type: application/xml\r\n"
            "Connection: close\r\n\r\n<a>");
}

TEST(FtwRequest, EncodedLookingDataIsSentAsIs) {
  auto in = input({{"Host", "localhost"}});
  in.method = "POST";
  in.data = "a=%27%20or";
  auto raw = ftw::buildRawRequest(in);
  EXPECT_NE(raw.find("\r\n\r\na=%27%20or"), std::string::npos) << raw;
  // a '+' unescapes to a space: go-ftw takes that as already encoded too
  in.data = "a=1+1";
  EXPECT_NE(ftw::buildRawRequest(in).find("\r\n\r\na=1+1"), std::string::npos);
}

TEST(FtwRequest, OtherContentTypesAreNotEncoded) {
  auto in = input({{"Host", "localhost"}, {"Content-Type", "application/json"}});
  in.method = "POST";
  in.data = R"({"a": "b c"})";
  auto raw = ftw::buildRawRequest(in);
  EXPECT_NE(raw.find("Content-Length: 12\r\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\r\n\r\n{\"a\": \"b c\"}"), std::string::npos) << raw;
}

TEST(FtwRequest, PostWithoutDataGetsZeroLength) {
  auto in = input({{"Host", "localhost"}});
  in.method = "POST";
  EXPECT_NE(ftw::buildRawRequest(in).find("Content-Length: 0\r\n"), std::string::npos);
  in.method = "GET";
  EXPECT_EQ(ftw::buildRawRequest(in).find("Content-Length"), std::string::npos);
}

TEST(FtwRequest, NoAutocompleteAddsNothing) {
  auto in = input({{"Host", "localhost"}});
  in.method = "POST";
  in.data = "a b";
  in.autocomplete_headers = false;
  EXPECT_EQ(ftw::buildRawRequest(in), "POST / HTTP/1.1\r\nHost: localhost\r\n\r\na b");
}

TEST(FtwRequest, ExplicitHeadersWin) {
  auto in = input({{"Host", "localhost"}, {"Connection", "keep-alive"}, {"Content-Length", "3"}});
  in.method = "POST";
  in.data = "abcdef";
  in.headers.emplace_back("Content-Type", "text/plain");
  auto raw = ftw::buildRawRequest(in);
  EXPECT_NE(raw.find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(raw.find("Content-Length: 3\r\n"), std::string::npos);
  auto wire = ftw::parseWire(raw);
  ASSERT_FALSE(wire.rejected) << wire.reason;
  EXPECT_EQ(wire.body, "abc");
}

TEST(FtwRequest, MultipartLineEndingsBecomeCrlf) {
  auto in = input({{"Host", "localhost"}, {"Content-Type", "multipart/form-data; boundary=xx"}});
  in.method = "POST";
  in.data = "--xx\nContent-Disposition: form-data; name=\"a\"\n\nv\n--xx--\n";
  auto raw = ftw::buildRawRequest(in);
  EXPECT_NE(raw.find("\r\n\r\n--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--xx--\r\n"),
            std::string::npos)
      << raw;
  EXPECT_NE(raw.find("Content-Length: 61\r\n"), std::string::npos) << raw;
}

TEST(FtwRequest, EncodedRequestIsDecodedWithLineBreaks) {
  ftw::Input in;
  // "GET / HTTP/1.1\r\nHost: a\r\n\r\n" split over two lines as in CRS's YAML
  in.encoded_request = "R0VUIC8gSFRUUC8xLjENCkhv\nc3Q6IGENCg0K";
  EXPECT_EQ(ftw::buildRawRequest(in), "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
}

TEST(FtwRequest, GoQueryEscape) {
  EXPECT_EQ(ftw::goQueryEscape("a b/c?d=e&f~g.h-i_j"), "a+b%2Fc%3Fd%3De%26f~g.h-i_j");
  EXPECT_EQ(ftw::goQueryEscape("\xff<"), "%FF%3C");
}

TEST(FtwTemplates, RepeatIsExpanded) {
  EXPECT_EQ(ftw::expandTemplates("a{{ \"xy\" | repeat 3 }}b"), "axyxyxyb");
  EXPECT_EQ(ftw::expandTemplates("{{constructor.constructor('alert(1)')()}}"),
            "{{constructor.constructor('alert(1)')()}}");
}

TEST(Wire, GatewayRejectsWhatItWould) {
  auto bad = ftw::parseWire("GET / JUNK/1.0\r\nHost: a\r\n\r\n");
  EXPECT_TRUE(bad.rejected);
  EXPECT_GE(bad.status, 400);
  auto partial = ftw::parseWire("GET / HTTP/1.1\r\nHost: a\r\n");
  EXPECT_TRUE(partial.incomplete);
  EXPECT_FALSE(partial.rejected);
}

TEST(Wire, ChunkedBodyIsDecoded) {
  auto w = ftw::parseWire(
      "POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nHi \r\n3\r\nCRS\r\n0\r\n\r\n");
  ASSERT_FALSE(w.rejected) << w.reason;
  EXPECT_EQ(w.method, "POST");
  EXPECT_EQ(w.target, "/");
  EXPECT_EQ(w.protocol, "HTTP/1.1");
  EXPECT_EQ(w.body, "Hi CRS");
  EXPECT_FALSE(w.body_truncated);
}

TEST(Wire, ShortBodyIsMarkedTruncated) {
  auto w = ftw::parseWire("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_FALSE(w.rejected) << w.reason;
  EXPECT_EQ(w.body, "abc");
  EXPECT_TRUE(w.body_truncated);
}

TEST(Reflector, ReflectsStatusHeadersBody) {
  auto r = wafrun::reflect("POST", "/reflect", R"({"status": 503, "headers": {"X-A": "b"}, "body": "abc"})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "abc");
  bool xa = false, type = false;
  for (auto& [n, v] : r.headers) {
    if (n == "X-A" && v == "b") xa = true;
    if (n == "Content-Type" && v == "text/plain; charset=utf-8") type = true;
  }
  EXPECT_TRUE(xa);
  EXPECT_TRUE(type);
}

TEST(Reflector, EncodedBodyWinsAndHtmlIsSniffed) {
  // "<html>x" in base64
  auto r = wafrun::reflect("POST", "/reflect", R"({"body": "plain", "encodedBody": "PGh0bWw+eA=="})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html>x");
  bool html = false;
  for (auto& [n, v] : r.headers)
    if (n == "Content-Type") html = v == "text/html; charset=utf-8";
  EXPECT_TRUE(html);
}

TEST(Reflector, OtherRequestsGetEmpty200) {
  auto r = wafrun::reflect("GET", "/reflect", R"({"status": 500})");
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.body.empty());
}

TEST(ErrorLog, LineHasModSecurityFields) {
  waf::MatchedRule m;
  m.id = 942100;
  m.msg = "SQL Injection Attack Detected via libinjection";
  m.logdata = "Matched Data: s&1 found within ARGS:var: 1234 \"OR\" 1=1";
  m.severity = 2;
  m.tags = {"attack-sqli", "paranoia-level/1"};
  m.matched_var_name = "ARGS:var";
  m.matched_data = "s&1";
  auto line = wafrun::logLine(m, "/?var=x", "u1");
  EXPECT_NE(line.find("[id \"942100\"]"), std::string::npos) << line;
  EXPECT_NE(line.find("[msg \"SQL Injection Attack Detected via libinjection\"]"), std::string::npos);
  EXPECT_NE(line.find("[data \"Matched Data: s&1 found within ARGS:var: 1234 \\\"OR\\\" 1=1\"]"), std::string::npos)
      << line;
  EXPECT_NE(line.find("[severity \"CRITICAL\"]"), std::string::npos);
  EXPECT_NE(line.find("[tag \"paranoia-level/1\"]"), std::string::npos);
}

TEST(FtwYaml, ReadsCrsShape) {
  auto path = std::filesystem::temp_directory_path() / "rampart_ftw_test_942999.yaml";
  {
    std::ofstream f(path);
    f << R"(---
meta:
  author: "x"
rule_id: 942999
tests:
  - test_id: 1
    desc: "two stages"
    stages:
      - input:
          dest_addr: "127.0.0.1"
          port: 80
          method: "POST"
          headers:
            Host: "localhost"
            X-Num: 5
          data: |
            a=1
          autocomplete_headers: false
        output:
          status: 403
          log:
            expect_ids: [942999]
            no_expect_ids: [942100, 942101]
            match_regex: 'found within ARGS:a'
      - input:
          uri: "/x"
          version: ""
        output:
          expect_error: true
  - test_id: 2
    stages:
      - input:
          encoded_request: "R0VUIC8gSFRUUC8xLjENCg0K"
        output:
          status: [200, 404]
)";
  }
  std::vector<std::string> errors;
  auto tests = ftw::loadTestFile(path.string(), "x/942999.yaml", errors);
  std::filesystem::remove(path);
  ASSERT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(tests.size(), 2u);
  EXPECT_EQ(tests[0].key(), "942999-1");
  ASSERT_EQ(tests[0].stages.size(), 2u);
  const auto& s1 = tests[0].stages[0];
  EXPECT_EQ(s1.input.method.value_or(""), "POST");
  EXPECT_FALSE(s1.input.uri.has_value());
  EXPECT_EQ(s1.input.data.value_or(""), "a=1\n");
  EXPECT_FALSE(s1.input.autocomplete_headers);
  ASSERT_EQ(s1.input.headers.size(), 2u);
  EXPECT_EQ(s1.input.headers[1].second, "5");
  EXPECT_EQ(s1.output.status, std::vector<int>{403});
  EXPECT_EQ(s1.output.expect_ids, std::vector<long long>{942999});
  EXPECT_EQ(s1.output.no_expect_ids.size(), 2u);
  EXPECT_EQ(s1.output.match_regex, std::vector<std::string>{"found within ARGS:a"});
  const auto& s2 = tests[0].stages[1];
  EXPECT_EQ(s2.input.version.value_or("unset"), "");
  EXPECT_TRUE(s2.output.expect_error.value_or(false));
  EXPECT_EQ(tests[1].stages[0].output.status, (std::vector<int>{200, 404}));
  EXPECT_TRUE(tests[1].stages[0].input.encoded_request.has_value());
}

TEST(ExpectedFailures, ParsesKeysAndReasons) {
  auto path = std::filesystem::temp_directory_path() / "rampart_expected_failures.txt";
  {
    std::ofstream f(path);
    f << "# comment\n\n942100-3  needs @detectSQLi (issue 5)\n920100-4\tgateway answers 400\n";
  }
  std::vector<std::string> errors;
  auto m = ftw::loadExpectedFailures(path.string(), errors);
  std::filesystem::remove(path);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m["942100-3"], "needs @detectSQLi (issue 5)");
  EXPECT_EQ(m["920100-4"], "gateway answers 400");
}

TEST(Overrides, ReadsGoFtwOverrideFile) {
  auto path = std::filesystem::temp_directory_path() / "rampart_overrides.yaml";
  {
    std::ofstream f(path);
    f << R"(version: "v0.0.0"
meta:
  engine: "x"
test_overrides:
  - rule_id: 920100
    test_ids: [4, 8]
    reason: "answers 400"
    output:
      status: 400
  - rule_id: 932200
    test_ids: [13]
    reason: 'wip'
  - rule_id: 942100
    reason: all of them
    expect_failure: true
)";
  }
  std::vector<std::string> errors;
  auto ovs = ftw::loadOverrides(path.string(), errors);
  std::filesystem::remove(path);
  ASSERT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(ovs.size(), 3u);
  EXPECT_EQ(ovs[0].rule_id, 920100);
  EXPECT_EQ(ovs[0].test_ids, (std::vector<std::string>{"4", "8"}));
  ASSERT_TRUE(ovs[0].output.has_value());
  EXPECT_EQ(ovs[0].output->status, std::vector<int>{400});
  EXPECT_FALSE(ovs[1].output.has_value());
  EXPECT_FALSE(ovs[1].expect_failure);
  EXPECT_TRUE(ovs[2].test_ids.empty());
  EXPECT_TRUE(ovs[2].expect_failure);
}

}  // namespace
}  // namespace rampart::cli
