// Table-driven tests of parseResponseHead: status-line grammar and the body framing
// rules of RFC 9112 6.3 (HEAD, 1xx, 204, 304, CONNECT 2xx, chunked, Content-Length,
// read-until-close). Every invalid response is an Error that the gateway answers 502.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/http/parser.h"

namespace rampart::gateway::http {
namespace {

using namespace std::string_literals;

constexpr int kDone = 0;
constexpr int kNeedMore = -1;

struct RespCase {
  const char* name;
  std::string raw;
  const char* method;
  int expect;  // kDone, kNeedMore, or 502
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool keep_alive = true;
};
void PrintTo(const RespCase& c, std::ostream* os) { *os << c.name; }

Limits testLimits() {
  Limits l;
  l.max_request_line = 128;
  l.max_header_bytes = 1024;
  l.max_headers = 10;
  l.max_header_line = 256;
  return l;
}

std::string resp(std::string_view line, std::string_view fields) {
  return std::string(line) + "\r\n" + std::string(fields) + "\r\n";
}

std::vector<RespCase> cases() {
  using F = BodyFraming;
  return {
      {"ok_content_length", resp("HTTP/1.1 200 OK", "Content-Length: 5\r\n"), "GET", kDone, F::ContentLength, 5},
      {"ok_chunked", resp("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n"), "GET", kDone, F::Chunked},
      {"ok_until_close", resp("HTTP/1.1 200 OK", "Server: x\r\n"), "GET", kDone, F::UntilClose, 0, false},
      {"ok_cl_zero", resp("HTTP/1.1 200 OK", "Content-Length: 0\r\n"), "GET", kDone, F::None},
      {"no_reason_with_sp", resp("HTTP/1.1 200 ", "Content-Length: 0\r\n"), "GET", kDone},
      {"no_reason_no_sp", resp("HTTP/1.1 200", "Content-Length: 0\r\n"), "GET", kDone},
      {"reason_obs_text", resp("HTTP/1.1 200 D\xc3\xa9j\xc3\xa0", "Content-Length: 0\r\n"), "GET", kDone},
      {"reason_with_tab", resp("HTTP/1.1 404 Not\tFound", "Content-Length: 0\r\n"), "GET", kDone},
      {"head_ignores_cl", resp("HTTP/1.1 200 OK", "Content-Length: 500\r\n"), "HEAD", kDone, F::None},
      {"head_ignores_te", resp("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n"), "HEAD", kDone, F::None},
      {"status_100", resp("HTTP/1.1 100 Continue", ""), "POST", kDone, F::None},
      {"status_101", resp("HTTP/1.1 101 Switching Protocols", "Upgrade: websocket\r\nConnection: Upgrade\r\n"), "GET",
       kDone, F::None},
      {"status_103", resp("HTTP/1.1 103 Early Hints", "Link: </a.css>\r\n"), "GET", kDone, F::None},
      {"status_204_ignores_cl", resp("HTTP/1.1 204 No Content", "Content-Length: 10\r\n"), "GET", kDone, F::None},
      {"status_304_ignores_cl", resp("HTTP/1.1 304 Not Modified", "Content-Length: 10\r\n"), "GET", kDone, F::None},
      {"connect_200_tunnel", resp("HTTP/1.1 200 Connection established", ""), "CONNECT", kDone, F::None},
      {"connect_407_has_body", resp("HTTP/1.1 407 Auth", "Content-Length: 3\r\n"), "CONNECT", kDone,
       F::ContentLength, 3},
      {"http10_until_close", resp("HTTP/1.0 200 OK", ""), "GET", kDone, F::UntilClose, 0, false},
      {"http10_cl_not_keep_alive", resp("HTTP/1.0 200 OK", "Content-Length: 2\r\n"), "GET", kDone,
       F::ContentLength, 2, false},
      {"http10_keep_alive", resp("HTTP/1.0 200 OK", "Content-Length: 2\r\nConnection: keep-alive\r\n"), "GET", kDone,
       F::ContentLength, 2, true},
      {"connection_close", resp("HTTP/1.1 200 OK", "Content-Length: 2\r\nConnection: close\r\n"), "GET", kDone,
       F::ContentLength, 2, false},
      {"http11_higher_minor", resp("HTTP/1.2 200 OK", "Content-Length: 1\r\n"), "GET", kDone, F::ContentLength, 1},
      {"status_599", resp("HTTP/1.1 599 Odd", "Content-Length: 0\r\n"), "GET", kDone},
      {"incomplete", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"s, "GET", kNeedMore},
      {"incomplete_status", "HTTP/1.1 20"s, "GET", kNeedMore},
      // --- errors
      {"te_and_cl", resp("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), "GET", 502},
      {"te_gzip", resp("HTTP/1.1 200 OK", "Transfer-Encoding: gzip\r\n"), "GET", 502},
      {"te_chunked_not_last", resp("HTTP/1.1 200 OK", "Transfer-Encoding: chunked, gzip\r\n"), "GET", 502},
      {"te_http10", resp("HTTP/1.0 200 OK", "Transfer-Encoding: chunked\r\n"), "GET", 502},
      {"cl_twice", resp("HTTP/1.1 200 OK", "Content-Length: 5\r\nContent-Length: 5\r\n"), "GET", 502},
      {"cl_list", resp("HTTP/1.1 200 OK", "Content-Length: 5, 6\r\n"), "GET", 502},
      {"cl_malformed", resp("HTTP/1.1 200 OK", "Content-Length: 5x\r\n"), "GET", 502},
      {"two_digit_status", resp("HTTP/1.1 20 OK", ""), "GET", 502},
      {"four_digit_status", resp("HTTP/1.1 2000 OK", ""), "GET", 502},
      {"status_099", resp("HTTP/1.1 099 X", ""), "GET", 502},
      {"status_600", resp("HTTP/1.1 600 X", ""), "GET", 502},
      {"double_sp", resp("HTTP/1.1  200 OK", ""), "GET", 502},
      {"http2_version", resp("HTTP/2.0 200 OK", ""), "GET", 502},
      {"http09_version", resp("HTTP/0.9 200 OK", ""), "GET", 502},
      {"lowercase_version", resp("http/1.1 200 OK", ""), "GET", 502},
      {"bare_lf_status_line", "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"s, "GET", 502},
      {"bare_lf_header", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n"s, "GET", 502},
      {"nul_in_header", resp("HTTP/1.1 200 OK", "X: a\0b\r\n"s), "GET", 502},
      {"ctl_in_reason", resp("HTTP/1.1 200 O\x01K", ""), "GET", 502},
      {"obs_fold", resp("HTTP/1.1 200 OK", "X: a\r\n b\r\n"), "GET", 502},
      {"space_before_colon", resp("HTTP/1.1 200 OK", "Content-Length : 5\r\n"), "GET", 502},
      {"status_line_too_long", resp("HTTP/1.1 200 " + std::string(200, 'r'), ""), "GET", 502},
      {"head_too_large", resp("HTTP/1.1 200 OK", [] {
         std::string s;
         for (int i = 0; i < 8; ++i) s += "X" + std::to_string(i) + ": " + std::string(200, 'v') + "\r\n";
         return s;
       }()), "GET", 502},
      {"too_many_headers", resp("HTTP/1.1 200 OK", [] {
         std::string s;
         for (int i = 0; i < 11; ++i) s += "X" + std::to_string(i) + ": v\r\n";
         return s;
       }()), "GET", 502},
  };
}

class ResponseCases : public ::testing::TestWithParam<RespCase> {};

int verdict(ParseStatus st, const ParseError& err) {
  if (st == ParseStatus::Done) return kDone;
  if (st == ParseStatus::NeedMore) return kNeedMore;
  return err.status;
}

TEST_P(ResponseCases, WholeBuffer) {
  const RespCase& c = GetParam();
  ResponseHead head;
  ParseError err;
  const ParseStatus st = parseResponseHead(c.raw, c.method, testLimits(), head, err);
  ASSERT_EQ(verdict(st, err), c.expect) << c.name << ": " << err.reason;
  if (st == ParseStatus::Done) {
    EXPECT_EQ(head.framing, c.framing);
    EXPECT_EQ(head.content_length, c.content_length);
    EXPECT_EQ(head.keep_alive, c.keep_alive);
    EXPECT_EQ(head.head_size, c.raw.size());
  }
}

TEST_P(ResponseCases, EveryPrefixAgreesWithWholeBuffer) {
  const RespCase& c = GetParam();
  ResponseHead whole;
  ParseError whole_err;
  const ParseStatus ws = parseResponseHead(c.raw, c.method, testLimits(), whole, whole_err);
  bool decided = false;
  for (size_t k = 0; k <= c.raw.size(); ++k) {
    ResponseHead head;
    ParseError err;
    const ParseStatus st = parseResponseHead(std::string_view(c.raw).substr(0, k), c.method, testLimits(), head, err);
    if (st == ParseStatus::NeedMore) {
      ASSERT_FALSE(decided) << c.name << " at prefix " << k;
      continue;
    }
    decided = true;
    ASSERT_EQ(verdict(st, err), verdict(ws, whole_err)) << c.name << " at prefix " << k;
    if (st == ParseStatus::Error) {
      EXPECT_STREQ(err.reason, whole_err.reason) << c.name << " at prefix " << k;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, ResponseCases, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<RespCase>& i) { return std::string(i.param.name); });

TEST(ResponseHead, FieldsAreParsed) {
  const std::string raw = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found";
  ResponseHead h;
  ParseError err;
  ASSERT_EQ(parseResponseHead(raw, "GET", testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(h.reason, "Not Found");
  EXPECT_EQ(h.version_minor, 1);
  EXPECT_EQ(h.head_size, raw.size() - 9);
  ASSERT_NE(h.find("content-type"), nullptr);
  EXPECT_EQ(h.find("content-type")->value, "text/plain");
}

TEST(ResponseHead, InterimThenFinalInOneBuffer) {
  const std::string raw = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  ResponseHead h;
  ParseError err;
  ASSERT_EQ(parseResponseHead(raw, "POST", testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.status, 100);
  std::string_view rest = std::string_view(raw).substr(h.head_size);
  ASSERT_EQ(parseResponseHead(rest, "POST", testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.status, 201);
  EXPECT_EQ(rest.substr(h.head_size), "ok");
}

}  // namespace
}  // namespace rampart::gateway::http
