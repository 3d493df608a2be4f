// Variables and collections as v2 builds them: selectors, regex selectors,
// exclusions, counts, case rules, request line pieces, cookies, headers,
// macros, and body processor selection.
#include "tests/unit/waf/harness.h"

namespace rampart::waf::testing {
namespace {

// A rule that copies the first value of TARGET (after t:none) into tx.out.
std::shared_ptr<const Engine> capture(const std::string& target, int phase = 2) {
  return compileRules("SecRule " + target + " \"@rx ^(.*)$\" \"id:1,phase:" + std::to_string(phase) +
                      ",pass,capture,setvar:tx.out=%{tx.1}\"");
}

std::string first(const std::string& target, const Request& req, int phase = 2) {
  auto e = capture(target, phase);
  return run(e, req).tx_("out");
}

TEST(Variables, ArgsSelectorIsCaseInsensitive) {
  Request req;
  req.uri = "/?UserName=bob";
  EXPECT_EQ(first("ARGS:username", req), "bob");
}

TEST(Variables, ArgsGetDecoded) {
  Request req;
  req.uri = "/?a=b%20c+d";
  EXPECT_EQ(first("ARGS_GET:a", req), "b c d");
}

TEST(Variables, ArgsNamesValues) {
  Request req;
  req.uri = "/?first=1&second=2";
  auto e = compileRules(R"(SecRule ARGS_NAMES "@streq second" "id:1,phase:1,pass,setvar:tx.hit=%{MATCHED_VAR_NAME}")");
  EXPECT_EQ(run(e, req).tx_("hit"), "ARGS_NAMES:second");
}

TEST(Variables, RegexSelectorAndExclusion) {
  auto e = compileRules(R"(SecRule ARGS:/^id_/|!ARGS:id_ok "@rx ." "id:1,phase:1,pass,setvar:tx.n=+1")");
  Request req;
  req.uri = "/?id_a=1&ID_B=2&id_ok=3&other=4";
  EXPECT_EQ(run(e, req).tx_("n"), "2");
}

TEST(Variables, ExclusionOfWholeCollection) {
  auto e = compileRules(R"(SecRule ARGS|!ARGS "@rx ." "id:1,phase:1,pass,setvar:tx.n=+1")");
  Request req;
  req.uri = "/?a=1&b=2";
  EXPECT_EQ(run(e, req).tx_("n"), "");
}

TEST(Variables, CountOfCollectionAndSelector) {
  auto e = compileRules(R"(
SecRule &ARGS "@eq 3" "id:1,phase:1,pass,setvar:tx.all=1"
SecRule &ARGS:a "@eq 2" "id:2,phase:1,pass,setvar:tx.two=1"
SecRule &ARGS:zzz "@eq 0" "id:3,phase:1,pass,setvar:tx.none=1")");
  Request req;
  req.uri = "/?a=1&a=2&b=3";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("all"), "1");
  EXPECT_EQ(r.tx_("two"), "1");
  EXPECT_EQ(r.tx_("none"), "1");
}

TEST(Variables, RequestHeadersCaseInsensitiveNameKeepsOriginalInMatchedVarName) {
  auto e = compileRules(R"(SecRule REQUEST_HEADERS:user-agent "@contains curl" "id:1,phase:1,pass,setvar:tx.n=%{MATCHED_VAR_NAME}")");
  Request req;
  req.headers.push_back({"User-Agent", "curl/8"});
  EXPECT_EQ(run(e, req).tx_("n"), "REQUEST_HEADERS:User-Agent");
}

TEST(Variables, RepeatedHeadersMergedLikeApache) {
  auto e = compileRules(R"(
SecRule &REQUEST_HEADERS:X-A "@eq 1" "id:1,phase:1,pass,setvar:tx.one=1"
SecRule REQUEST_HEADERS:X-A "@streq a, b" "id:2,phase:1,pass,setvar:tx.merged=1")");
  Request req;
  req.headers.push_back({"X-A", "a"});
  req.headers.push_back({"x-a", "b"});
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("one"), "1");
  EXPECT_EQ(r.tx_("merged"), "1");
}

// Each header a variable selects by name is found by its key (Engine::Impl::
// header_keys), among many keys alike in length and in their first and last
// bytes (the key table's hash reads those): every present one matched once
// with its own value (a repeated one merged), every absent one not at all;
// the names' list and the count likewise.
TEST(Variables, EveryHeaderSelectedByNameIsFoundAmongManyAlike) {
  std::string rules;
  Request req;
  int present = 0;
  for (int i = 0; i < 64; ++i) {
    const std::string name = "X-H" + std::string(1, char('a' + i % 26)) + "d-" + std::to_string(i % 10) + char('A' + i / 10);
    const std::string value = i == 3 ? "v3, w3" : "v" + std::to_string(i);
    rules += "SecRule REQUEST_HEADERS:" + name + " \"@streq " + value + "\" \"id:" + std::to_string(1000 + i) +
             ",phase:1,pass,setvar:tx.values=+1\"\n";
    rules += "SecRule REQUEST_HEADERS_NAMES:" + name + " \"@rx (?i)^x-h\" \"id:" + std::to_string(2000 + i) +
             ",phase:1,pass,setvar:tx.names=+1\"\n";
    rules += "SecRule &REQUEST_HEADERS:" + name + " \"@eq " + (i % 3 == 0 ? "1" : "0") + "\" \"id:" +
             std::to_string(3000 + i) + ",phase:2,pass,setvar:tx.counts=+1\"\n";
    if (i % 3 != 0) continue;
    ++present;
    std::string sent = name;
    for (size_t k = 0; k < sent.size(); k += 2) sent[k] = char(std::tolower(static_cast<unsigned char>(sent[k])));
    req.headers.push_back({sent, i == 3 ? "v3" : value});
    if (i == 3) req.headers.push_back({name, "w3"});
  }
  auto r = run(compileRules(rules), req);
  EXPECT_EQ(r.tx_("values"), std::to_string(present));
  EXPECT_EQ(r.tx_("names"), std::to_string(present));
  EXPECT_EQ(r.tx_("counts"), "64");
}

TEST(Variables, CookiesV0) {
  Request req;
  req.headers.push_back({"Cookie", "a=1; session=abc%20d;  flag; =x"});
  EXPECT_EQ(first("REQUEST_COOKIES:session", req), "abc%20d");  // not decoded
  auto e = compileRules(R"(SecRule &REQUEST_COOKIES "@eq 3" "id:1,phase:1,pass,setvar:tx.three=1")");
  EXPECT_EQ(run(e, req).tx_("three"), "1");  // the empty name is ignored
}

// Two Cookie lines are one cookie list ("; "), not the first line's last value with ", b=..." in it.
TEST(Variables, RepeatedCookieLinesKeepTheirCookies) {
  Request req;
  req.headers.push_back({"Cookie", "session=abc; cart=%7B%7D"});
  req.headers.push_back({"Cookie", "prefs=-1%20OR%201%3D1"});
  EXPECT_EQ(first("REQUEST_COOKIES:cart", req), "%7B%7D");
  EXPECT_EQ(first("REQUEST_COOKIES:prefs", req), "-1%20OR%201%3D1");
  EXPECT_EQ(first("REQUEST_HEADERS:Cookie", req), "session=abc; cart=%7B%7D; prefs=-1%20OR%201%3D1");
  req.headers.push_back({"X-Two", "a"});
  req.headers.push_back({"X-Two", "b"});
  EXPECT_EQ(first("REQUEST_HEADERS:X-Two", req), "a, b");  // other fields as Apache joins them
}

TEST(Variables, RequestLinePieces) {
  Request req;
  req.method = "GET";
  req.uri = "/a/b/index.php?x=1&y=%41#frag";
  EXPECT_EQ(first("REQUEST_LINE", req, 1), "GET /a/b/index.php?x=1&y=%41#frag HTTP/1.1");
  EXPECT_EQ(first("REQUEST_URI", req, 1), "/a/b/index.php?x=1&y=%41");
  EXPECT_EQ(first("REQUEST_URI_RAW", req, 1), "/a/b/index.php?x=1&y=%41#frag");
  EXPECT_EQ(first("REQUEST_FILENAME", req, 1), "/a/b/index.php");
  EXPECT_EQ(first("REQUEST_BASENAME", req, 1), "index.php");
  EXPECT_EQ(first("QUERY_STRING", req, 1), "x=1&y=%41");
  EXPECT_EQ(first("REQUEST_PROTOCOL", req, 1), "HTTP/1.1");
  EXPECT_EQ(first("REQUEST_METHOD", req, 1), "GET");
}

TEST(Variables, AbsoluteUriDropsAuthority) {
  Request req;
  req.uri = "http://example.com/p/q?z=1";
  EXPECT_EQ(first("REQUEST_FILENAME", req, 1), "/p/q");
  EXPECT_EQ(first("REQUEST_URI", req, 1), "/p/q?z=1");
  EXPECT_EQ(first("REQUEST_URI_RAW", req, 1), "http://example.com/p/q?z=1");
}

TEST(Variables, FilenameDecodedFromPhase2LikeApache) {
  Request req;
  req.uri = "/a/./b/../c%20d.php";
  EXPECT_EQ(first("REQUEST_FILENAME", req, 1), "/a/./b/../c%20d.php");
  EXPECT_EQ(first("REQUEST_FILENAME", req, 2), "/a/c d.php");
  EXPECT_EQ(first("REQUEST_BASENAME", req, 2), "c d.php");
}

TEST(Variables, QueryStringAbsentWithoutQuestionMark) {
  auto e = compileRules(R"(SecRule &QUERY_STRING "@eq 0" "id:1,phase:1,pass,setvar:tx.absent=1")");
  Request req;
  req.uri = "/x";
  EXPECT_EQ(run(e, req).tx_("absent"), "1");
}

TEST(Variables, ConnectionVariables) {
  Request req;
  EXPECT_EQ(first("REMOTE_ADDR", req, 1), "192.0.2.10");
  EXPECT_EQ(first("REMOTE_PORT", req, 1), "40000");
  EXPECT_EQ(first("SERVER_PORT", req, 1), "8080");
  EXPECT_EQ(first("SERVER_NAME", req, 1), "example.com");
  EXPECT_EQ(first("UNIQUE_ID", req, 1), "test-1");
}

TEST(Variables, TxKeysCaseInsensitive) {
  auto e = compileRules(R"(
SecAction "id:1,phase:1,pass,setvar:tx.MyVar=abc"
SecRule TX:myvar "@streq abc" "id:2,phase:1,pass,setvar:tx.ok=1")");
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("ok"), "1");
  EXPECT_EQ(r.tx_("MYVAR"), "abc");
}

TEST(Variables, TxRegexSelector) {
  auto e = compileRules(R"(
SecAction "id:1,phase:1,pass,setvar:tx.score_a=1,setvar:tx.score_b=2,setvar:tx.other=3"
SecRule TX:/^score_/ "@gt 0" "id:2,phase:1,pass,setvar:tx.n=+1")");
  EXPECT_EQ(run(e, Request{}).tx_("n"), "2");
}

TEST(Variables, UrlencodedBodyChosenByContentType) {
  auto e = compileRules(R"(
SecRule REQBODY_PROCESSOR "@streq URLENCODED" "id:1,phase:1,pass,setvar:tx.p1=1"
SecRule ARGS_POST:a "@streq b c" "id:2,phase:2,pass,setvar:tx.post=1"
SecRule REQUEST_BODY "@streq a=b+c" "id:3,phase:2,pass,setvar:tx.body=1")");
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"});
  req.body = "a=b+c";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("p1"), "1");
  EXPECT_EQ(r.tx_("post"), "1");
  EXPECT_EQ(r.tx_("body"), "1");
}

TEST(Variables, ArgsCombinesGetThenPost) {
  auto e = compileRules(R"(SecRule ARGS "@rx ." "id:1,phase:2,pass,setvar:tx.n=+1,setvar:tx.last=%{MATCHED_VAR_NAME}")");
  const Request req = formPost("/?g=1", "p=2");
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("n"), "2");
  EXPECT_EQ(r.tx_("last"), "ARGS:p");
}

TEST(Variables, JsonOnlyThroughCtl) {
  auto e = compileRules(R"(
SecRule REQUEST_HEADERS:Content-Type "@beginsWith application/json" "id:1,phase:1,pass,ctl:requestBodyProcessor=JSON"
SecRule ARGS:a.b "@streq x" "id:2,phase:2,pass,setvar:tx.json=1"
SecRule REQBODY_PROCESSOR "@streq JSON" "id:3,phase:2,pass,setvar:tx.proc=1")");
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = R"({"a":{"b":"x"}})";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("proc"), "1");
  EXPECT_EQ(r.tx_("json"), "1");
}

TEST(Variables, JsonNotParsedWithoutCtl) {
  auto e = compileRules(R"(SecRule &ARGS "@eq 0" "id:2,phase:2,pass,setvar:tx.none=1")");
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = R"({"a":1})";
  EXPECT_EQ(run(e, req).tx_("none"), "1");
}

TEST(Variables, ReqbodyErrorOnBadJson) {
  auto e = compileRules(R"(
SecRule REQUEST_HEADERS:Content-Type "@beginsWith application/json" "id:1,phase:1,pass,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:2,phase:2,pass,setvar:tx.err=1")");
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "application/json"});
  req.body = "{broken";
  EXPECT_EQ(run(e, req).tx_("err"), "1");
}

TEST(Variables, ForceRequestBodyVariable) {
  auto e = compileRules(R"X(
SecRule REQBODY_PROCESSOR "!@rx (?:URLENCODED|MULTIPART|XML|JSON)" "id:1,phase:1,pass,ctl:forceRequestBodyVariable=On"
SecRule REQUEST_BODY "@contains hello" "id:2,phase:2,pass,setvar:tx.seen=1")X");
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "text/plain"});
  req.body = "hello world";
  EXPECT_EQ(run(e, req).tx_("seen"), "1");
}

TEST(Variables, RequestBodyNotAvailableForUnknownTypeWithoutForce) {
  auto e = compileRules(R"(SecRule REQUEST_BODY "@contains hello" "id:2,phase:2,pass,setvar:tx.seen=1")");
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "text/plain"});
  req.body = "hello world";
  EXPECT_EQ(run(e, req).tx_("seen"), "");
}

TEST(Variables, MultipartFilesAndNames) {
  auto e = compileRules(R"(
SecRule FILES "@streq evil.php" "id:1,phase:2,pass,setvar:tx.file=%{MATCHED_VAR_NAME}"
SecRule ARGS:field "@streq value" "id:2,phase:2,pass,setvar:tx.arg=1"
SecRule MULTIPART_STRICT_ERROR "@eq 0" "id:3,phase:2,pass,setvar:tx.strict_ok=1")");
  Request req;
  req.method = "POST";
  req.headers.push_back({"Content-Type", "multipart/form-data; boundary=XyZ"});
  req.body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"upload\"; filename=\"evil.php\"\r\n"
      "Content-Type: text/plain\r\n\r\n<?php ?>\r\n--XyZ--\r\n";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("file"), "FILES:upload");
  EXPECT_EQ(r.tx_("arg"), "1");
  EXPECT_EQ(r.tx_("strict_ok"), "1");
}

TEST(Variables, MultipartFlagsAbsentOutsideMultipart) {
  auto e = compileRules(R"(SecRule &MULTIPART_STRICT_ERROR "@eq 0" "id:3,phase:2,pass,setvar:tx.absent=1")");
  EXPECT_EQ(run(e, Request{}).tx_("absent"), "1");
}

TEST(Variables, RequestBodyLimitReject) {
  auto e = compileRules("SecRequestBodyNoFilesLimit 10\nSecRequestBodyLimit 10\nSecAction \"id:1,phase:2,pass\"");
  const Request req = formPost("/", "a=0123456789abcdef");
  EXPECT_FALSE(run(e, req).body_accepted);
}

TEST(Variables, RequestBodyLimitProcessPartial) {
  auto e = compileRules(
      "SecRequestBodyNoFilesLimit 5\nSecRequestBodyLimitAction ProcessPartial\n"
      "SecRule ARGS_POST:a \"@streq 123\" \"id:1,phase:2,pass,setvar:tx.cut=1\"");
  const Request req = formPost("/", "a=123456");
  auto r = run(e, req);
  EXPECT_TRUE(r.body_accepted);
  EXPECT_EQ(r.tx_("cut"), "1");
}

TEST(Variables, ResponseVariables) {
  auto e = compileRules(R"(
SecRule RESPONSE_STATUS "@eq 404" "id:1,phase:3,pass,setvar:tx.status=1"
SecRule RESPONSE_HEADERS:content-type "@contains html" "id:2,phase:3,pass,setvar:tx.ct=1"
SecRule RESPONSE_BODY "@contains secret" "id:3,phase:4,pass,setvar:tx.body=1"
SecRule STATUS_LINE "@beginsWith HTTP/1.1 404" "id:4,phase:3,pass,setvar:tx.line=1")");
  Request req;
  req.status = 404;
  req.response_body = "the secret";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("status"), "1");
  EXPECT_EQ(r.tx_("ct"), "1");
  EXPECT_EQ(r.tx_("body"), "1");
  EXPECT_EQ(r.tx_("line"), "1");
}

TEST(Variables, ResponseBodyOnlyForConfiguredMime) {
  auto e = compileRules(R"(SecRule RESPONSE_BODY "@contains secret" "id:3,phase:4,pass,setvar:tx.body=1")");
  Request req;
  req.response_headers = {{"Content-Type", "image/png"}};
  req.response_body = "the secret";
  EXPECT_EQ(run(e, req).tx_("body"), "");
}

TEST(Macros, ExpandCollectionsAndScalars) {
  auto e = compileRules(R"(
SecAction "id:1,phase:1,pass,setvar:tx.a=%{REQUEST_HEADERS.host}|%{request_method}|%{tx.missing}|%{REMOTE_ADDR}|%{rule.id}")");
  EXPECT_EQ(run(e, Request{}).tx_("a"), "example.com|GET||192.0.2.10|1");
}

TEST(Macros, MalformedMacroKeptAsText) {
  auto e = compileRules(R"(SecAction "id:1,phase:1,pass,setvar:tx.a=100%{tx.x")");
  EXPECT_EQ(run(e, Request{}).tx_("a"), "100%{tx.x");
}

TEST(Actions, SetvarArithmeticAndDelete) {
  auto e = compileRules(R"(
SecAction "id:1,phase:1,pass,setvar:tx.n=10,setvar:tx.n=+5,setvar:tx.n=-3,setvar:tx.flag,setvar:tx.gone=1,setvar:!tx.gone"
SecRule &TX:gone "@eq 0" "id:2,phase:1,pass,setvar:tx.deleted=1")");
  auto r = run(e, Request{});
  EXPECT_EQ(r.tx_("n"), "12");
  EXPECT_EQ(r.tx_("flag"), "1");
  EXPECT_EQ(r.tx_("deleted"), "1");
}

TEST(Actions, SetvarOnNonNumberStartsAtZero) {
  auto e = compileRules(R"(SecAction "id:1,phase:1,pass,setvar:tx.s=abc,setvar:tx.s=+2")");
  EXPECT_EQ(run(e, Request{}).tx_("s"), "2");
}

TEST(Actions, SetvarMacroInName) {
  auto e = compileRules(R"(SecAction "id:1,phase:1,pass,setvar:tx.k_%{request_method}=1")");
  EXPECT_EQ(run(e, Request{}).tx_("k_GET"), "1");
}

TEST(Actions, InitcolAndIpCollection) {
  auto e = compileRules(R"(
SecAction "id:1,phase:1,pass,initcol:ip=%{remote_addr},setvar:ip.hits=+1"
SecRule IP:hits "@eq 1" "id:2,phase:1,pass,setvar:tx.ip=1")");
  EXPECT_EQ(run(e, Request{}).tx_("ip"), "1");
}

TEST(Actions, HighestSeverity) {
  auto e = compileRules(R"(
SecAction "id:1,phase:1,pass,severity:WARNING"
SecAction "id:2,phase:1,pass,severity:2"
SecRule HIGHEST_SEVERITY "@eq 2" "id:3,phase:1,pass,setvar:tx.hs=1")");
  EXPECT_EQ(run(e, Request{}).tx_("hs"), "1");
}

TEST(Actions, TransformationCacheSharedAcrossRules) {
  // Same value and pipeline in two rules: both see the transformed value.
  auto e = compileRules(R"(
SecRule ARGS:a "@streq abc" "id:1,phase:1,pass,t:lowercase,setvar:tx.one=1"
SecRule ARGS:a "@streq abc" "id:2,phase:1,pass,t:lowercase,setvar:tx.two=1"
SecRule ARGS:a "@streq ABC" "id:3,phase:1,pass,t:none,setvar:tx.raw=1")");
  Request req;
  req.uri = "/?a=ABC";
  auto r = run(e, req);
  EXPECT_EQ(r.tx_("one"), "1");
  EXPECT_EQ(r.tx_("two"), "1");
  EXPECT_EQ(r.tx_("raw"), "1");
}

}  // namespace
}  // namespace rampart::waf::testing

namespace rampart::waf::testing {
namespace {

// Selector regexes that start with a literal are guarded by it (keys without it
// never reach the regex); what they select is what the regex alone selects.
TEST(Variables, RegexSelectorsWithALiteralSelectTheSameKeys) {
  auto engine = compileRules(R"(
SecAction "id:1,phase:1,pass,nolog,setvar:tx.foo_1=a,setvar:tx.FOO_2=b,setvar:tx.xfoo_3=c,setvar:tx.bar=d,setvar:tx.ba=e,setvar:tx.a.b1=f,setvar:tx.axb=g,setvar:tx.y_1=h"
SecRule &TX:/^foo_/ "@eq 2" "id:10,phase:1,pass,log"
SecRule &TX:/foo_/ "@eq 3" "id:11,phase:1,pass,log"
SecRule &TX:/bar*/ "@eq 2" "id:12,phase:1,pass,log"
SecRule &TX:/^a\.b/ "@eq 1" "id:13,phase:1,pass,log"
SecRule &TX:/^(?:x|y)_/ "@eq 1" "id:14,phase:1,pass,log"
SecRule &TX:/^foo_\d$/ "@eq 2" "id:15,phase:1,pass,log"
SecRule &TX:/^FOO_[12]/ "@eq 2" "id:16,phase:1,pass,log"
)");
  ASSERT_TRUE(engine);
  Request plain;
  auto r = run(engine, plain);
  for (int64_t id : {10, 11, 12, 13, 14, 15, 16}) EXPECT_TRUE(r.fired(id)) << id;
}

}  // namespace
}  // namespace rampart::waf::testing
