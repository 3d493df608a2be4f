// Table-driven tests of parseRequestHead: valid requests of every form, request
// smuggling cases (CL.TE, TE.CL, TE.TE obfuscations) and limits, each with the status
// a client must get. Every case is also fed one byte at a time (every prefix) and
// must give the same verdict as the whole buffer.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "gateway/http/parser.h"

namespace rampart::gateway::http {
namespace {

using namespace std::string_literals;

constexpr int kDone = 0;
constexpr int kNeedMore = -1;

struct ReqCase {
  const char* name;
  std::string raw;
  int expect;  // kDone, kNeedMore or the error status
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
};

Limits testLimits() {
  Limits l;
  l.max_request_line = 256;
  l.max_header_bytes = 2048;
  l.max_headers = 20;
  l.max_header_line = 512;
  l.max_body = 1 << 20;
  return l;
}

std::string req(std::string_view line, std::string_view fields) {
  std::string s(line);
  s += "\r\n";
  s += fields;
  s += "\r\n";
  return s;
}
std::string get11(std::string_view fields) { return req("GET / HTTP/1.1", "Host: example.com\r\n"s + std::string(fields)); }
std::string post11(std::string_view fields) {
  return req("POST /submit HTTP/1.1", "Host: example.com\r\n"s + std::string(fields));
}

const std::string kLongTarget = "/" + std::string(300, 'a');

std::vector<ReqCase> cases() {
  using F = BodyFraming;
  std::vector<ReqCase> v = {
      // --- valid requests
      {"simple_get", get11(""), kDone},
      {"get_http10_no_host", req("GET / HTTP/1.0", ""), kDone},
      {"get_http10_with_host", req("GET / HTTP/1.0", "Host: a\r\n"), kDone},
      {"post_content_length", post11("Content-Length: 5\r\n"), kDone, F::ContentLength, 5},
      {"post_chunked", post11("Transfer-Encoding: chunked\r\n"), kDone, F::Chunked},
      {"post_chunked_uppercase", post11("Transfer-Encoding: CHUNKED\r\n"), kDone, F::Chunked},
      {"post_chunked_tab_ows", post11("Transfer-Encoding:\tchunked\t\r\n"), kDone, F::Chunked},
      {"post_chunked_no_ows", post11("Transfer-Encoding:chunked\r\n"), kDone, F::Chunked},
      {"content_length_zero", post11("Content-Length: 0\r\n"), kDone, F::None, 0},
      {"content_length_leading_zeros", post11("Content-Length: 007\r\n"), kDone, F::ContentLength, 7},
      {"content_length_trailing_ows", post11("Content-Length: 5  \r\n"), kDone, F::ContentLength, 5},
      {"content_length_at_max_body", post11("Content-Length: 1048576\r\n"), kDone, F::ContentLength, 1048576},
      {"one_leading_crlf", "\r\n" + get11(""), kDone},
      {"eight_leading_crlf", std::string(16, ' ').replace(0, 16, "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n") + get11(""), kDone},
      {"options_asterisk", req("OPTIONS * HTTP/1.1", "Host: a\r\n"), kDone},
      {"connect_authority", req("CONNECT example.com:443 HTTP/1.1", "Host: example.com:443\r\n"), kDone},
      {"connect_ipv6", req("CONNECT [::1]:443 HTTP/1.1", "Host: [::1]:443\r\n"), kDone},
      {"absolute_form_http", req("GET http://example.com/x?y=1 HTTP/1.1", "Host: example.com\r\n"), kDone},
      {"absolute_form_https_port_query", req("GET https://example.com:8443?q HTTP/1.1", "Host: x\r\n"), kDone},
      {"absolute_form_upper_scheme", req("GET HTTP://example.com/ HTTP/1.1", "Host: x\r\n"), kDone},
      {"lowercase_method_is_a_token", req("get / HTTP/1.1", "Host: a\r\n"), kDone},
      {"extension_method", req("PURGE /cache HTTP/1.1", "Host: a\r\n"), kDone},
      {"method_with_tchar_symbols", req("M-SEARCH /x HTTP/1.1", "Host: a\r\n"), kDone},
      {"asterisk_with_extension_method_400", req("M-SEARCH * HTTP/1.1", "Host: a\r\n"), 400},
      {"obs_text_in_value", get11("X-Name: caf\xc3\xa9\r\n"), kDone},
      {"tab_inside_value", get11("X-A: a\tb\r\n"), kDone},
      {"empty_value", get11("X-Empty:\r\n"), kDone},
      {"empty_value_ows_only", get11("X-Empty:   \r\n"), kDone},
      {"underscore_te_is_another_header", post11("Transfer_Encoding: chunked\r\n"), kDone, F::None},
      {"host_with_port", req("GET / HTTP/1.1", "Host: example.com:8080\r\n"), kDone},
      {"host_ipv6", req("GET / HTTP/1.1", "Host: [2001:db8::1]:8080\r\n"), kDone},
      {"host_empty_allowed", req("GET / HTTP/1.1", "Host:\r\n"), kDone},
      {"host_pct_encoded", req("GET / HTTP/1.1", "Host: a%2Db.example\r\n"), kDone},
      {"query_with_specials", req("GET /a?b=c&d=%20|{}\"<> HTTP/1.1", "Host: a\r\n"), kDone},
      {"expect_100_continue", post11("Expect: 100-continue\r\nContent-Length: 3\r\n"), kDone, F::ContentLength, 3},
      {"expect_100_continue_case", post11("Expect: 100-Continue\r\nContent-Length: 3\r\n"), kDone, F::ContentLength, 3},
      {"connection_upgrade", get11("Connection: Upgrade\r\nUpgrade: websocket\r\n"), kDone},
      {"connection_list_empty_elements", get11("Connection: , close,,\r\n"), kDone},
      {"http10_keep_alive", req("GET / HTTP/1.0", "Connection: keep-alive\r\n"), kDone},
      {"content_length_max_u64_no_limit_is_413", post11("Content-Length: 18446744073709551615\r\n"), 413},
      {"twenty_headers_at_limit",
       req("GET / HTTP/1.1",
           "Host: a\r\n" + [] {
             std::string s;
             for (int i = 0; i < 19; ++i) s += "X-H" + std::to_string(i) + ": v\r\n";
             return s;
           }()),
       kDone},

      // --- incomplete
      {"incomplete_request_line", "GET / HTT"s, kNeedMore},
      {"incomplete_headers", "GET / HTTP/1.1\r\nHost: a\r\n"s, kNeedMore},
      {"incomplete_final_cr", "GET / HTTP/1.1\r\nHost: a\r\n\r"s, kNeedMore},
      {"empty_input", ""s, kNeedMore},
      {"only_crlf", "\r\n"s, kNeedMore},

      // --- request line
      {"double_sp_after_method", req("GET  / HTTP/1.1", "Host: a\r\n"), 400},
      {"double_sp_before_version", req("GET /  HTTP/1.1", "Host: a\r\n"), 400},
      {"trailing_sp_after_version", req("GET / HTTP/1.1 ", "Host: a\r\n"), 400},
      {"tab_separator", req("GET\t/ HTTP/1.1", "Host: a\r\n"), 400},
      {"leading_sp", req(" GET / HTTP/1.1", "Host: a\r\n"), 400},
      {"request_line_bare_lf", "GET / HTTP/1.1\nHost: a\r\n\r\n"s, 400},
      {"request_line_bare_cr", "GET / HTTP/1.1\rHost: a\r\n\r\n"s, 400},
      {"request_line_cr_cr_lf", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"s, 400},
      {"http09_request", "GET /\r\n\r\n"s, 400},
      {"missing_target", req("GET HTTP/1.1", "Host: a\r\n"), 400},
      {"invalid_method_char", req("G(T / HTTP/1.1", "Host: a\r\n"), 400},
      {"method_with_nul", req("GE\0T / HTTP/1.1"s, "Host: a\r\n"), 400},
      {"method_non_ascii", req("G\xc9T / HTTP/1.1", "Host: a\r\n"), 400},
      {"target_ctl", req("GET /a\x01z HTTP/1.1", "Host: a\r\n"), 400},
      {"target_nul", req("GET /a\0z HTTP/1.1"s, "Host: a\r\n"), 400},
      {"target_del", req("GET /a\x7fz HTTP/1.1", "Host: a\r\n"), 400},
      {"target_non_ascii", req("GET /caf\xc3\xa9 HTTP/1.1", "Host: a\r\n"), 400},
      {"target_tab", req("GET /a\tb HTTP/1.1", "Host: a\r\n"), 400},
      {"target_vt", req("GET /a\x0b HTTP/1.1", "Host: a\r\n"), 400},
      {"target_too_long_414", req("GET " + kLongTarget + " HTTP/1.1", "Host: a\r\n"), 414},
      {"method_too_long_400", req(std::string(300, 'G') + " / HTTP/1.1", "Host: a\r\n"), 400},
      {"version_over_line_limit_400", req("GET /" + std::string(246, 'a') + " HTTP/1.1", "Host: a\r\n"), 400},
      {"http20_505", req("GET / HTTP/2.0", "Host: a\r\n"), 505},
      {"http09_version_505", req("GET / HTTP/0.9", "Host: a\r\n"), 505},
      {"http12_505", req("GET / HTTP/1.2", "Host: a\r\n"), 505},
      {"http31_505", req("GET / HTTP/3.1", "Host: a\r\n"), 505},
      {"lowercase_version_400", req("GET / http/1.1", "Host: a\r\n"), 400},
      {"version_extra_char_400", req("GET / HTTP/1.1x", "Host: a\r\n"), 400},
      {"version_two_digit_minor_400", req("GET / HTTP/1.10", "Host: a\r\n"), 400},
      {"version_no_dot_400", req("GET / HTTP/11", "Host: a\r\n"), 400},
      {"version_short_400", req("GET / HTTP/1.", "Host: a\r\n"), 400},
      {"version_https_400", req("GET / HTTPS/1.1", "Host: a\r\n"), 400},
      {"nine_leading_crlf_400", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n" + get11(""), 400},
      {"leading_bare_lf_400", "\n" + get11(""), 400},
      {"leading_sp_line_400", " \r\n" + get11(""), 400},

      // --- request-target forms
      {"asterisk_with_get_400", req("GET * HTTP/1.1", "Host: a\r\n"), 400},
      {"connect_origin_form_400", req("CONNECT /x HTTP/1.1", "Host: a\r\n"), 400},
      {"connect_without_port_400", req("CONNECT example.com HTTP/1.1", "Host: a\r\n"), 400},
      {"connect_ipv6_without_port_400", req("CONNECT [::1] HTTP/1.1", "Host: a\r\n"), 400},
      {"connect_ipv6_empty_port_400", req("CONNECT [::1]: HTTP/1.1", "Host: a\r\n"), 400},
      {"connect_empty_port_400", req("CONNECT example.com: HTTP/1.1", "Host: a\r\n"), 400},
      {"connect_with_path_400", req("CONNECT example.com:443/x HTTP/1.1", "Host: a\r\n"), 400},
      {"authority_form_without_connect_400", req("GET example.com:443 HTTP/1.1", "Host: a\r\n"), 400},
      {"absolute_form_ftp_400", req("GET ftp://example.com/ HTTP/1.1", "Host: a\r\n"), 400},
      {"absolute_form_userinfo_400", req("GET http://user@example.com/ HTTP/1.1", "Host: a\r\n"), 400},
      {"absolute_form_empty_authority_400", req("GET http:///x HTTP/1.1", "Host: a\r\n"), 400},
      {"absolute_form_scheme_only_400", req("GET http:// HTTP/1.1", "Host: a\r\n"), 400},
      {"relative_path_400", req("GET index.html HTTP/1.1", "Host: a\r\n"), 400},

      // --- field lines
      {"space_before_colon", get11("X-A : b\r\n"), 400},
      {"tab_before_colon", get11("X-A\t: b\r\n"), 400},
      {"obs_fold", get11("X-A: a\r\n b\r\n"), 400},
      {"obs_fold_tab", get11("X-A: a\r\n\tb\r\n"), 400},
      {"whitespace_before_first_field", req("GET / HTTP/1.1", " Host: a\r\n"), 400},
      {"nul_in_value", get11("X-A: a\0b\r\n"s), 400},
      {"bare_cr_in_value", get11("X-A: a\rb\r\n"), 400},
      {"bare_lf_between_fields", req("GET / HTTP/1.1", "Host: a\nX-B: b\r\n"), 400},
      {"bare_lf_end_of_head", "GET / HTTP/1.1\r\nHost: a\r\n\n"s, 400},
      {"all_bare_lf", "GET / HTTP/1.1\nHost: a\n\n"s, 400},
      {"cr_cr_end_of_head", "GET / HTTP/1.1\r\nHost: a\r\n\r\r"s, 400},
      {"vt_in_value", get11("X-A: a\x0b b\r\n"), 400},
      {"ff_in_value", get11("X-A: a\x0c b\r\n"), 400},
      {"esc_in_value", get11("X-A: \x1b[0m\r\n"), 400},
      {"del_in_value", get11("X-A: a\x7f\r\n"), 400},
      {"empty_field_name", get11(": value\r\n"), 400},
      {"invalid_name_char", get11("X(A): v\r\n"), 400},
      {"name_with_slash", get11("X/A: v\r\n"), 400},
      {"non_ascii_name", get11("X\xc3\xa9: v\r\n"), 400},
      {"missing_colon", get11("X-A v\r\n"), 400},
      {"name_only_line", get11("X-A\r\n"), 400},
      {"header_line_too_long_431", get11("X-A: " + std::string(600, 'a') + "\r\n"), 431},
      {"header_name_too_long_431", get11(std::string(600, 'N') + ": a\r\n"), 431},
      {"too_many_headers_431",
       req("GET / HTTP/1.1",
           "Host: a\r\n" + [] {
             std::string s;
             for (int i = 0; i < 20; ++i) s += "X-H" + std::to_string(i) + ": v\r\n";
             return s;
           }()),
       431},
      {"head_too_large_431",
       req("GET / HTTP/1.1",
           "Host: a\r\n" + [] {
             std::string s;
             for (int i = 0; i < 10; ++i) s += "X-H" + std::to_string(i) + ": " + std::string(300, 'v') + "\r\n";
             return s;
           }()),
       431},
      {"head_too_large_no_terminator_431", "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(3000, 'v'), 431},

      // --- CL.TE / TE.CL
      {"cl_te", post11("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"te_cl", post11("Transfer-Encoding: chunked\r\nContent-Length: 6\r\n"), 400},
      {"cl_te_zero", post11("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"cl_te_unknown_coding", post11("Content-Length: 4\r\nTransfer-Encoding: xchunked\r\n"), 400},
      // --- TE.TE obfuscations
      {"te_xchunked_501", post11("Transfer-Encoding: xchunked\r\n"), 501},
      {"te_space_before_colon", post11("Transfer-Encoding : chunked\r\n"), 400},
      {"te_chunked_identity", post11("Transfer-Encoding: chunked, identity\r\n"), 400},
      {"te_identity_chunked_501", post11("Transfer-Encoding: identity, chunked\r\n"), 501},
      {"te_gzip_chunked_501", post11("Transfer-Encoding: gzip, chunked\r\n"), 501},
      {"te_gzip_only_501", post11("Transfer-Encoding: gzip\r\n"), 501},
      {"te_chunk_501", post11("Transfer-Encoding: chunk\r\n"), 501},
      {"te_chunked_chunked", post11("Transfer-Encoding: chunked, chunked\r\n"), 400},
      {"te_duplicate_headers", post11("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400},
      {"te_chunked_then_other_header", post11("Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n"), 400},
      {"te_other_then_chunked_header_501", post11("Transfer-Encoding: x\r\nTransfer-Encoding: chunked\r\n"), 501},
      {"te_vertical_tab", post11("Transfer-Encoding:\x0b chunked\r\n"), 400},
      {"te_form_feed", post11("Transfer-Encoding: \x0c" "chunked\r\n"), 400},
      {"te_nul", post11("Transfer-Encoding: chunked\0\r\n"s), 400},
      {"te_empty", post11("Transfer-Encoding: \r\n"), 400},
      {"te_leading_comma", post11("Transfer-Encoding: , chunked\r\n"), 400},
      {"te_trailing_comma", post11("Transfer-Encoding: chunked,\r\n"), 400},
      {"te_with_parameter", post11("Transfer-Encoding: chunked;q=1\r\n"), 400},
      {"te_quoted", post11("Transfer-Encoding: \"chunked\"\r\n"), 400},
      {"te_inner_space", post11("Transfer-Encoding: chun ked\r\n"), 400},
      {"te_obs_fold", post11("Transfer-Encoding:\r\n chunked\r\n"), 400},
      {"te_name_obs_fold", post11("X: y\r\nTransfer-Encoding\r\n : chunked\r\n"), 400},
      {"te_bare_lf_before", post11("X: y\nTransfer-Encoding: chunked\r\n"), 400},
      {"te_http10", req("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\n"), 400},
      {"te_http10_with_cl", req("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n"), 400},
      // --- Content-Length
      {"cl_hex", post11("Content-Length: 0x10\r\n"), 400},
      {"cl_plus", post11("Content-Length: +5\r\n"), 400},
      {"cl_minus", post11("Content-Length: -5\r\n"), 400},
      {"cl_list_same", post11("Content-Length: 5, 5\r\n"), 400},
      {"cl_list_different", post11("Content-Length: 5, 6\r\n"), 400},
      {"cl_duplicate_same", post11("Content-Length: 5\r\nContent-Length: 5\r\n"), 400},
      {"cl_duplicate_different", post11("Content-Length: 5\r\nContent-Length: 6\r\n"), 400},
      {"cl_empty", post11("Content-Length: \r\n"), 400},
      {"cl_overflow", post11("Content-Length: 18446744073709551616\r\n"), 400},
      {"cl_huge", post11("Content-Length: 99999999999999999999999999\r\n"), 400},
      {"cl_inner_space", post11("Content-Length: 1 0\r\n"), 400},
      {"cl_decimal", post11("Content-Length: 5.0\r\n"), 400},
      {"cl_exponent", post11("Content-Length: 1e3\r\n"), 400},
      {"cl_space_before_colon", post11("Content-Length : 5\r\n"), 400},
      {"cl_vt", post11("Content-Length: \x0b" "5\r\n"), 400},
      {"cl_over_max_body_413", post11("Content-Length: 1048577\r\n"), 413},
      // --- Host
      {"missing_host_11", req("GET / HTTP/1.1", "X-A: b\r\n"), 400},
      {"two_hosts", req("GET / HTTP/1.1", "Host: a\r\nHost: b\r\n"), 400},
      {"two_hosts_same", req("GET / HTTP/1.1", "Host: a\r\nHost: a\r\n"), 400},
      {"two_hosts_http10", req("GET / HTTP/1.0", "Host: a\r\nHost: b\r\n"), 400},
      {"host_with_space", req("GET / HTTP/1.1", "Host: a b\r\n"), 400},
      {"host_userinfo", req("GET / HTTP/1.1", "Host: user@a\r\n"), 400},
      {"host_list", req("GET / HTTP/1.1", "Host: a,b\r\n"), 400},
      {"host_bad_port", req("GET / HTTP/1.1", "Host: a:8x\r\n"), 400},
      {"host_slash", req("GET / HTTP/1.1", "Host: a/b\r\n"), 400},
      {"host_backslash", req("GET / HTTP/1.1", "Host: a\\b\r\n"), 400},
      {"host_port_only", req("GET / HTTP/1.1", "Host: :80\r\n"), 400},
      {"host_bad_pct", req("GET / HTTP/1.1", "Host: a%zz\r\n"), 400},
      {"host_unclosed_bracket", req("GET / HTTP/1.1", "Host: [::1\r\n"), 400},
      {"host_obs_text", req("GET / HTTP/1.1", "Host: caf\xc3\xa9\r\n"), 400},
      // --- Expect / Connection
      {"expect_other_417", post11("Expect: something\r\nContent-Length: 3\r\n"), 417},
      {"expect_empty_417", post11("Expect:\r\nContent-Length: 3\r\n"), 417},
      {"connection_non_token", get11("Connection: a b\r\n"), 400},
      // --- more smuggling shapes
      {"h2_prior_knowledge_preface_505", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"s, 505},
      {"cl_te_case_mixed", post11("content-LENGTH: 4\r\nTRANSFER-encoding: Chunked\r\n"), 400},
      {"te_split_chunked_identity", post11("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"), 400},
      {"te_nbsp_obs_text", post11("Transfer-Encoding: \xa0" "chunked\r\n"), 400},
      {"te_chunked_with_trailing_garbage_token", post11("Transfer-Encoding: chunked x\r\n"), 400},
      {"cl_tab_inside", post11("Content-Length: 1\t2\r\n"), 400},
      {"cl_nul_suffix", post11("Content-Length: 12\0\r\n"s), 400},
      {"cl_unicode_digit", post11("Content-Length: \xd9\xa1\r\n"), 400},
      {"header_name_nul", get11("X-\0A: b\r\n"s), 400},
      {"request_line_nul_after_version", "GET / HTTP/1.1\0\r\nHost: a\r\n\r\n"s, 400},
      {"lf_cr_line_ending", "GET / HTTP/1.1\n\rHost: a\r\n\r\n"s, 400},
  };
  return v;
}

void PrintTo(const ReqCase& c, std::ostream* os) { *os << c.name; }

class RequestCases : public ::testing::TestWithParam<ReqCase> {};

int verdict(ParseStatus st, const ParseError& err) {
  if (st == ParseStatus::Done) return kDone;
  if (st == ParseStatus::NeedMore) return kNeedMore;
  return err.status;
}

TEST_P(RequestCases, WholeBuffer) {
  const ReqCase& c = GetParam();
  RequestHead head;
  ParseError err;
  const ParseStatus st = parseRequestHead(c.raw, testLimits(), head, err);
  ASSERT_EQ(verdict(st, err), c.expect) << c.name << " reason: " << err.reason;
  if (st == ParseStatus::Error) {
    EXPECT_TRUE(err.close);
    EXPECT_STRNE(err.reason, "");
  }
  if (st == ParseStatus::Done) {
    EXPECT_EQ(head.framing, c.framing);
    EXPECT_EQ(head.content_length, c.content_length);
    EXPECT_EQ(head.head_size, c.raw.size());  // every table case is exactly one head
    const char* b = c.raw.data();
    const char* e = b + c.raw.size();
    auto inside = [&](std::string_view v) { return v.data() >= b && v.data() + v.size() <= e; };
    EXPECT_TRUE(inside(head.method));
    EXPECT_TRUE(inside(head.target));
    for (const Header& h : head.headers) {
      EXPECT_TRUE(inside(h.name));
      EXPECT_TRUE(inside(h.value));
    }
  }
}

TEST_P(RequestCases, EveryPrefixAgreesWithWholeBuffer) {
  const ReqCase& c = GetParam();
  const Limits lim = testLimits();
  RequestHead whole;
  ParseError whole_err;
  const ParseStatus ws = parseRequestHead(c.raw, lim, whole, whole_err);
  bool decided = false;
  for (size_t k = 0; k <= c.raw.size(); ++k) {
    RequestHead head;
    ParseError err;
    const ParseStatus st = parseRequestHead(std::string_view(c.raw).substr(0, k), lim, head, err);
    if (st == ParseStatus::NeedMore) {
      ASSERT_FALSE(decided) << c.name << ": NeedMore after a verdict at prefix " << k;
      continue;
    }
    decided = true;
    ASSERT_EQ(verdict(st, err), verdict(ws, whole_err)) << c.name << " at prefix " << k << ": " << err.reason;
    if (st == ParseStatus::Error) {
      EXPECT_STREQ(err.reason, whole_err.reason) << c.name << " at prefix " << k;
    }
    if (st == ParseStatus::Done) {
      EXPECT_EQ(head.head_size, whole.head_size);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Table, RequestCases, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<ReqCase>& i) { return std::string(i.param.name); });

// ---- field-level results

RequestHead parseOk(const std::string& raw, Limits lim = testLimits()) {
  RequestHead head;
  ParseError err;
  EXPECT_EQ(parseRequestHead(raw, lim, head, err), ParseStatus::Done) << err.reason;
  return head;
}

TEST(RequestHead, FieldsAreParsed) {
  const std::string raw = "POST /a/b?c=d HTTP/1.1\r\nHost: example.com\r\nX-Trim:  \t value with  spaces \t \r\n"
                          "Content-Length: 12\r\n\r\nbody";
  RequestHead h = parseOk(raw);
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.target, "/a/b?c=d");
  EXPECT_EQ(h.version_major, 1);
  EXPECT_EQ(h.version_minor, 1);
  ASSERT_EQ(h.headers.size(), 3u);
  EXPECT_EQ(h.headers[1].name, "X-Trim");
  EXPECT_EQ(h.headers[1].value, "value with  spaces");
  EXPECT_EQ(h.host, "example.com");
  EXPECT_EQ(h.head_size, raw.size() - 4);
  EXPECT_EQ(h.framing, BodyFraming::ContentLength);
  EXPECT_EQ(h.content_length, 12u);
  ASSERT_NE(h.find("content-LENGTH"), nullptr);
  EXPECT_EQ(h.find("content-length")->value, "12");
  EXPECT_EQ(h.find("missing"), nullptr);
}

TEST(RequestHead, KeepAliveFollowsVersionAndConnection) {
  EXPECT_TRUE(parseOk(get11("")).keep_alive);
  EXPECT_FALSE(parseOk(get11("Connection: close\r\n")).keep_alive);
  EXPECT_FALSE(parseOk(get11("Connection: keep-alive, CLOSE\r\n")).keep_alive);
  EXPECT_FALSE(parseOk(req("GET / HTTP/1.0", "")).keep_alive);
  EXPECT_TRUE(parseOk(req("GET / HTTP/1.0", "Connection: Keep-Alive\r\n")).keep_alive);
  EXPECT_FALSE(parseOk(req("GET / HTTP/1.0", "Connection: keep-alive\r\nConnection: close\r\n")).keep_alive);
}

TEST(RequestHead, UpgradeNeedsConnectionTokenAndHeader) {
  EXPECT_TRUE(parseOk(get11("Connection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n")).upgrade);
  EXPECT_FALSE(parseOk(get11("Connection: upgrade\r\n")).upgrade);
  EXPECT_FALSE(parseOk(get11("Upgrade: websocket\r\n")).upgrade);
  EXPECT_FALSE(parseOk(req("GET / HTTP/1.0", "Connection: upgrade\r\nUpgrade: websocket\r\n")).upgrade);
}

TEST(RequestHead, ExpectContinue) {
  EXPECT_TRUE(parseOk(post11("Expect: 100-CONTINUE\r\nContent-Length: 1\r\n")).expect_continue);
  EXPECT_FALSE(parseOk(post11("Content-Length: 1\r\n")).expect_continue);
  // HTTP/1.0: a server must ignore 100-continue (RFC 9110 10.1.1).
  EXPECT_FALSE(parseOk(req("POST / HTTP/1.0", "Expect: 100-continue\r\nContent-Length: 1\r\n")).expect_continue);
}

TEST(RequestHead, AbsoluteFormHostComesFromTarget) {
  const std::string raw = req("GET http://Target.Example:8080/p?q HTTP/1.1", "Host: other.example\r\n");
  RequestHead h = parseOk(raw);
  EXPECT_EQ(h.host, "Target.Example:8080");
  EXPECT_EQ(h.target, "http://Target.Example:8080/p?q");
  const std::string raw2 = req("GET https://a.example?x HTTP/1.1", "Host: b\r\n");
  EXPECT_EQ(parseOk(raw2).host, "a.example");
}

TEST(RequestHead, LeadingEmptyLinesAreNotPartOfTheRequestLine) {
  const std::string raw = "\r\n\r\n" + get11("");
  RequestHead h = parseOk(raw);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.head_size, raw.size());
}

TEST(RequestHead, LimitBoundariesAreExact) {
  Limits lim = testLimits();
  // request line exactly max_request_line bytes is fine, one more is 414 (target) or 400.
  std::string line = "GET /" + std::string(lim.max_request_line - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), lim.max_request_line);
  parseOk(req(line, "Host: a\r\n"), lim);
  RequestHead h;
  ParseError err;
  line = "GET /" + std::string(lim.max_request_line - 13, 'a') + " HTTP/1.1";
  EXPECT_EQ(parseRequestHead(req(line, "Host: a\r\n"), lim, h, err), ParseStatus::Error);
  EXPECT_EQ(err.status, 400);  // the version does not fit: not the target's fault
  // header line exactly max_header_line bytes is fine, one more is 431.
  std::string field = "X: " + std::string(lim.max_header_line - 3, 'v');
  parseOk(get11(field + "\r\n"), lim);
  EXPECT_EQ(parseRequestHead(get11(field + "v\r\n"), lim, h, err), ParseStatus::Error);
  EXPECT_EQ(err.status, 431);
  // whole head exactly max_header_bytes is fine, one more byte is 431.
  std::string raw = get11("X: ");
  const size_t pad = lim.max_header_bytes - raw.size() - 2;
  raw = get11("X: " + std::string(pad, 'v') + "\r\n");
  ASSERT_EQ(raw.size(), lim.max_header_bytes);
  lim.max_header_line = lim.max_header_bytes;
  parseOk(raw, lim);
  raw = get11("X: " + std::string(pad + 1, 'v') + "\r\n");
  EXPECT_EQ(parseRequestHead(raw, lim, h, err), ParseStatus::Error);
  EXPECT_EQ(err.status, 431);
}

TEST(RequestHead, UnlimitedBodyAcceptsLargeContentLength) {
  Limits lim = testLimits();
  lim.max_body = 0;
  RequestHead h = parseOk(post11("Content-Length: 18446744073709551615\r\n"), lim);
  EXPECT_EQ(h.content_length, 18446744073709551615ull);
}

TEST(RequestHead, ReusedHeadIsReset) {
  RequestHead h;
  ParseError err;
  ASSERT_EQ(parseRequestHead(post11("Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n"), testLimits(), h, err),
            ParseStatus::Done);
  ASSERT_EQ(parseRequestHead(req("GET / HTTP/1.0", ""), testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.framing, BodyFraming::None);
  EXPECT_FALSE(h.expect_continue);
  EXPECT_TRUE(h.headers.empty());
  EXPECT_EQ(h.host, "");
}

TEST(RequestHead, PipelinedRequestsInOneBuffer) {
  const std::string a = get11("X-N: 1\r\n");
  const std::string b = post11("Content-Length: 5\r\n");
  const std::string c = req("GET /third HTTP/1.1", "Host: c\r\n");
  const std::string buf = a + b + "hello" + c;
  std::string_view rest = buf;
  RequestHead h;
  ParseError err;
  ASSERT_EQ(parseRequestHead(rest, testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.head_size, a.size());
  EXPECT_EQ(h.find("X-N")->value, "1");
  rest.remove_prefix(h.head_size);
  ASSERT_EQ(parseRequestHead(rest, testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.method, "POST");
  ASSERT_EQ(h.framing, BodyFraming::ContentLength);
  rest.remove_prefix(h.head_size);
  EXPECT_EQ(rest.substr(0, h.content_length), "hello");
  rest.remove_prefix(h.content_length);
  ASSERT_EQ(parseRequestHead(rest, testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.target, "/third");
  EXPECT_EQ(h.head_size, rest.size());
}

TEST(RequestHead, PipelinedChunkedThenGet) {
  const std::string buf = post11("Transfer-Encoding: chunked\r\n") + "3\r\nabc\r\n0\r\n\r\n" + get11("");
  std::string_view rest = buf;
  RequestHead h;
  ParseError err;
  ASSERT_EQ(parseRequestHead(rest, testLimits(), h, err), ParseStatus::Done);
  ASSERT_EQ(h.framing, BodyFraming::Chunked);
  rest.remove_prefix(h.head_size);
  ChunkedDecoder dec(testLimits());
  std::string body;
  for (;;) {
    auto step = dec.feed(rest, err);
    body.append(step.data);
    rest.remove_prefix(step.consumed);
    ASSERT_NE(step.status, ParseStatus::Error) << err.reason;
    if (step.status == ParseStatus::Done) break;
    ASSERT_FALSE(rest.empty());
  }
  EXPECT_EQ(body, "abc");
  ASSERT_EQ(parseRequestHead(rest, testLimits(), h, err), ParseStatus::Done);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.head_size, rest.size());
}

TEST(RequestHead, HeadMayHaveEndedOnlyOnNewLineEndsOrOverflow) {
  Limits lim = testLimits();
  const std::string raw = get11("");
  EXPECT_FALSE(headMayHaveEnded(std::string_view(raw).substr(0, 5), 0, lim));
  EXPECT_TRUE(headMayHaveEnded(std::string_view(raw).substr(0, 16), 5, lim));  // "GET / HTTP/1.1\r\n"
  EXPECT_FALSE(headMayHaveEnded(std::string_view(raw).substr(0, 20), 16, lim));
  EXPECT_FALSE(headMayHaveEnded(raw, raw.size(), lim));
  const std::string big(lim.max_header_bytes + 1, 'a');
  EXPECT_TRUE(headMayHaveEnded(big, big.size(), lim));
  // Driving the parser only when the pre-check says so gives the same verdict.
  RequestHead h;
  ParseError err;
  ParseStatus st = ParseStatus::NeedMore;
  size_t prev = 0, calls = 0;
  for (size_t k = 1; k <= raw.size() && st == ParseStatus::NeedMore; ++k) {
    if (!headMayHaveEnded(std::string_view(raw).substr(0, k), prev, lim)) continue;
    prev = k;
    ++calls;
    st = parseRequestHead(std::string_view(raw).substr(0, k), lim, h, err);
  }
  EXPECT_EQ(st, ParseStatus::Done);
  EXPECT_EQ(calls, 3u);  // one per line end
}

// The parser skips valid bytes 8 at a time; a bad byte must be caught at every offset.
TEST(RequestHead, EveryByteValueAtEveryOffsetOfAValueAndTarget) {
  const Limits lim = testLimits();
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const bool value_ok = b == '\t' || (b >= 0x20 && b != 0x7f);
    const bool target_ok = b > 0x20 && b < 0x7f;
    for (size_t off = 0; off < 20; ++off) {
      std::string value(24, 'v');
      value[off] = c;
      RequestHead h;
      ParseError err;
      const std::string r1 = get11("X-V: " + value + "\r\n");
      ParseStatus st = parseRequestHead(r1, lim, h, err);
      if (b == '\r' || b == '\n') {
        ASSERT_EQ(st, ParseStatus::Error) << b << " at " << off;
      } else {
        ASSERT_EQ(st == ParseStatus::Done, value_ok) << "value byte " << b << " at " << off;
        if (value_ok) {
          const bool trimmed = off == 0 && (b == ' ' || b == '\t');  // leading OWS
          ASSERT_EQ(h.find("X-V")->value.size(), trimmed ? 23u : 24u);
        } else {
          ASSERT_EQ(err.status, 400);
        }
      }
      std::string target = "/" + std::string(23, 't');
      target[off + 1] = c;
      const std::string r2 = req("GET " + target + " HTTP/1.1", "Host: a\r\n");
      st = parseRequestHead(r2, lim, h, err);
      ASSERT_EQ(st == ParseStatus::Done, target_ok) << "target byte " << b << " at " << off;
      if (target_ok) {
        ASSERT_EQ(h.target, target);
      }
    }
  }
}

// The classic CL.TE smuggling payload: a front end using CL would forward "0\r\n\r\nG"
// as body; one using TE would see a request starting with "G". We refuse the head.
TEST(RequestHead, ClassicClTePayloadIsRefused) {
  const std::string raw =
      "POST / HTTP/1.1\r\nHost: vulnerable.example\r\nContent-Length: 13\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\nSMUGGLED";
  RequestHead h;
  ParseError err;
  EXPECT_EQ(parseRequestHead(raw, testLimits(), h, err), ParseStatus::Error);
  EXPECT_EQ(err.status, 400);
  EXPECT_TRUE(err.close);
}

// Field names and values of every length around the parser's 16-byte steps, with
// one byte they may not hold at any position (or none): the verdict and the fields
// are what the grammar says, wherever the byte falls.
TEST(RequestHead, FieldBytesAreCheckedAtEveryPosition) {
  std::mt19937 rng(7);
  auto pick = [&](std::string_view from) { return from[rng() % from.size()]; };
  const std::string tchar = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-!#$%&'*+.^_`|~";
  std::string vchar = tchar + " \t\"(),/:;<=>?@[\\]{}";
  for (int c = 0x80; c <= 0xff; c += 13) vchar.push_back(static_cast<char>(c));
  const std::string not_tchar = std::string("\"(),/;<=>?@[\\]{} \t\x7f\x01\x80\xff", 20);
  const std::string not_vchar = std::string("\x00\x01\x08\x0b\x0c\x1f\x7f", 7);
  for (int iter = 0; iter < 4000; ++iter) {
    std::string fields;
    std::vector<std::pair<std::string, std::string>> want;
    const int bad_at = static_cast<int>(rng() % 8);  // which field holds the bad byte (none when past the last)
    const int nfields = 1 + static_cast<int>(rng() % 6);
    bool bad = false;
    for (int f = 0; f < nfields; ++f) {
      std::string name = "x-";
      const size_t nlen = rng() % 40;
      for (size_t i = 0; i < nlen; ++i) name.push_back(pick(tchar));
      std::string value;
      const size_t vlen = rng() % 70;
      for (size_t i = 0; i < vlen; ++i) value.push_back(pick(vchar));
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.erase(0, 1);
      while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
      if (f == bad_at) {
        bad = true;
        if (rng() % 2) name.insert(1 + rng() % name.size(), 1, pick(not_tchar));
        else value.insert(rng() % (value.size() + 1), 1, pick(not_vchar));
      }
      fields += name + ": " + value + "\r\n";
      want.emplace_back(name, value);
    }
    const std::string raw = get11(fields);
    RequestHead h;
    ParseError err;
    const ParseStatus st = parseRequestHead(raw, testLimits(), h, err);
    if (bad) {
      ASSERT_EQ(st, ParseStatus::Error) << iter << ": " << raw;
      EXPECT_EQ(err.status, 400) << iter;
      continue;
    }
    ASSERT_EQ(st, ParseStatus::Done) << iter << ": " << err.reason << "\n" << raw;
    ASSERT_EQ(h.headers.size(), want.size() + 1) << iter;
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_EQ(h.headers[i + 1].name, want[i].first) << iter;
      EXPECT_EQ(h.headers[i + 1].value, want[i].second) << iter;
    }
  }
}

}  // namespace
}  // namespace rampart::gateway::http
